"""The dashboard's summary tables: counts and sums per district × programme (× month × stage or
funding source), kept up to date by the transactions that change what they count.

Each table holds additive cells: a change adds a (possibly negative) delta to the cells it
touches, set-based (``farmers.reporting.summaries``), and ``rebuild_dashboard_summaries``
recomputes them all from the records. Cells that fall to zero stay until the next rebuild;
readers ignore them. Only reviewed (active) households count, in their current district and
programme, as in the indicators (``docs/indicators.md``).
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.models.bases import district_column, program_column

from ..choices import Stage


class DashboardHouseholds(models.Model):
    """Active households now, by district, programme, stage and whether they hold secure
    tenure (the ``tenure`` milestone)."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    tenure = models.BooleanField(_("holds secure tenure"))
    households = models.IntegerField(_("households"), default=0)

    class Meta:
        ordering = ["district", "program", "stage", "tenure"]
        verbose_name = _("dashboard cell: households now")
        verbose_name_plural = _("dashboard cells: households now")
        # Cells are append-only deltas (``farmers.reporting.summaries``): a cell is the sum of
        # its rows, so concurrent writers never wait for one another.
        indexes = [
            models.Index(
                fields=["district", "program", "stage", "tenure"], name="dash_households_cell_idx"
            ),
            models.Index(fields=["program"], name="dash_households_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.stage}: {self.households}"


class DashboardStageMonth(models.Model):
    """Moves into and out of each stage per month: registrations enter ``enrolled`` in their
    month, and every ledger row (``StageChange.objects.own()``) leaves its ``from_stage`` and
    enters its ``to_stage`` in the month of ``effective_on``. The households at a stage at a
    month's end are the entries minus the exits up to that month."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    month = models.DateField(_("month"))
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    entered = models.IntegerField(_("entered"), default=0)
    left = models.IntegerField(_("left"), default=0)

    class Meta:
        ordering = ["district", "program", "month", "stage"]
        verbose_name = _("dashboard cell: stage moves per month")
        verbose_name_plural = _("dashboard cells: stage moves per month")
        # Cells are append-only deltas (``farmers.reporting.summaries``): a cell is the sum of
        # its rows, so concurrent writers never wait for one another.
        indexes = [
            models.Index(
                fields=["district", "program", "month", "stage"], name="dash_stagemonth_cell_idx"
            ),
            models.Index(fields=["program", "month"], name="dash_stagemonth_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.month} {self.stage}"


class DashboardReach(models.Model):
    """Households that first reached each rung of the ladder (rank 1–5: committed … graduated,
    relapsed and excluded families counting as coca-free) in each month."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    month = models.DateField(_("month"))
    rank = models.PositiveSmallIntegerField(_("rung"))
    households = models.IntegerField(_("households"), default=0)

    class Meta:
        ordering = ["district", "program", "month", "rank"]
        verbose_name = _("dashboard cell: rungs reached per month")
        verbose_name_plural = _("dashboard cells: rungs reached per month")
        # Cells are append-only deltas (``farmers.reporting.summaries``): a cell is the sum of
        # its rows, so concurrent writers never wait for one another.
        indexes = [
            models.Index(
                fields=["district", "program", "month", "rank"], name="dash_reach_cell_idx"
            ),
            models.Index(fields=["program", "month"], name="dash_reach_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.month} {self.rank}"


class DashboardRelapses(models.Model):
    """Households that relapsed in each month: a household with one or more own ledger moves
    into ``relapsed`` dated in the month counts once in it, however many moves it made."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    month = models.DateField(_("month"))
    households = models.IntegerField(_("households"), default=0)

    class Meta:
        ordering = ["district", "program", "month"]
        verbose_name = _("dashboard cell: households relapsed per month")
        verbose_name_plural = _("dashboard cells: households relapsed per month")
        # Cells are append-only deltas (``farmers.reporting.summaries``): a cell is the sum of
        # its rows, so concurrent writers never wait for one another.
        indexes = [
            models.Index(fields=["district", "program", "month"], name="dash_relapses_cell_idx"),
            models.Index(fields=["program", "month"], name="dash_relapses_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.month}: {self.households}"


class DashboardSpend(models.Model):
    """Active support given to active households per month and funding source (the funder's
    code, empty when none), in céntimos of PEN (exact sums on every database)."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    funder = models.CharField(_("funding source"), max_length=50, blank=True)
    month = models.DateField(_("month"))
    cost_cents = models.BigIntegerField(_("cost (céntimos of PEN)"), default=0)
    items = models.IntegerField(_("support items"), default=0)

    class Meta:
        ordering = ["district", "program", "funder", "month"]
        verbose_name = _("dashboard cell: spend per month")
        verbose_name_plural = _("dashboard cells: spend per month")
        # Cells are append-only deltas (``farmers.reporting.summaries``): a cell is the sum of
        # its rows, so concurrent writers never wait for one another.
        indexes = [
            models.Index(
                fields=["district", "program", "funder", "month"], name="dash_spend_cell_idx"
            ),
            models.Index(fields=["program", "month"], name="dash_spend_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.funder} {self.month}"


class AnnualReportRows(models.Model):
    """One section's rows of the annual results report for one programme and calendar year, as
    the section computed them (aggregates by district and the head's profile: no household, no
    person), stored by ``farmers.reporting.annual_snapshots.refresh_annual_snapshots`` (nightly
    after the sweep, and on demand) so that the report of a calendar year reads a few thousand
    rows instead of scanning the records of every household. The report says when they were
    computed (``computed_at``)."""

    year = models.PositiveSmallIntegerField(_("year"))
    program = models.ForeignKey(
        "registry.Program", on_delete=models.CASCADE, related_name="+", verbose_name=_("programme")
    )
    section = models.CharField(_("section"), max_length=40)
    rows = models.JSONField(_("rows"), default=list, encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["year", "program", "section"]
        verbose_name = _("annual report rows")
        verbose_name_plural = _("annual report rows")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "program", "section"], name="annual_rows_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.program_id} {self.section}"
