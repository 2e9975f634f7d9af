"""Land-title files: applications with their workflow and SLA clock, status history, objections
raised during the public notice, and the documents of the file."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farmers.models import Household, Plot
from registry.choices import OrganizationKind
from registry.models import (
    CreatedByModel,
    District,
    IdempotentModel,
    Organization,
    Program,
    VersionedModel,
    funder_reference,
)
from registry.models.bases import district_column, program_column

from .choices import (
    OPEN_STATUSES,
    ObjectionDecision,
    Procedure,
    RejectionReason,
    TitleDocumentType,
    TitleStatus,
)

# SUNARP partida numbers ("partida electrónica") are 8 digits; older registry zones and legacy
# COFOPRI files carry up to 11. Accept 8 to 11 digits.
PARTIDA_RE = r"^[0-9]{8,11}$"
validate_partida = RegexValidator(
    PARTIDA_RE, _("A SUNARP partida number has 8 to 11 digits."), code="invalid_partida"
)


# The public-notice window of a programme without title settings (DESIGN.md §5), in working
# days (días hábiles, ``titles.workdays``).
DEFAULT_PUBLIC_NOTICE_DAYS = 30
# Years of possession each procedure requires (docs/titles.md, "Procedures"): administrative
# prescription needs more than 5 years of public, peaceful and continuous possession as owner
# (Ley 31145 art. 7 and D.S. 014-2022-MIDAGRI art. 48, as D.L. 1089 and D.S. 032-2008-VIVIENDA
# before them); adjudication of state land needs possession begun by the legal cut-off date.
DEFAULT_PRESCRIPTION_YEARS = 5
DEFAULT_ADJUDICATION_YEARS = 0
DEFAULT_ADJUDICATION_POSSESSION_UNTIL = date(2020, 12, 31)


class TitleSettings(models.Model):
    """A programme's title settings: the public-notice window and the SLA targets for title
    files, in days per state (DESIGN.md §5 defaults)."""

    program = models.OneToOneField(
        Program,
        on_delete=models.PROTECT,
        related_name="title_settings",
        verbose_name=_("programme"),
    )
    public_notice_days = models.PositiveSmallIntegerField(
        _("public notice for titles (working days)"),
        default=DEFAULT_PUBLIC_NOTICE_DAYS,
        validators=[MinValueValidator(1)],
    )
    prescription_years = models.PositiveSmallIntegerField(
        _("prescription: years of possession required"), default=DEFAULT_PRESCRIPTION_YEARS
    )
    adjudication_years = models.PositiveSmallIntegerField(
        _("adjudication: years of possession required"), default=DEFAULT_ADJUDICATION_YEARS
    )
    adjudication_possession_until = models.DateField(
        _("adjudication: possession begun on or before"),
        null=True,
        blank=True,
        default=DEFAULT_ADJUDICATION_POSSESSION_UNTIL,
        help_text=_("Leave empty when the law sets no cut-off date."),
    )
    submitted_days = models.PositiveSmallIntegerField(
        _("survey within (days of submission)"), default=60
    )
    surveyed_days = models.PositiveSmallIntegerField(
        _("start legal review within (days of the survey)"), default=15
    )
    legal_review_days = models.PositiveSmallIntegerField(
        _("legal qualification within (days)"), default=30
    )
    objected_days = models.PositiveSmallIntegerField(
        _("resolve objections within (days)"), default=30
    )
    title_issued_days = models.PositiveSmallIntegerField(
        _("send to SUNARP within (days of the title)"), default=15
    )
    sent_to_sunarp_days = models.PositiveSmallIntegerField(
        _("SUNARP registers within (days)"), default=30
    )
    sunarp_observed_days = models.PositiveSmallIntegerField(
        _("fix SUNARP's observation within (days)"), default=30
    )
    observed_days = models.PositiveSmallIntegerField(
        _("family fixes an observation within (days)"), default=30
    )
    file_months = models.PositiveSmallIntegerField(
        _("whole file within (months of submission)"), default=12
    )
    alert_percent = models.PositiveSmallIntegerField(
        _("warn at (% of the target)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    class Meta:
        ordering = ["program__code"]
        verbose_name = _("title SLA settings")
        verbose_name_plural = _("title SLA settings")

    def __str__(self) -> str:
        return str(self.program)

    def target_days(self, status: str) -> int | None:
        """The target working days for ``status`` (``None`` when the state has no clock of its
        own)."""
        value = getattr(self, f"{status}_days", None)
        return int(value) if value is not None else None

    def required_years(self, procedure: str) -> int:
        """The years of possession ``procedure`` requires."""
        return int(getattr(self, f"{procedure}_years"))


class AuthorityNoticeDays(models.Model):
    """A titling authority's own public-notice window within a programme (working days): it
    replaces the programme's ``TitleSettings.public_notice_days`` for the files filed with that
    authority."""

    settings = models.ForeignKey(
        TitleSettings,
        on_delete=models.CASCADE,
        related_name="authority_notice_days",
        verbose_name=_("title settings"),
    )
    authority = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": OrganizationKind.TITLING_AUTHORITY},
        verbose_name=_("titling authority"),
    )
    public_notice_days = models.PositiveSmallIntegerField(
        _("public notice (working days)"), validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["settings", "authority__code"]
        verbose_name = _("public notice of a titling authority")
        verbose_name_plural = _("public notice of titling authorities")
        constraints = [
            models.UniqueConstraint(
                fields=["settings", "authority"], name="title_notice_days_unique_authority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authority} · {self.public_notice_days}"


class TitleApplication(CreatedByModel, IdempotentModel, VersionedModel):
    """A family's request for a land title over one plot, filed with a titling authority."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="title_applications",
        verbose_name=_("household"),
    )
    plot = models.ForeignKey(
        Plot, on_delete=models.PROTECT, related_name="title_applications", verbose_name=_("plot")
    )
    authority = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="title_applications",
        verbose_name=_("titling authority"),
    )
    # Denormalised from the household, for scoping and indexes without joins.
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme")
    )
    # Who pays for the file (survey, fees): a funder organization.
    funding_source = funder_reference()
    procedure = models.CharField(
        _("procedure"), max_length=16, choices=Procedure.choices, default=Procedure.ADJUDICATION
    )
    possession_started_on = models.DateField(_("possession started on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TitleStatus.choices, default=TitleStatus.DRAFT
    )
    status_since = models.DateField(_("in this status since"), default=timezone.localdate)
    observed_from = models.CharField(
        _("observed while"), max_length=20, choices=TitleStatus.choices, blank=True
    )
    # Dates of the milestones of the file.
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)
    surveyed_on = models.DateField(_("surveyed on"), null=True, blank=True)
    legal_review_on = models.DateField(_("legal review started on"), null=True, blank=True)
    notice_starts_on = models.DateField(_("public notice starts on"), null=True, blank=True)
    notice_ends_on = models.DateField(_("public notice ends on"), null=True, blank=True)
    title_issued_on = models.DateField(_("title issued on"), null=True, blank=True)
    sent_to_sunarp_on = models.DateField(_("sent to SUNARP on"), null=True, blank=True)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    closed_on = models.DateField(_("rejected or withdrawn on"), null=True, blank=True)
    partida_number = models.CharField(
        _("SUNARP partida number"), max_length=11, blank=True, validators=[validate_partida]
    )
    registry_zone = models.CharField(_("SUNARP registry zone"), max_length=60, blank=True)
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=32, choices=RejectionReason.choices, blank=True
    )
    note = models.TextField(_("last note"), blank=True)
    # SLA clock, recomputed by the service at every move (so the overdue queue is a range query).
    clock_started_on = models.DateField(_("state clock started on"), null=True, blank=True)
    warn_on = models.DateField(_("warn on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    file_due_on = models.DateField(_("whole file due on"), null=True, blank=True)
    programme_days = models.PositiveIntegerField(_("days with the programme"), default=0)
    family_days = models.PositiveIntegerField(_("days with the family"), default=0)
    authority_days = models.PositiveIntegerField(_("days with the authority"), default=0)
    sunarp_days = models.PositiveIntegerField(_("days with SUNARP"), default=0)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("title application")
        verbose_name_plural = _("title applications")
        indexes = [
            # The overdue queue: live files by due date (a range scan, newest debt first).
            models.Index(
                fields=["due_on"],
                condition=Q(status__in=OPEN_STATUSES),
                name="title_open_due_idx",
            ),
            models.Index(
                fields=["warn_on"],
                condition=Q(status__in=OPEN_STATUSES),
                name="title_open_warn_idx",
            ),
            models.Index(fields=["created_at", "id"], name="title_created_idx"),
            models.Index(fields=["status", "created_at"], name="title_status_idx"),
            models.Index(fields=["district", "status", "created_at"], name="title_district_idx"),
            models.Index(fields=["program", "status", "created_at"], name="title_program_idx"),
            models.Index(fields=["authority", "status", "created_at"], name="title_authority_idx"),
            models.Index(fields=["household", "created_at"], name="title_household_idx"),
            models.Index(fields=["plot", "status"], name="title_plot_idx"),
            models.Index(fields=["submitted_on"], name="title_submitted_idx"),
            models.Index(fields=["title_issued_on"], name="title_issued_idx"),
            models.Index(fields=["registered_on"], name="title_registered_idx"),
            models.Index(fields=["updated_at"], name="title_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(partida_number="") | Q(partida_number__regex=PARTIDA_RE),
                name="title_partida_format",
                violation_error_message=_("A SUNARP partida number has 8 to 11 digits."),
            ),
            models.CheckConstraint(
                condition=~Q(status=TitleStatus.REGISTERED)
                | (~Q(partida_number="") & Q(registered_on__isnull=False)),
                name="title_registered_has_partida",
                violation_error_message=_("A registered title needs its partida number and date."),
            ),
            models.CheckConstraint(
                condition=~Q(status=TitleStatus.REJECTED) | ~Q(rejection_reason=""),
                name="title_rejected_has_reason",
                violation_error_message=_("A rejection needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household.code} · {self.get_status_display()}"


class TitleStatusChange(CreatedByModel):
    """One move of a title file: from, to, who (``created_by`` / ``created_by_key``), note, when
    (written in the move's transaction)."""

    application = models.ForeignKey(
        TitleApplication,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("title application"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=TitleStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=TitleStatus.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("title status change")
        verbose_name_plural = _("title status changes")
        indexes = [models.Index(fields=["application", "at"], name="title_change_app_idx")]

    def __str__(self) -> str:
        start = self.get_from_status_display() if self.from_status else "—"
        return f"{start} → {self.get_to_status_display()}"


class Objection(CreatedByModel):
    """An objection to a title filed during the public notice, and its decision (who recorded
    it: ``created_by`` / ``created_by_key``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        TitleApplication,
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name=_("title application"),
    )
    objector_name = models.CharField(_("objector"), max_length=200)
    grounds = models.TextField(_("grounds"))
    filed_on = models.DateField(_("filed on"), default=timezone.localdate)
    decision = models.CharField(
        _("decision"),
        max_length=12,
        choices=ObjectionDecision.choices,
        default=ObjectionDecision.PENDING,
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        indexes = [models.Index(fields=["application", "created_at"], name="objection_app_idx")]

    def __str__(self) -> str:
        return f"{self.objector_name} · {self.get_decision_display()}"


def document_path(instance: TitleDocument, filename: str) -> str:
    """Store files under their application, named by their hash (no user-given names)."""
    return f"titles/{instance.application_id}/{instance.sha256[:16]}-{instance.pk}"


class TitleDocument(CreatedByModel):
    """A document of a title file (PDF, JPEG or PNG), with its SHA-256 (who uploaded it:
    ``created_by`` / ``created_by_key``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        TitleApplication,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("title application"),
    )
    type = models.CharField(_("type"), max_length=24, choices=TitleDocumentType.choices)
    file = models.FileField(_("file"), upload_to=document_path)
    filename = models.CharField(_("original name"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=50)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("title document")
        verbose_name_plural = _("title documents")
        indexes = [
            models.Index(fields=["application", "type"], name="title_document_type_idx"),
            models.Index(fields=["application", "created_at"], name="title_document_app_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.sha256[:12]}"


class DashboardTitleMonth(models.Model):
    """The dashboard's title cells per month (``titles.summaries``): files submitted, titles
    issued and titles registered in the month (by the file's dates), and for the files
    registered in it the days from submission to registration (sum and count, so a mean can be
    shown). Append-only delta rows: a cell is the sum of its rows."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    month = models.DateField(_("month"))
    submitted = models.IntegerField(_("files submitted"), default=0)
    issued = models.IntegerField(_("titles issued"), default=0)
    registered = models.IntegerField(_("titles registered"), default=0)
    days_sum = models.BigIntegerField(_("days from submission to registration (sum)"), default=0)
    days_count = models.IntegerField(_("files with days to title"), default=0)

    class Meta:
        ordering = ["district", "program", "month"]
        verbose_name = _("dashboard cell: titles per month")
        verbose_name_plural = _("dashboard cells: titles per month")
        indexes = [
            models.Index(fields=["district", "program", "month"], name="dash_titlemonth_cell_idx"),
            models.Index(fields=["program", "month"], name="dash_titlemonth_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.month}"


class DashboardTitleOpen(models.Model):
    """The dashboard's open title files now (``titles.summaries``), by status (the statuses of
    ``OPEN_STATUSES``: submitted up to SUNARP's registration). Append-only delta rows."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    status = models.CharField(_("status"), max_length=20, choices=TitleStatus.choices)
    files = models.IntegerField(_("files"), default=0)

    class Meta:
        ordering = ["district", "program", "status"]
        verbose_name = _("dashboard cell: open title files")
        verbose_name_plural = _("dashboard cells: open title files")
        indexes = [
            models.Index(fields=["district", "program", "status"], name="dash_titleopen_cell_idx"),
            models.Index(fields=["program"], name="dash_titleopen_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.status}: {self.files}"
