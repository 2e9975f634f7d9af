"""Models of the registry kernel: geography, organizations, programmes, people, keys, history."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    LIVE_ALERT_STATUSES,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    ChangeAction,
    OrganizationKind,
    Role,
)
from .validators import validate_ruc, validate_ubigeo


class Department(models.Model):
    """An INEI department (región), e.g. 05 Ayacucho."""

    code = models.CharField(
        _("code"), max_length=2, primary_key=True, validators=[RegexValidator(r"^\d{2}$")]
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Province(models.Model):
    """An INEI province, e.g. 0502 Huanta."""

    code = models.CharField(
        _("code"), max_length=4, primary_key=True, validators=[RegexValidator(r"^\d{4}$")]
    )
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="provinces",
        verbose_name=_("department"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return f"{self.name} ({self.department.name})"


class District(models.Model):
    """An INEI district with its 6-digit ubigeo; flagged when it is in the VRAEM."""

    ubigeo = models.CharField(
        _("ubigeo"), max_length=6, primary_key=True, validators=[validate_ubigeo]
    )
    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="districts", verbose_name=_("province")
    )
    # Denormalised from the province so the department filter needs no join.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="districts",
        verbose_name=_("department"),
    )
    is_vraem = models.BooleanField(_("in the VRAEM"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["ubigeo"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        indexes = [
            models.Index(fields=["department", "ubigeo"], name="district_department_idx"),
            models.Index(fields=["province", "ubigeo"], name="district_province_idx"),
            models.Index(fields=["is_vraem", "ubigeo"], name="district_vraem_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="district_validity_order",
                violation_error_message=_("A district cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ubigeo})"


class TimestampedModel(models.Model):
    """Adds creation and last-change times."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimestampedModel):
    """A record that partners and staff edit concurrently.

    ``version`` is its optimistic-concurrency counter (the number in its ETag and the one a
    write holds with ``If-Match``). Every change is written through ``touch()``, so that no
    change escapes a new version.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True

    def touch(self, *fields: str) -> None:
        """Save ``fields`` as a new version of the record, stamped now (``updated_at``)."""
        self.version += 1
        self.updated_at = timezone.now()
        self.save(update_fields=list(dict.fromkeys([*fields, "version", "updated_at"])))


class IdempotentModel(models.Model):
    """A record created with a client-chosen ``id``: ``request_hash`` tells a retry of its
    create (same payload) from another use of the ``id`` (``registry.idempotency``)."""

    request_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True


class CreatedByModel(models.Model):
    """Who made the record: the one actor pair of the registry.

    Every pair of "who did it" columns is spelled ``<verb>_by`` (a person) and
    ``<verb>_by_key`` (a partner's API key); the pair that says who created a record is
    ``created_by`` / ``created_by_key``. ``registry.actors.Actor.stamp()`` fills it.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_by_key = models.ForeignKey(
        "registry.ApiKey",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by (API key)"),
    )

    class Meta:
        abstract = True


class Organization(TimestampedModel):
    """An agency, implementer, titling authority, buyer or funder taking part in the programmes."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    ruc = models.CharField(
        _("RUC"),
        max_length=11,
        blank=True,
        validators=[validate_ruc],
        help_text=_("Taxpayer number (11 digits, check digit verified). Optional."),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("district of its address"),
    )
    districts = models.ManyToManyField(
        District,
        related_name="organizations",
        blank=True,
        verbose_name=_("assigned districts"),
        help_text=_("Its keys and people see households in these districts only."),
    )
    programs: models.ManyToManyField[Program, Any] = models.ManyToManyField(
        "Program",
        related_name="assigned_organizations",
        blank=True,
        verbose_name=_("assigned programmes"),
        help_text=_("Its keys and people see households of these programmes only."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [models.Index(fields=["kind", "code"], name="organization_kind_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["ruc"],
                condition=~Q(ruc=""),
                name="organization_ruc_unique",
                violation_error_message=_("Another organization already has this RUC."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Program(TimestampedModel):
    """An alternative-development programme: who runs and funds it, its budget and thresholds."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    agency = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="programs_run",
        verbose_name=_("agency"),
    )
    funder = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="programs_funded",
        null=True,
        blank=True,
        verbose_name=_("funder"),
    )
    budget_pen = models.DecimalField(
        _("budget (PEN)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # Transition thresholds (DESIGN.md §6), editable by programme staff.
    coca_free_max_age_months = models.PositiveSmallIntegerField(
        _("coca-free visit valid for (months)"), default=18
    )
    licit_min_ha = models.DecimalField(
        _("minimum licit crops (ha)"), max_digits=6, decimal_places=2, default=Decimal("1.00")
    )
    market_window_months = models.PositiveSmallIntegerField(
        _("market link window (months)"), default=12
    )
    graduation_coca_free_months = models.PositiveSmallIntegerField(
        _("coca-free months to graduate"), default=24
    )
    graduation_income_pen = models.DecimalField(
        _("income to graduate in 12 months (PEN)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("6000.00"),
    )
    relapses_before_exclusion = models.PositiveSmallIntegerField(
        _("relapses before exclusion"), default=2
    )
    visit_due_months = models.PositiveSmallIntegerField(_("visit due after (months)"), default=12)
    public_notice_days = models.PositiveSmallIntegerField(
        _("public notice for titles (days)"), default=30
    )
    visit_photo_required = models.BooleanField(_("a coca-free visit needs a photo"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="program_dates_order",
                violation_error_message=_("A programme cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(budget_pen__gte=0),
                name="program_budget_not_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(licit_min_ha__gt=0),
                name="program_licit_min_ha_positive",
                violation_error_message=_("The minimum of licit crops must be above zero."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimestampedModel):
    """A person's role in an organization, with the districts assigned to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    districts = models.ManyToManyField(
        District,
        related_name="memberships",
        blank=True,
        verbose_name=_("assigned districts"),
        help_text=_("Empty: the organization's districts."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organization__code", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                name="membership_unique_role",
                violation_error_message=_("This person already has this role here."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class ApiKey(models.Model):
    """A partner's API key: stored as a SHA-256 hash, with scopes, expiry and revocation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="api_keys",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    # Who the key acts for: a person (a member of the organization, e.g. the officer behind a
    # field app) or, when empty, an automation (``service`` names it). Maker–checker compares
    # the person behind the maker and the checker (``registry.actors.Actor.person_id``).
    acts_for_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        null=True,
        blank=True,
        verbose_name=_("acts for"),
        help_text=_("The person this key acts for; empty for an automation (service)."),
    )
    service = models.CharField(
        _("service"),
        max_length=100,
        blank=True,
        help_text=_("The system or integration that uses the key (for automations)."),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["organization", "-created_at"], name="apikey_org_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.organization.code})"

    @property
    def kind(self) -> str:
        """``person`` when the key acts for a person, else ``service`` (an automation)."""
        return "person" if self.acts_for_user_id is not None else "service"

    @property
    def is_active(self) -> bool:
        """True while the key is neither revoked nor expired."""
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ChangeRecord(models.Model):
    """One entry of a record's history: who changed what, when, through which channel."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("record type")
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    actor_api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("API key"),
    )
    channel = models.CharField(_("channel"), max_length=16, default="system")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="change_object_idx"),
            models.Index(fields=["-at"], name="change_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_repr}"


class AccessLog(models.Model):
    """A read of sensitive data (coca) by a partner or a person: who, what, when."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    actor_api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("API key"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("organization"),
    )
    resource = models.CharField(_("resource"), max_length=50)
    object_ids = models.JSONField(_("records"), default=list)
    fields = models.JSONField(_("fields"), default=list)
    path = models.CharField(_("request"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("sensitive-data read")
        verbose_name_plural = _("sensitive-data reads")
        indexes = [
            models.Index(fields=["-at"], name="access_at_idx"),
            models.Index(fields=["organization", "-at"], name="access_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} · {self.resource}"


class Alert(models.Model):
    """Something a person must look at: a relapse, a visit due, an overdue title file or delivery.

    Raised by the transition engine, titles and markets through ``registry.alerts``. ``key``
    names the condition (e.g. ``"title:<id>:legal_review"``); at most one live (open or
    acknowledged) alert exists per ``(kind, key)``, so reruns of a periodic task never duplicate
    one. Scoped like households by ``district`` and ``program``; owned by the district's people
    with ``owner_role``. ``household_id`` and ``subject_*`` point at the records concerned without
    a foreign key (the kernel does not depend on the apps above it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    key = models.CharField(_("condition key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    message = models.CharField(_("message"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Indexed by alert_district_idx (a plain index: no ``varchar_pattern_ops`` twin).
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("district"),
        db_index=False,
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme")
    )
    household_id = models.UUIDField(_("household"), null=True, blank=True)
    subject_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("record type"),
    )
    subject_id = models.CharField(_("record id"), max_length=64, blank=True)
    owner_role = models.CharField(
        _("owner role"), max_length=32, choices=Role.choices, default=Role.FIELD_OFFICER
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("assigned to"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=Q(status__in=LIVE_ALERT_STATUSES),
                name="alert_one_live_per_condition",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "district", "-raised_at"], name="alert_status_district_idx"
            ),
            models.Index(fields=["kind", "status", "-raised_at"], name="alert_kind_status_idx"),
            models.Index(fields=["household_id", "-raised_at"], name="alert_household_idx"),
            models.Index(fields=["district", "-raised_at"], name="alert_district_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class OutboxMessage(models.Model):
    """A message to publish once the transaction that wrote it commits (transactional outbox).

    Services write the row in the same transaction as their business change
    (``registry.outbox.publish_on_commit``); after the commit the project hands it to its handler
    at once and stamps ``sent_at``. A row whose hand-off failed (the broker down, a worker error)
    stays pending and the relay (``registry.outbox.relay``: a beat task every minute and
    ``manage.py relay_outbox``) retries it from ``available_at`` on, with backoff. ``topic`` names
    a handler registered with ``registry.outbox.register`` (a Celery task today, partners'
    webhooks later); handlers are idempotent, so a row sent twice is harmless.
    """

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(_("topic"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    available_at = models.DateTimeField(_("available at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The relay's and /healthz's only reads: pending rows by due time.
            models.Index(
                fields=["available_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            ),
            # Pruning sent rows by age.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent_idx"
            ),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.topic} #{self.pk} ({state})"
