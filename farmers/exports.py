"""The farmers lists staff and partners export (``registry.exporting``): households and
verification visits, as their API lists show them (scope, stage gating, consent
pseudonymisation), with labels for codes and names for places."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from registry import exporting
from registry.exporting import BOOLEAN, Column, ExportResource, model_column

from .models import Household, Verification
from .selectors import household_codes


def _household_codes(ids: set[Any]) -> Mapping[Any, str]:
    """Household id → code (the code is what a pseudonymised household keeps)."""
    return {str(pk): code for pk, code in household_codes(ids).items()}


def register() -> None:
    """Offer the farmers lists for export (from ``FarmersConfig.ready``)."""
    from .api.views import HouseholdViewSet, VerificationViewSet

    exporting.register_lookup("household", _household_codes)
    exporting.register(
        ExportResource(
            name="households",
            label=_("households"),
            filename="hogares",
            viewset=HouseholdViewSet,
            route="households",
            model=Household,
            columns=(
                model_column(Household, "code"),
                model_column(Household, "program", lookup="program"),
                model_column(Household, "district"),
                model_column(Household, "community"),
                model_column(Household, "head_name"),
                model_column(Household, "status"),
                model_column(Household, "stage"),
                model_column(Household, "stage_since"),
                Column("pseudonymised", _("pseudonymised"), BOOLEAN),
                model_column(Household, "created_at"),
                model_column(Household, "updated_at"),
            ),
        )
    )
    exporting.register(
        ExportResource(
            name="visits",
            label=_("verification visits"),
            filename="visitas",
            viewset=VerificationViewSet,
            route="verifications",
            model=Verification,
            columns=(
                model_column(Verification, "household", lookup="household"),
                model_column(Verification, "visited_on"),
                model_column(Verification, "method"),
                model_column(Verification, "coca_ha"),
                model_column(Verification, "status"),
                model_column(Verification, "review_note"),
                model_column(Verification, "created_at"),
            ),
        )
    )
