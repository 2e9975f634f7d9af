"""Households and what the registry knows about them: members, consent, plots, agreements,
verification visits, support given, and deduplication keys."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import (
    CreatedByModel,
    District,
    IdempotentModel,
    Organization,
    Program,
    VersionedModel,
    by_column,
    by_key_column,
    district_column,
    optional_reference,
    program_column,
)

from .choices import (
    AppealKind,
    AppealStatus,
    ConsentPurpose,
    CorrectableField,
    CorrectionStatus,
    DocumentType,
    DuplicateStatus,
    EradicationKind,
    EradicationStatus,
    ExclusionStatus,
    HouseholdStatus,
    Relationship,
    Sex,
    Stage,
    SupportKind,
    SweepStatus,
    Tenure,
    VerificationMethod,
    VerificationStatus,
)

HA = {"max_digits": 10, "decimal_places": 4, "validators": [MinValueValidator(Decimal("0"))]}


class Household(VersionedModel, IdempotentModel, CreatedByModel):
    """A farming family registered in a programme, in one district (``created_by``: who
    registered it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
            models.Index(fields=["created_at", "id"], name="hh_created_idx"),
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("household")
    )
    given_names = models.CharField(_("given names"), max_length=120)
    surnames = models.CharField(_("surnames"), max_length=120)
    document_type = models.CharField(
        _("document type"), max_length=8, choices=DocumentType.choices, blank=True
    )
    document_number = models.CharField(_("document number"), max_length=12, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship.choices)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    is_head = models.BooleanField(_("head of household"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # True while the member is active in a live household: its document is then taken.
    is_live = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_head", "birth_date", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [models.Index(fields=["phone"], name="member_phone_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number"],
                condition=Q(is_live=True) & ~Q(document_number=""),
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
    """A blocking key of a live household's member: households sharing a key are compared."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="dedup_keys", verbose_name=_("household")
    )
    key = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("deduplication key")
        verbose_name_plural = _("deduplication keys")
        indexes = [models.Index(fields=["key"], name="dedup_key_idx")]
        constraints = [
            models.UniqueConstraint(fields=["household", "key"], name="dedup_key_unique"),
        ]

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


class Consent(models.Model):
    """The family's informed consent: purposes, date, notice version and language."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="consents", verbose_name=_("household")
    )
    signed_on = models.DateField(_("signed on"))
    purposes = models.JSONField(_("purposes"), default=list)
    notice_version = models.CharField(_("notice version"), max_length=20, default="2025-1")
    language = models.CharField(_("language"), max_length=10, default="es")
    officer = by_column(_("officer"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-signed_on"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.household_id} · {self.signed_on}"


class Plot(VersionedModel, IdempotentModel):
    """A plot the family farms: its boundary (GeoJSON, WGS84), geodesic area and tenure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="plots", verbose_name=_("household")
    )
    name = models.CharField(_("name"), max_length=120)
    tenure = models.CharField(_("tenure"), max_length=16, choices=Tenure.choices)
    geometry = models.JSONField(_("boundary (GeoJSON)"))
    area_ha = models.DecimalField(_("area (ha)"), editable=False, **HA)  # type: ignore[arg-type]
    crops = models.JSONField(_("crops"), default=list, blank=True)
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Not ``auto_now``: only a new version (``touch()``) changes it.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("plot")
        verbose_name_plural = _("plots")
        indexes = [
            models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"], name="plot_bbox_idx"),
            models.Index(fields=["household", "created_at"], name="plot_household_idx"),
            models.Index(fields=["created_at", "id"], name="plot_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.area_ha} ha)"


class PlotOverlap(models.Model):
    """Two plots of different households whose boundaries overlap (both directions stored)."""

    plot = models.ForeignKey(
        Plot, on_delete=models.CASCADE, related_name="overlaps", verbose_name=_("plot")
    )
    other = models.ForeignKey(
        Plot, on_delete=models.CASCADE, related_name="+", verbose_name=_("overlapping plot")
    )
    area_ha = models.DecimalField(_("overlap (ha)"), **HA)  # type: ignore[arg-type]

    class Meta:
        verbose_name = _("plot overlap")
        verbose_name_plural = _("plot overlaps")
        constraints = [models.UniqueConstraint(fields=["plot", "other"], name="overlap_unique")]

    def __str__(self) -> str:
        return f"{self.plot_id} ∩ {self.other_id}"


class Agreement(IdempotentModel, CreatedByModel):
    """A voluntary coca-reduction agreement signed by the family."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("household")
    )
    signed_on = models.DateField(_("signed on"))
    coca_ha_committed = models.DecimalField(_("coca committed (ha)"), **HA)  # type: ignore[arg-type]
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        indexes = [
            models.Index(fields=["household", "signed_on"], name="agreement_hh_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="agreement_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} · {self.signed_on}"


class Verification(IdempotentModel, CreatedByModel):
    """A field verification visit: coca and licit crops observed, confirmed by a supervisor
    (``created_by``: the officer who recorded it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="verifications",
        verbose_name=_("household"),
    )
    visited_on = models.DateField(_("visited on"))
    method = models.CharField(_("method"), max_length=20, choices=VerificationMethod.choices)
    coca_ha = models.DecimalField(_("coca observed (ha)"), **HA)  # type: ignore[arg-type]
    licit_crops = models.JSONField(_("licit crops (ha)"), default=list, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    photo = models.FileField(_("photo"), upload_to="verifications/%Y/%m/", blank=True)
    photo_sha256 = models.CharField(_("photo SHA-256"), max_length=64, blank=True)
    plots = models.ManyToManyField(
        Plot, related_name="verifications", blank=True, verbose_name=_("plots seen")
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
    )
    reviewed_by = by_column(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("verification visit")
        verbose_name_plural = _("verification visits")
        indexes = [
            models.Index(fields=["household", "visited_on"], name="verification_hh_idx"),
            models.Index(fields=["status", "created_at"], name="verification_status_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="verification_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} · {self.visited_on}"


class Eradication(VersionedModel, IdempotentModel, CreatedByModel):
    """Coca eradicated on one of the family's plots: ``forced`` (CORAH, counts once recorded by
    programme staff) or ``voluntary`` (the family's own reduction, counts once a second person
    verifies it). Coca data: shown and logged like a visit's coca figures. Feeds the stage rules
    (``farmers.transition.rules``): a forced eradication after ``coca_free`` is a relapse, a
    verified voluntary one counts toward the agreement."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="eradications",
        verbose_name=_("household"),
        editable=False,
    )
    plot = models.ForeignKey(
        Plot, on_delete=models.PROTECT, related_name="eradications", verbose_name=_("plot")
    )
    eradicated_on = models.DateField(_("eradicated on"))
    hectares = models.DecimalField(_("coca eradicated (ha)"), **HA)  # type: ignore[arg-type]
    kind = models.CharField(_("kind"), max_length=12, choices=EradicationKind.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=EradicationStatus.choices,
        default=EradicationStatus.PENDING,
    )
    verified_by = by_column(_("verified by"))
    verified_by_key = by_key_column(_("verified with key"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("eradication")
        verbose_name_plural = _("eradications")
        indexes = [
            models.Index(fields=["household", "eradicated_on"], name="eradication_hh_idx"),
            models.Index(fields=["status", "created_at"], name="eradication_status_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="eradication_created_idx"),
        ]

    def __str__(self) -> str:
        # No kind nor hectares: they are coca data.
        return f"{self.household_id} · {self.eradicated_on}"


class Support(models.Model):
    """Something the programme gave the family, with its cost in PEN and funding source."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="support", verbose_name=_("household")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=SupportKind.choices)
    description = models.CharField(_("description"), max_length=250, blank=True)
    cost_pen = models.DecimalField(
        _("cost (PEN)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    funding_source = optional_reference(Organization, _("funding source"))
    given_on = models.DateField(_("given on"))
    is_active = models.BooleanField(_("active"), default=True)
    # Given while the household was relapsed or excluded: programme staff's recorded reason.
    suspension_override = models.TextField(_("suspension override reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-given_on"]
        verbose_name = _("support given")
        verbose_name_plural = _("support given")
        indexes = [models.Index(fields=["household", "given_on"], name="support_hh_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.cost_pen} PEN"


class StageChangeQuerySet(models.QuerySet["StageChange"]):
    """Ledger rows; ``own()`` leaves out the rows a merge brought in (see ``StageChange``)."""

    def own(self) -> StageChangeQuerySet:
        """The household's own moves: what a replay of its ledger (indicators, checks) reads.
        Rows moved in by a merge are history of the merged-away record, kept for reading."""
        return self.exclude(evidence__has_key="merged_from")


class StageChange(models.Model):
    """One entry of the transition ledger: a household moved from one stage to another.

    Written by the transition engine only when the computed stage differs from the stored one,
    so recomputes and nightly reruns never add duplicate rows. ``id`` is a growing sequence:
    partners sync ``transition-events/`` in id order. ``evidence`` summarises the dated facts
    behind the decision (it is an automated decision about people: it must be explainable).

    A merge moves the merged-away household's rows to the surviving one, annotated with
    ``evidence["merged_from"]`` (the merged-away code) and ``evidence["merged_on"]``; the
    survivor's own stage is recomputed from all the evidence and logged in rows of its own, so
    replays of a household's ledger read ``StageChange.objects.own()``.
    """

    id = models.BigAutoField(primary_key=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="stage_changes",
        verbose_name=_("household"),
        db_index=False,  # stagechange_hh_idx leads with it
    )
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices)
    effective_on = models.DateField(_("effective on"))
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=40)
    evidence = models.JSONField(_("evidence summary"), default=dict, blank=True)
    # Denormalised from the household at the time, for indicators and scoping without joins.
    # Indexed through the composite indexes below, which lead with them.
    district = district_column(db_index=False)
    program = program_column(db_index=False)

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["household", "id"], name="stagechange_hh_idx"),
            models.Index(fields=["program", "effective_on"], name="stagechange_program_idx"),
            models.Index(fields=["district", "effective_on"], name="stagechange_district_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.from_stage} → {self.to_stage}"


class DecidedModel(models.Model):
    """A decision about people taken by programme staff: who (the ``decided_by`` pair), when,
    and the note (``farmers.services.common._record_decision`` fills them)."""

    decided_by = by_column(_("decided by"))
    decided_by_key = by_key_column(_("decided with key"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True


class ExclusionProposal(VersionedModel, DecidedModel):
    """An exclusion the transition engine proposes when a household relapses the programme's
    ``relapses_before_exclusion``-th time: the household stays ``relapsed`` until programme staff
    confirm it (then the engine reads the confirmation as a fact and excludes the household) or
    dismiss it. ``relapse_on`` is the day of the relapse that triggered it; ``evidence`` the
    engine's evidence summary at that moment (shown to whoever decides)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="exclusion_proposals",
        verbose_name=_("household"),
    )
    relapse_on = models.DateField(_("relapse on"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ExclusionStatus.choices,
        default=ExclusionStatus.PROPOSED,
    )
    evidence = models.JSONField(_("evidence summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exclusion proposal")
        verbose_name_plural = _("exclusion proposals")
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="exclusion_queue_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "relapse_on"], name="exclusion_once_per_relapse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.relapse_on} · {self.get_status_display()}"


class Appeal(VersionedModel, CreatedByModel, DecidedModel):
    """A family's appeal of its relapse or of an exclusion, filed for it by programme people
    (``created_by`` pair: who filed it), with its grounds and evidence, decided by programme
    staff with a note. An upheld appeal is a fact the engine reads
    (``farmers.transition.decisions``): a relapse appeal overturns the relapse of
    ``relapse_on`` (the stage it interrupted comes back), an exclusion appeal dismisses the
    exclusion proposed at that relapse."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("household")
    )
    kind = models.CharField(_("appealed"), max_length=12, choices=AppealKind.choices)
    relapse_on = models.DateField(_("relapse on"))
    stage_change = models.ForeignKey(
        StageChange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stage change appealed"),
    )
    proposal = models.ForeignKey(
        ExclusionProposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("exclusion appealed"),
    )
    grounds = models.TextField(_("grounds"))
    evidence_note = models.TextField(_("evidence"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AppealStatus.choices, default=AppealStatus.FILED
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [models.Index(fields=["status", "-created_at", "-id"], name="appeal_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind", "relapse_on"],
                condition=Q(status="filed"),
                name="appeal_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_kind_display()} · {self.get_status_display()}"


class VisitCorrection(VersionedModel, CreatedByModel, DecidedModel):
    """A correction of a confirmed visit: which field, old → new, why, who proposed it
    (``created_by`` pair) and the second person who approved or rejected it (``decided_by``
    pair, maker–checker). Only an approved correction changes the visit (through
    ``farmers.services.corrections``, with a change record), and the engine recomputes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    verification = models.ForeignKey(
        Verification,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("verification visit"),
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household")
    )
    field = models.CharField(_("field"), max_length=20, choices=CorrectableField.choices)
    old_value = models.CharField(_("old value"), max_length=40)
    new_value = models.CharField(_("new value"), max_length=40)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.PROPOSED,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("visit correction")
        verbose_name_plural = _("visit corrections")
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="correction_queue_idx"),
            models.Index(fields=["verification", "-created_at"], name="correction_visit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.verification_id} · {self.field}: {self.old_value} → {self.new_value}"


class SweepRun(models.Model):
    """One sweep of the transition engine over all households for a day (nightly, by beat).

    The planner splits households into id ranges (``SweepRange``) and queues one task per
    range; each task adds its counts here when it finishes, so progress is visible while the
    sweep runs. Planning again for the same day resumes the unfinished run.
    """

    id = models.BigAutoField(primary_key=True)
    today = models.DateField(_("computed for"))
    status = models.CharField(
        _("status"), max_length=12, choices=SweepStatus.choices, default=SweepStatus.RUNNING
    )
    ranges_total = models.PositiveIntegerField(_("ranges"), default=0)
    ranges_done = models.PositiveIntegerField(_("ranges done"), default=0)
    households = models.PositiveIntegerField(_("households processed"), default=0)
    changes = models.PositiveIntegerField(_("stage changes"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("transition sweep")
        verbose_name_plural = _("transition sweeps")
        indexes = [models.Index(fields=["today", "status"], name="sweeprun_today_idx")]

    def __str__(self) -> str:
        return f"{self.today} · {self.ranges_done}/{self.ranges_total}"

    @property
    def progress(self) -> int:
        """Per cent of ranges done."""
        if not self.ranges_total:
            return 100 if self.status == SweepStatus.DONE else 0
        return int(100 * self.ranges_done / self.ranges_total)


class SweepRange(models.Model):
    """A range of household ids (``lo`` to ``hi``, both included) swept by one task."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(
        SweepRun, on_delete=models.CASCADE, related_name="ranges", verbose_name=_("sweep")
    )
    lo = models.UUIDField(_("first household id"))
    hi = models.UUIDField(_("last household id"))
    status = models.CharField(
        _("status"), max_length=12, choices=SweepStatus.choices, default=SweepStatus.PENDING
    )
    households = models.PositiveIntegerField(_("households processed"), default=0)
    changes = models.PositiveIntegerField(_("stage changes"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["run", "lo"]
        verbose_name = _("sweep range")
        verbose_name_plural = _("sweep ranges")
        constraints = [
            models.UniqueConstraint(fields=["run", "lo"], name="sweeprange_run_lo_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lo} … {self.hi}"


__all__ = [
    "Agreement",
    "Consent",
    "ConsentPurpose",
    "DedupKey",
    "Household",
    "Member",
    "Plot",
    "PlotOverlap",
    "PossibleDuplicate",
    "StageChange",
    "Support",
    "SweepRange",
    "SweepRun",
    "SweepStatus",
    "Verification",
]
