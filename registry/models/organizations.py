"""Organizations, programmes, people's memberships and partners' API keys."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import (
    Crop,
    IatiOrganisationType,
    OrganizationKind,
    Role,
    licit_crops_default,
)
from ..validators import require_funder, validate_iati_identifier, validate_ruc
from .bases import TimestampedModel, VersionedModel
from .geography import District


class Organization(VersionedModel):
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
    # IATI publication (``registry.iati``): both optional, with defaults from the RUC and kind.
    iati_identifier = models.CharField(
        _("IATI organisation identifier"),
        max_length=100,
        blank=True,
        validators=[validate_iati_identifier],
        help_text=_(
            "E.g. XM-DAC-41301 (an OECD DAC donor code) or PE-RUC-20123456789. Empty: "
            "PE-RUC-<RUC> when the organization has a RUC."
        ),
    )
    iati_type = models.CharField(
        _("IATI organisation type"),
        max_length=2,
        blank=True,
        choices=IatiOrganisationType.choices,
        help_text=_("Empty: deduced from the kind (agencies and authorities: government)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

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
            models.UniqueConstraint(
                fields=["iati_identifier"],
                condition=~Q(iati_identifier=""),
                name="organization_iati_unique",
                violation_error_message=_("Another organization already has this IATI identifier."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


def validate_licit_crops(value: Any) -> None:
    """A licit-crop list: a list of known crops (``registry.choices.Crop``)."""
    if not isinstance(value, list) or any(crop not in Crop.values for crop in value):
        raise ValidationError(_("Choose crops from the list."), code="invalid_choice")


class Program(VersionedModel):
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
        limit_choices_to={"kind": OrganizationKind.FUNDER},
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
    graduation_requires_tenure = models.BooleanField(
        _("graduation requires tenure"),
        default=False,
        help_text=_(
            "A family graduates only once it holds secure tenure (a registered title or other "
            "tenure the programme accepts). Tenure is tracked on its own either way."
        ),
    )
    visit_photo_required = models.BooleanField(_("a coca-free visit needs a photo"), default=True)
    iati_identifier = models.CharField(
        _("IATI activity identifier"),
        max_length=150,
        blank=True,
        validators=[validate_iati_identifier],
        help_text=_(
            "The programme's identifier in IATI files. Empty: the agency's IATI identifier "
            "followed by the programme's code in capitals."
        ),
    )
    licit_crops = models.JSONField(
        _("licit crops"),
        default=licit_crops_default,
        blank=True,
        validators=[validate_licit_crops],
        help_text=_(
            "Only these crops count towards a family's licit hectares; visits may record others "
            "(stored and shown, not counted)."
        ),
    )
    # Data-subject requests (Law 29733, DS 016-2024-JUS): answer deadlines in working days and
    # how many working days before the deadline the alert is raised.
    dsr_access_days = models.PositiveSmallIntegerField(
        _("access request: working days to answer"), default=20
    )
    dsr_other_days = models.PositiveSmallIntegerField(
        _("rectification, cancellation, opposition: working days to answer"), default=10
    )
    dsr_warn_days = models.PositiveSmallIntegerField(
        _("data-subject request: alert this many working days before its deadline"), default=3
    )
    is_active = models.BooleanField(_("active"), default=True)

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
            models.UniqueConstraint(
                fields=["iati_identifier"],
                condition=~Q(iati_identifier=""),
                name="program_iati_unique",
                violation_error_message=_("Another programme already has this IATI identifier."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The programme's funder, when given, is a funder organization."""
        super().clean()
        require_funder(self.funder if self.funder_id is not None else None, "funder")


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
