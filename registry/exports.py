"""The kernel's exportable list (``registry.exporting``): alerts, as the API list shows them
(the caller's area and role), with labels for kinds, statuses and severities."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from . import exporting
from .exporting import ExportResource, model_column
from .models import Alert


def register() -> None:
    """Offer the alerts for export (from ``RegistryConfig.ready``)."""
    from .api.alerts import AlertViewSet

    exporting.register(
        ExportResource(
            name="alerts",
            label=_("alerts"),
            filename="alertas",
            viewset=AlertViewSet,
            route="alerts",
            model=Alert,
            columns=(
                model_column(Alert, "raised_at"),
                model_column(Alert, "kind"),
                model_column(Alert, "severity"),
                model_column(Alert, "status"),
                model_column(Alert, "message"),
                model_column(Alert, "household_id", key="household", lookup="household"),
                model_column(Alert, "district"),
                model_column(Alert, "program", lookup="program"),
                model_column(Alert, "owner_role"),
                model_column(Alert, "due_on"),
                model_column(Alert, "acknowledged_at"),
                model_column(Alert, "resolved_at"),
                model_column(Alert, "resolution_note"),
            ),
        )
    )
