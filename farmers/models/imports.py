"""Household imports run as background jobs: the uploaded file, where the job is (checked,
waiting for confirmation, imported), its totals and every row's errors."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.models import BackgroundJob, JobStatus


class ImportPhase(models.TextChoices):
    """The step an import job is in: checking the file (a dry run), then importing it."""

    VALIDATE = "validate", _("checking the file")
    IMPORT = "import", _("importing")


class ImportJob(BackgroundJob):
    """A household file uploaded once, checked in the background (a dry run with every row's
    errors), then imported on confirmation in chunks (one transaction each, resumable after a
    crash from ``resume_row``) with its progress, cancel and history."""

    filename = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # The last file row of the last chunk committed by the import (written with the chunk).
    resume_row = models.PositiveIntegerField(_("resume after row"), default=0)
    # Totals of the check or of the import (``farmers.importing.pipeline.Totals``).
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["-created_at"], name="import_job_created_idx")]

    def __str__(self) -> str:
        return self.filename

    @property
    def awaiting_confirmation(self) -> bool:
        """Checked and not yet confirmed: the report is ready and nothing was written."""
        return (
            self.phase == ImportPhase.VALIDATE
            and self.status == JobStatus.SUCCEEDED
            and self.confirmed_at is None
        )

    @property
    def phase_label(self) -> str:
        """The phase in words."""
        return str(ImportPhase(self.phase).label) if self.phase else ""


class ImportIssue(models.Model):
    """One error of one row of an import file (``column`` empty: the whole row)."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="issues", verbose_name=_("import")
    )
    row = models.PositiveIntegerField(_("row"))
    household_ref = models.CharField(_("household reference"), max_length=100, blank=True)
    column = models.CharField(_("column"), max_length=40, blank=True)
    code = models.CharField(_("code"), max_length=40)
    message = models.TextField(_("message"))

    class Meta:
        ordering = ["row", "id"]
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        indexes = [models.Index(fields=["job", "row"], name="import_issue_row_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class ImportStage(models.Model):
    """One chunk of a checked file as the check left it (rows ``first_row``–``last_row``): its
    totals, its rows' errors and its new households cleaned and validated (JSON), so the import
    copies them in without cleaning the rows again. Valid only for the same file (``checksum``)
    and the check's day; deleted when the import finishes."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="stages", verbose_name=_("import")
    )
    first_row = models.PositiveIntegerField(_("first row"))
    last_row = models.PositiveIntegerField(_("last row"))
    checksum = models.CharField(_("checksum"), max_length=64)
    checked_on = models.DateField(_("checked on"))
    data = models.TextField(_("data"))

    class Meta:
        verbose_name = _("checked chunk")
        verbose_name_plural = _("checked chunks")
        constraints = [
            models.UniqueConstraint(fields=["job", "first_row"], name="import_stage_chunk_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.first_row}–{self.last_row}"
