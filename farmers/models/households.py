"""Households and who they are: members, consent, deduplication keys and possible duplicates."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import display
from registry.crypto import (
    PURPOSE_DOCUMENT,
    PURPOSE_PHONE,
    BlindIndexField,
    EncryptedCharField,
)
from registry.ids import new_id
from registry.models import (
    CreatedByModel,
    District,
    IdempotentModel,
    Program,
    VersionedModel,
    by_column,
)

from ..choices import (
    DocumentType,
    DuplicateStatus,
    HouseholdStatus,
    Relationship,
    Sex,
    Stage,
)

HA = {"max_digits": 10, "decimal_places": 4, "validators": [MinValueValidator(Decimal("0"))]}

# What a person is, as registered, corrected and shown: the member's own fields, in the order
# every form, serializer, admin inline, seeder and benchmark uses (the one list; see Member).
MEMBER_FIELDS = (
    "given_names",
    "surnames",
    "document_type",
    "document_number",
    "sex",
    "birth_date",
    "relationship",
    "phone",
)


class Household(VersionedModel, IdempotentModel, CreatedByModel):
    """A farming family registered in a programme, in one district (``created_by``: who
    registered it)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    code = models.CharField(_("code"), max_length=16, editable=False)
    # Every index here is written by each stage move of the nightly sweep, so none duplicates
    # another: ``program`` and ``district`` are reached through the composite indexes that lead
    # with them, and ``code`` and ``head_name_search`` have one index each (see ``Meta``).
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("programme"),
        db_index=False,
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("district"),
        db_index=False,
    )
    community = models.CharField(_("community"), max_length=150, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=HouseholdStatus.choices,
        default=HouseholdStatus.PENDING_REVIEW,
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.ENROLLED
    )
    stage_since = models.DateField(_("stage since"), default=timezone.localdate)
    # The day the family enrolled: its consent's date, or an earlier date an import gives;
    # empty for a household registered without consent (its creation day counts then, see
    # ``farmers.enrolment``). No evidence and no milestone may precede it.
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True, editable=False)
    # Each stage criterion with the date it was met (set by the transition engine).
    milestones = models.JSONField(_("milestones"), default=dict, blank=True, editable=False)
    # Denormalised from the head member, for lists and search without a join.
    head_name = models.CharField(_("head of household"), max_length=250, blank=True)
    head_name_search = models.CharField(max_length=250, blank=True, editable=False)
    # The active head's sex and birth date, for the annual report's disaggregation without a
    # join on members (kept by ``farmers.services.head``; ``db_default``: the bulk seeders and
    # old rows get them from the migration's backfill or ``refresh_head_profile``).
    head_sex = models.CharField(
        _("head's sex"),
        max_length=1,
        choices=Sex.choices,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    head_birth_date = models.DateField(
        _("head's birth date"), null=True, blank=True, editable=False
    )
    # Every word of every active member's names, normalised, once each, sorted, each after a
    # space (``farmers.identity.search_words``): what ``?q=`` searches, by the beginning of
    # words, through the trigram index ``hh_names_trgm_idx`` (farmers 0031, PostgreSQL).
    # ``db_default`` too: the bulk seeders COPY households with a list of columns.
    names_search = models.TextField(blank=True, default="", db_default="", editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="merged_from",
        null=True,
        blank=True,
        verbose_name=_("merged into"),
    )
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # The import file's own reference for the family (``household_ref``), unique per programme
    # where set: what makes a re-import find it. Ids themselves are random (uuid4), never
    # derived from this reference.
    # ``db_default`` too: the bulk seeders COPY households without this column.
    import_ref = models.CharField(
        _("import reference"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    reviewed_by = by_column(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Not ``auto_now``: only a new version (``touch()``) or a stage move changes it.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [
            models.Index(fields=["district", "stage", "created_at"], name="hh_district_stage_idx"),
            models.Index(fields=["program", "stage", "created_at"], name="hh_program_stage_idx"),
            models.Index(fields=["status", "created_at"], name="hh_status_idx"),
            models.Index(fields=["stage", "created_at"], name="hh_stage_idx"),
            # Covering: a search walks it in the list's order and tests the words and the area
            # on the index alone (``CursorPagination``'s keys first), never the table.
            models.Index(
                fields=["created_at", "id"],
                name="hh_created_idx",
                include=["district", "program", "names_search"],
            ),
            models.Index(fields=["updated_at"], name="hh_updated_idx"),
            # Prefix search (``startswith``) only: ``LIKE 'x%'`` needs the pattern operator class
            # under a non-C collation.
            models.Index(
                fields=["head_name_search"],
                name="hh_name_search_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]
        # A constraint rather than ``unique=True``: the same unique index, without the
        # ``varchar_pattern_ops`` twin Django adds for unique text fields (codes are matched
        # exactly, never by prefix).
        constraints = [
            models.UniqueConstraint(fields=["code"], name="hh_code_uniq"),
            # Also the import's lookup index; partial, so API registrations add no entry.
            models.UniqueConstraint(
                fields=["program", "import_ref"],
                condition=~Q(import_ref=""),
                name="hh_import_ref_uniq",
                violation_error_message=_("This import reference is already used here."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.head_name}"

    @property
    def is_live(self) -> bool:
        """Pending or active: its members' IDs are taken."""
        return self.status in (HouseholdStatus.PENDING_REVIEW, HouseholdStatus.ACTIVE)


class Member(models.Model):
    """A person in a household, with an identity document; exactly one is the head."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("household")
    )
    given_names = models.CharField(_("given names"), max_length=120)
    surnames = models.CharField(_("surnames"), max_length=120)
    document_type = models.CharField(
        _("document type"), max_length=8, choices=DocumentType.choices, blank=True
    )
    # Encrypted at rest (registry.crypto); exact lookups go through document_index.
    document_number = EncryptedCharField(_("document number"), purpose=PURPOSE_DOCUMENT, blank=True)
    document_index = BlindIndexField(
        _("document blind index"), source="document_number", purpose=PURPOSE_DOCUMENT
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship.choices)
    phone = EncryptedCharField(_("phone"), purpose=PURPOSE_PHONE, blank=True)
    phone_index = BlindIndexField(_("phone blind index"), source="phone", purpose=PURPOSE_PHONE)
    is_head = models.BooleanField(_("head of household"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # True while the member is active in a live household: its document is then taken.
    is_live = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_head", "birth_date", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [
            # Exact lookup by ID number (search, lookup, duplicate check, import dedup).
            models.Index(fields=["document_index"], name="member_document_index_idx"),
            models.Index(fields=["phone_index"], name="member_phone_index_idx"),
        ]
        constraints = [
            # A DNI has 8 digits and a CE 9 to 12 characters: the number alone identifies it.
            models.UniqueConstraint(
                fields=["document_index"],
                condition=Q(is_live=True) & ~Q(document_index=""),
                name="member_live_document_unique",
                violation_error_message=_("This ID is already registered in another household."),
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(is_head=True, is_active=True),
                name="member_one_head",
                violation_error_message=_("A household has exactly one head."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_names} {self.surnames}"


class DedupKey(models.Model):
    """A blocking key of a live household's member: households sharing a key are compared.

    Derived rows, written only with their household by the services (``services.dedup``, the
    import's ``COPY``) and deleted with it by the ORM's cascade (a household with members is
    never deleted: they are protected). The foreign key has no database constraint: its
    deferred check at commit cost half as much as writing the keys (an import of 50,000
    households writes about 630,000 of them; issue 18). Readers keep only live households, so
    a key could never surface a household that is gone."""

    household = models.ForeignKey(
        Household,
        on_delete=models.CASCADE,
        related_name="dedup_keys",
        verbose_name=_("household"),
        db_constraint=False,
    )
    key = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("deduplication key")
        verbose_name_plural = _("deduplication keys")
        # Two indexes only (the key's, and the household's of the foreign key): the writers
        # store each household's keys as a set, so no unique (household, key) index is kept —
        # it cost two thirds of the time of writing the keys (issue 18, the import benchmark).
        indexes = [models.Index(fields=["key"], name="dedup_key_idx")]

    def __str__(self) -> str:
        return self.key


class PossibleDuplicate(models.Model):
    """A near match between two households, waiting for staff to dismiss or merge it."""

    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="possible_duplicates",
        verbose_name=_("household"),
    )
    candidate = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    score = models.DecimalField(_("similarity"), max_digits=4, decimal_places=3)
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=12, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    resolved_by = by_column(_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        indexes = [models.Index(fields=["status", "-created_at"], name="dup_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["household", "candidate"], name="dup_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.household.code} ≈ {self.candidate.code}"


class Consent(CreatedByModel):
    """One version of the family's informed consent: purposes, date, notice version and
    language. A withdrawal or a narrowing is a new version (who recorded it, when, why); the
    latest one (``signed_on``, then ``created_at``) governs what partners see
    (``farmers.consent``)."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="consents", verbose_name=_("household")
    )
    signed_on = models.DateField(_("signed on"))
    purposes = models.JSONField(_("purposes"), default=list, blank=True)
    notice_version = models.CharField(_("notice version"), max_length=20, default="2025-1")
    language = models.CharField(_("language"), max_length=10, default="es")
    officer = by_column(_("officer"))
    # Why a later version changed the purposes (a withdrawal, a narrowing); empty for the
    # consent given at registration. ``db_default``: the bulk seeders COPY without it.
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-signed_on", "-created_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            # The current version of a household's consent (``farmers.consent``), one probe.
            models.Index(
                fields=["household", "-signed_on", "-created_at", "-id"],
                name="consent_current_idx",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Consent of %(day)s") % {"day": display.day(self.signed_on)})
