"""The transition ledger (``StageChange``) and the nightly sweep's bookkeeping
(``SweepRun``, ``SweepRange``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import (
    district_column,
    program_column,
)

from ..choices import (
    Stage,
    SweepStatus,
)
from .households import Household


class StageChangeQuerySet(models.QuerySet["StageChange"]):
    """Ledger rows; ``own()`` leaves out the rows a merge brought in (see ``StageChange``)."""

    def own(self) -> StageChangeQuerySet:
        """The household's own moves: what a replay of its ledger (indicators, checks) reads.
        Rows moved in by a merge are history of the merged-away record, kept for reading."""
        return self.exclude(evidence__has_key="merged_from")


class StageChange(models.Model):
    """One entry of the transition ledger: a household moved from one stage to another.

    Written by the transition engine only when the computed stage differs from the stored one,
    so recomputes and nightly reruns never add duplicate rows. ``id`` is a growing sequence:
    partners sync ``transition-events/`` in id order. ``evidence`` summarises the dated facts
    behind the decision (it is an automated decision about people: it must be explainable).

    A merge moves the merged-away household's rows to the surviving one, annotated with
    ``evidence["merged_from"]`` (the merged-away code) and ``evidence["merged_on"]``; the
    survivor's own stage is recomputed from all the evidence and logged in rows of its own, so
    replays of a household's ledger read ``StageChange.objects.own()``.
    """

    id = models.BigAutoField(primary_key=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="stage_changes",
        verbose_name=_("household"),
        db_index=False,  # stagechange_hh_idx leads with it
    )
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices)
    effective_on = models.DateField(_("effective on"))
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=40)
    evidence = models.JSONField(_("evidence summary"), default=dict, blank=True)
    # Denormalised from the household at the time, for indicators and scoping without joins.
    # Indexed through the composite indexes below, which lead with them.
    district = district_column(db_index=False)
    program = program_column(db_index=False)

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["household", "id"], name="stagechange_hh_idx"),
            models.Index(fields=["program", "effective_on"], name="stagechange_program_idx"),
            models.Index(fields=["district", "effective_on"], name="stagechange_district_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_stage_display()} → {self.get_to_stage_display()}"


class SweepRun(models.Model):
    """One sweep of the transition engine over all households for a day (nightly, by beat).

    The planner splits households into id ranges (``SweepRange``) and queues one task per
    range; each task adds its counts here when it finishes, so progress is visible while the
    sweep runs. Planning again for the same day resumes the unfinished run.
    """

    id = models.BigAutoField(primary_key=True)
    today = models.DateField(_("computed for"))
    status = models.CharField(
        _("status"), max_length=12, choices=SweepStatus.choices, default=SweepStatus.RUNNING
    )
    ranges_total = models.PositiveIntegerField(_("ranges"), default=0)
    ranges_done = models.PositiveIntegerField(_("ranges done"), default=0)
    households = models.PositiveIntegerField(_("households processed"), default=0)
    changes = models.PositiveIntegerField(_("stage changes"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("transition sweep")
        verbose_name_plural = _("transition sweeps")
        indexes = [models.Index(fields=["today", "status"], name="sweeprun_today_idx")]

    def __str__(self) -> str:
        return f"{self.today} · {self.ranges_done}/{self.ranges_total}"

    @property
    def progress(self) -> int:
        """Per cent of ranges done."""
        if not self.ranges_total:
            return 100 if self.status == SweepStatus.DONE else 0
        return int(100 * self.ranges_done / self.ranges_total)


class SweepRange(models.Model):
    """A range of household ids (``lo`` to ``hi``, both included) swept by one task."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(
        SweepRun, on_delete=models.CASCADE, related_name="ranges", verbose_name=_("sweep")
    )
    lo = models.UUIDField(_("first household id"))
    hi = models.UUIDField(_("last household id"))
    status = models.CharField(
        _("status"), max_length=12, choices=SweepStatus.choices, default=SweepStatus.PENDING
    )
    households = models.PositiveIntegerField(_("households processed"), default=0)
    changes = models.PositiveIntegerField(_("stage changes"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["run", "lo"]
        verbose_name = _("sweep range")
        verbose_name_plural = _("sweep ranges")
        constraints = [
            models.UniqueConstraint(fields=["run", "lo"], name="sweeprange_run_lo_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lo} … {self.hi}"
