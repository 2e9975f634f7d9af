"""The title files staff and partners export (``registry.exporting``), as the API list shows
them (scope by district and programme, the authority's own files), with labels and names."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registry import exporting
from registry.exporting import BOOLEAN, Column, ExportResource, model_column

from .models import TitleApplication


def register() -> None:
    """Offer the title files for export (from ``TitlesConfig.ready``)."""
    from .api.views import TitleApplicationViewSet

    model = TitleApplication
    exporting.register(
        ExportResource(
            name="title_files",
            label=_("title files"),
            filename="expedientes_titulacion",
            viewset=TitleApplicationViewSet,
            route="title-applications",
            model=model,
            columns=(
                model_column(model, "household", lookup="household"),
                model_column(model, "authority", lookup="organization"),
                model_column(model, "program", lookup="program"),
                model_column(model, "district"),
                model_column(model, "procedure"),
                model_column(model, "status"),
                model_column(model, "status_since"),
                model_column(model, "possession_started_on"),
                model_column(model, "submitted_on"),
                model_column(model, "surveyed_on"),
                model_column(model, "legal_review_on"),
                model_column(model, "notice_starts_on"),
                model_column(model, "notice_ends_on"),
                model_column(model, "title_issued_on"),
                model_column(model, "sent_to_sunarp_on"),
                model_column(model, "registered_on"),
                model_column(model, "closed_on"),
                model_column(model, "partida_number"),
                model_column(model, "registry_zone"),
                model_column(model, "rejection_reason"),
                model_column(model, "due_on"),
                model_column(model, "file_due_on"),
                Column("overdue", _("overdue"), BOOLEAN),
                model_column(model, "created_at"),
            ),
        )
    )
