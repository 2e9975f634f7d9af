"""Exports of the lists staff and partners use (households, title files, contracts,
deliveries, visits, alerts) as XLSX or CSV files, written by a background job
(``registry.exporting``) and downloaded through a link that expires."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .jobs import BackgroundJob


class ExportFormat(models.TextChoices):
    """The file formats of an export."""

    XLSX = "xlsx", _("Excel (XLSX)")
    CSV = "csv", _("CSV (UTF-8)")


class ExportJob(BackgroundJob):
    """One export of a list, as the person or partner who asked sees it (scope and masking
    included): the list (``resource``), its filters (the API list's query parameters; for an
    export started from the admin, the changelist's query string and the rows ticked, as
    ``{"selected": [...]}``), the file written and who may download it (the starter; for a
    key, any key of its organization)."""

    resource = models.CharField(_("list"), max_length=32)
    format = models.CharField(
        _("format"), max_length=8, choices=ExportFormat.choices, default=ExportFormat.XLSX
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    from_admin = models.BooleanField(_("started from the admin"), default=False)
    admin_query = models.TextField(_("admin list query"), blank=True)
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="exportjob_by_person_idx"),
            models.Index(fields=["organization", "-created_at"], name="exportjob_by_org_idx"),
        ]

    def __str__(self) -> str:
        from ..display import moment
        from ..exporting import resource_label

        return f"{resource_label(self.resource)} · {self.get_format_display()} · " + moment(
            self.created_at
        )
