"""Crop installations: what the family planted on a plot (crop, variety, area, plants, planting
date), the programme support that paid for it, and its life (installed → producing → lost)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from registry import display
from registry.models import CreatedByModel, IdempotentModel, VersionedModel

from ..choices import Crop, InstallationStatus, Variety
from .households import HA, Household
from .records import Plot, Support


class CropInstallation(VersionedModel, IdempotentModel, CreatedByModel):
    """A licit crop installed on one of the family's plots.

    ``crop`` is one of the programme's licit crops (``Program.licit_crops``), ``variety`` one of
    the crop's (``choices.VARIETIES``); the live installations of a plot (installed or producing)
    together take at most the plot's area. Its status moves through
    ``workflow.INSTALLATION_MACHINE`` (``lost_on``: the day it was recorded lost). The stage
    engine counts the live installations on plots a confirmed visit saw as licit hectares, and
    the side-selling check expects their harvest by age (``markets.YieldNorm``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="crop_installations",
        verbose_name=_("household"),
        editable=False,
    )
    plot = models.ForeignKey(
        Plot, on_delete=models.PROTECT, related_name="installations", verbose_name=_("plot")
    )
    crop = models.CharField(_("crop"), max_length=16, choices=Crop.choices)
    variety = models.CharField(_("variety"), max_length=16, choices=Variety.choices, blank=True)
    area_ha = models.DecimalField(_("area (ha)"), **HA)  # type: ignore[arg-type]
    plants = models.PositiveIntegerField(_("plants"))
    planted_on = models.DateField(_("planting date"))
    support = models.ForeignKey(
        Support,
        on_delete=models.PROTECT,
        related_name="installations",
        null=True,
        blank=True,
        verbose_name=_("programme support that paid for it"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=InstallationStatus.choices,
        default=InstallationStatus.INSTALLED,
    )
    lost_on = models.DateField(_("lost on"), null=True, blank=True, editable=False)
    status_note = models.TextField(_("status note"), blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("crop installation")
        verbose_name_plural = _("crop installations")
        indexes = [
            models.Index(fields=["household", "plot"], name="installation_hh_idx"),
            models.Index(fields=["plot", "status"], name="installation_plot_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="installation_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(area_ha__gt=0), name="installation_area_positive"),
            models.CheckConstraint(condition=Q(plants__gt=0), name="installation_plants_positive"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_crop_display()} · {display.number(self.area_ha)} ha · "
            f"{display.day(self.planted_on)}"
        )
