"""Services of background jobs (``registry.models.jobs.BackgroundJob``): start, advance, finish,
fail, cancel, and the one progress payload the admin page's progress bar and the API show.

A job's task calls :func:`start`, then :func:`advance` after each chunk (a single ``UPDATE`` of
the progress columns, committed with the chunk, so a page reload shows where it is) and checks
:func:`cancelled` between chunks; it ends with :func:`finish` or :func:`fail`. People and
partners call :func:`request_cancel`. Every function takes the concrete job instance.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.display import moment
from registry.models.jobs import FINISHED, BackgroundJob, JobStatus


def start(job: BackgroundJob, *, total: int | None = None, phase: str = "") -> None:
    """Mark ``job`` running (from now), with its row total when known and its first phase."""
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.phase = phase
    fields = ["status", "started_at", "phase", "updated_at"]
    if total is not None:
        job.total = total
        fields.append("total")
    job.save(update_fields=fields)


def advance(
    job: BackgroundJob, *, done: int, total: int | None = None, phase: str | None = None
) -> None:
    """Record ``done`` rows (and a new total or phase) in one ``UPDATE`` of those columns."""
    values: dict[str, Any] = {"done": done, "updated_at": timezone.now()}
    if total is not None:
        values["total"] = total
    if phase is not None:
        values["phase"] = phase
    type(job)._default_manager.filter(pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)


def cancelled(job: BackgroundJob) -> bool:
    """True when someone asked to cancel ``job`` (read fresh from the database)."""
    return bool(type(job)._default_manager.filter(pk=job.pk, cancel_requested=True).exists())


def request_cancel(job: BackgroundJob) -> bool:
    """Ask ``job`` to stop at its next chunk; a queued job is cancelled at once. False when it
    has already finished."""
    if job.status in FINISHED:
        return False
    job.cancel_requested = True
    fields = ["cancel_requested", "updated_at"]
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
        fields += ["status", "finished_at"]
    job.save(update_fields=fields)
    return True


def finish(job: BackgroundJob, *, status: str = JobStatus.SUCCEEDED) -> None:
    """End ``job`` with ``status`` (succeeded or cancelled), stamped now."""
    job.status = status
    job.finished_at = timezone.now()
    if status == JobStatus.SUCCEEDED and job.total:
        job.done = job.total
    job.save(update_fields=["status", "finished_at", "done", "updated_at"])


def fail(job: BackgroundJob, message: str) -> None:
    """End ``job`` as failed with ``message`` for people (never a traceback or personal data)."""
    job.status = JobStatus.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.save(update_fields=["status", "finished_at", "error", "updated_at"])


def _seconds_text(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": seconds}
    return _("%(s)d s") % {"s": seconds}


# The columns ``progress`` reads of a job (directly or through its properties).
PROGRESS_COLUMNS = (
    "status",
    "phase",
    "done",
    "total",
    "started_at",
    "finished_at",
    "cancel_requested",
    "error",
)


def progress(job: BackgroundJob) -> dict[str, Any]:
    """The progress of ``job`` as the admin page and the API show it: status code and label,
    rows done of total, percentage, rate (rows/s), seconds and words for the time left, and the
    start and end in local time (``dd/mm/aaaa hh:mm``)."""
    rate = job.rate
    left = job.time_left
    return {
        "status": job.status,
        "status_label": str(JobStatus(job.status).label),
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "rate": round(rate, 1) if rate else None,
        "seconds_left": int(left.total_seconds()) if left is not None else None,
        "time_left": _seconds_text(left.total_seconds()) if left is not None else "",
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "started_at_text": moment(job.started_at) if job.started_at else "",
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "cancel_requested": job.cancel_requested,
        "error": job.error,
    }


def prune_files(model: type[Any], *, keep: Q | None = None, days: int | None = None) -> int:
    """Delete the stored files (field ``file``) of ``model``'s jobs that finished more than
    ``days`` days ago (``JOB_FILE_RETENTION_DAYS``), except those matching ``keep``: exports and
    uploads hold personal data and must not outlive their use. The job rows stay as history,
    with an empty file. Returns how many files were deleted."""
    cutoff = timezone.now() - timedelta(
        days=settings.JOB_FILE_RETENTION_DAYS if days is None else days
    )
    manager = model._default_manager
    jobs = manager.filter(status__in=FINISHED, finished_at__lt=cutoff).exclude(file="")
    if keep is not None:
        jobs = jobs.exclude(keep)
    pruned: list[Any] = []
    for job in jobs.only("pk", "file").iterator(chunk_size=500):
        job.file.delete(save=False)
        pruned.append(job.pk)
    for start in range(0, len(pruned), 500):
        manager.filter(pk__in=pruned[start : start + 500]).update(file="")
    return len(pruned)
