"""Celery tasks of the farmers app: the transition engine's recomputes and nightly sweep.

Every task takes ids, is idempotent and runs with the project's reliability settings
(``acks_late``, ``reject_on_worker_lost``, time limits: config/settings/base.py): a task lost
with its worker is delivered again and redoing it changes nothing that was already written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task


@shared_task(name="farmers.tasks.recompute_households", acks_late=True)
def recompute_households(household_ids: list[str]) -> int:
    """Recompute the stage of ``household_ids`` (queued after the commit of an evidence change).

    Idempotent: a household whose stage does not move writes nothing. Returns how many changed.
    """
    from .transition.engine import recompute_households as run

    return run(household_ids)


@shared_task(name="farmers.tasks.plan_sweep", acks_late=True)
def plan_sweep(today: str | None = None, chunk_size: int | None = None) -> int:
    """Nightly (beat): split all households into id ranges and queue one ``sweep_range`` each.

    Planning again for a day whose sweep is unfinished resumes it (queues its pending ranges
    again); returns the sweep's id.
    """
    from .transition.sweep import plan

    run = plan(today=date.fromisoformat(today) if today else None, chunk_size=chunk_size)
    return run.pk


@shared_task(name="farmers.tasks.sweep_range", acks_late=True)
def sweep_range(range_id: int) -> dict[str, Any]:
    """Recompute the households of one id range of a sweep, once (a done range is a no-op)."""
    from .transition.sweep import run_range

    return run_range(range_id)


@shared_task(name="farmers.tasks.refresh_annual_reports", acks_late=True)
def refresh_annual_reports(
    years: list[int] | None = None, programs: list[str] | None = None
) -> int:
    """Nightly after the sweep (beat) and on demand: store the annual report's rows of
    ``years`` (default: the previous and current year) for ``programs`` (codes; default: all).

    Idempotent: each programme-year's rows are replaced in one transaction. Returns how many
    programme-years were stored."""
    from .reporting.annual_snapshots import refresh_annual_snapshots

    return refresh_annual_snapshots(years=years, programs=programs)


@shared_task(name="farmers.tasks.raise_request_alerts", acks_late=True)
def raise_request_alerts() -> dict[str, int]:
    """Daily: alert on data-subject requests (Law 29733) close to or past their deadline;
    resolve the alerts of requests closed or extended. Idempotent: reruns add no duplicates."""
    from .services import request_alerts_sync

    return request_alerts_sync()


@shared_task(name="farmers.tasks.run_import_job", acks_late=True)
def run_import_job(job_id: str) -> str:
    """Run an import job's current phase: the check of the file, or the import in chunks
    (idempotent: a finished job is left alone; an interrupted import resumes after its last
    committed chunk). Returns the job's status."""
    from .services.imports import import_job_run

    job = import_job_run(job_id)
    return job.status if job is not None else "missing"


@shared_task(name="farmers.tasks.find_import_duplicates", acks_late=True)
def find_import_duplicates(household_ids: list[str]) -> int:
    """Queue the near matches of a chunk of imported households for review (after the chunk
    commits; idempotent). Returns how many pairs were found."""
    from .importing.pipeline import find_possible_duplicates

    return find_possible_duplicates(household_ids)


@shared_task(name="farmers.tasks.prune_import_files", acks_late=True)
def prune_import_files() -> int:
    """Daily (beat): delete the uploaded files of imports finished more than
    ``JOB_FILE_RETENTION_DAYS`` ago, except a checked file still awaiting its confirmation
    (the jobs and their row errors stay in the history)."""
    from django.db.models import Q

    from registry.jobs import prune_files
    from registry.models import JobStatus

    from .models import ImportJob
    from .models.imports import ImportPhase

    waiting = Q(phase=ImportPhase.VALIDATE, status=JobStatus.SUCCEEDED, confirmed_at__isnull=True)
    return prune_files(ImportJob, keep=waiting)
