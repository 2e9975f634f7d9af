"""The abstract base of every long-running job a person or partner starts and watches: imports
and exports. One lifecycle (queued → running → succeeded / failed / cancelled), one progress
shape (rows done of rows total, rate, time left) and one cancel flag; ``registry.jobs`` holds the
services that move a job and report its progress."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bases import CreatedByModel, TimestampedModel


class JobStatus(models.TextChoices):
    """Where a background job is in its life."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("finished")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class BackgroundJob(TimestampedModel, CreatedByModel):
    """A job run by a Celery task (in-process on the embedded default) that its starter watches.

    ``total`` and ``done`` count rows; ``phase`` names the step in progress (a code of the
    concrete job, shown through its label); ``cancel_requested`` is set by a person or partner
    and read by the task between chunks; ``error`` is a message for people (never a traceback).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=32, blank=True)
    total = models.PositiveIntegerField(_("rows in total"), default=0)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        """True once the job has succeeded, failed or been cancelled."""
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        """Rows done as a whole percentage of the total (100 once succeeded)."""
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    @property
    def elapsed(self) -> timedelta | None:
        """Time since the job started (until it finished)."""
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def rate(self) -> float | None:
        """Rows done per second so far; None before the first row."""
        elapsed = self.elapsed
        if not self.done or elapsed is None or elapsed.total_seconds() <= 0:
            return None
        return self.done / elapsed.total_seconds()

    @property
    def time_left(self) -> timedelta | None:
        """Estimated time to finish at the rate so far; None when it cannot be told."""
        rate = self.rate
        if self.is_finished or not rate or not self.total:
            return None
        return timedelta(seconds=max(0, self.total - self.done) / rate)
