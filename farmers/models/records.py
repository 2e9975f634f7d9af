"""What the registry records about a household's land and commitments: plots and their
overlaps, agreements, verification visits, eradications and support given."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import display
from registry.models import (
    CreatedByModel,
    IdempotentModel,
    VersionedModel,
    agreement_reference,
    by_column,
    by_key_column,
    funder_reference,
)

from ..choices import (
    EradicationKind,
    EradicationStatus,
    SupportKind,
    Tenure,
    VerificationMethod,
    VerificationStatus,
)
from .households import HA, Household


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
        return f"{self.name} ({display.number(self.area_ha)} ha)"


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
        return str(_("Agreement of %(day)s") % {"day": display.day(self.signed_on)})


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
        return str(_("Visit of %(day)s") % {"day": display.day(self.visited_on)})


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
        return str(_("Eradication of %(day)s") % {"day": display.day(self.eradicated_on)})


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
    funding_source = funder_reference(db_index=False)
    funding_agreement = agreement_reference()
    given_on = models.DateField(_("given on"))
    is_active = models.BooleanField(_("active"), default=True)
    # Given while the household was relapsed or excluded: programme staff's recorded reason.
    suspension_override = models.TextField(_("suspension override reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-given_on"]
        verbose_name = _("support given")
        verbose_name_plural = _("support given")
        indexes = [
            models.Index(fields=["household", "given_on"], name="support_hh_idx"),
            models.Index(fields=["funding_source", "given_on"], name="support_funder_idx"),
            # The API's keyset pages and period filter (given_on, id).
            models.Index(fields=["given_on", "id"], name="support_given_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · S/ {display.number(self.cost_pen)}"
