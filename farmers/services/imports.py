"""Household imports as background jobs: upload (the file is stored once), a check in the
background (a dry run with every row's errors), confirmation, the import in chunks with its
progress, cancel and resume (``farmers.importing.pipeline``; the job's lifecycle is
``registry.jobs``)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import jobs
from registry.actors import Actor
from registry.exceptions import InvalidTransition, PermissionDenied
from registry.models import JobStatus

from .. import policies
from ..importing import pipeline
from ..models import ImportIssue, ImportJob, ImportPhase, ImportStage


class _Stopped(Exception):
    """Someone asked the job to stop: end it as cancelled after the last committed chunk."""


def _may_use(actor: Actor, job: ImportJob) -> bool:
    """Who started a job may watch, confirm and cancel it (a key: any key of its organization;
    superusers: every job)."""
    if actor.unrestricted:
        return True
    if actor.api_key is not None:
        key = job.created_by_key
        return key is not None and key.organization_id == actor.api_key.organization_id
    return actor.user is not None and job.created_by_id == actor.user.pk


def import_job_list(*, actor: Actor) -> Any:
    """The import jobs the actor may see, newest first."""
    queryset = ImportJob.objects.select_related("created_by", "created_by_key")
    if actor.unrestricted:
        return queryset
    if actor.api_key is not None:
        return queryset.filter(created_by_key__organization_id=actor.api_key.organization_id)
    if actor.user is None:
        return queryset.none()
    return queryset.filter(created_by=actor.user)


def import_job_create(
    *, actor: Actor, upload: IO[bytes], filename: str, queue: bool = True
) -> ImportJob:
    """Store an uploaded household file and queue its check (a dry run). The file's size and
    header are checked at once (``ValidationError`` on ``file``); the rows in the background
    (``queue=False``: the caller runs the job itself, as the management command does)."""
    if not policies.may_register(actor):
        raise PermissionDenied(_("Your role may not register households."), code="missing_scope")
    size = getattr(upload, "size", None)
    try:
        pipeline.check_size(size)
        pipeline.RowStream(upload, filename)  # the header only
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from exc
    upload.seek(0)
    job = ImportJob(
        filename=filename[:255] or "hogares.csv",
        phase=ImportPhase.VALIDATE,
        **actor.stamp(),
    )
    job.file.save(job.filename, File(upload, name=job.filename), save=False)
    with transaction.atomic():
        job.save(force_insert=True)
        if queue:
            _queue(job)
    return job


def _queue(job: ImportJob) -> None:
    from ..tasks import run_import_job

    pk = str(job.pk)
    transaction.on_commit(lambda: run_import_job.delay(pk))


def import_job_confirm(*, actor: Actor, job: ImportJob, queue: bool = True) -> ImportJob:
    """Import a checked file (no new upload): queued, then written in chunks."""
    if not _may_use(actor, job) or not policies.may_register(actor):
        raise PermissionDenied(_("You may not confirm this import."), code="missing_scope")
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not locked.awaiting_confirmation:
            raise InvalidTransition(locked.phase or "", ImportPhase.IMPORT, [])
        locked.issues.all().delete()
        locked.phase = ImportPhase.IMPORT
        locked.status = JobStatus.QUEUED
        locked.confirmed_at = timezone.now()
        locked.done = 0
        locked.resume_row = 0
        locked.started_at = None
        locked.finished_at = None
        locked.save()
        if queue:
            _queue(locked)
    return locked


def import_job_cancel(*, actor: Actor, job: ImportJob) -> ImportJob:
    """Stop a job at its next chunk (what was committed stays; a re-import skips it)."""
    if not _may_use(actor, job):
        raise PermissionDenied(_("You may not cancel this import."), code="missing_scope")
    if job.awaiting_confirmation:
        jobs.finish(job, status=JobStatus.CANCELLED)
        return job
    if not jobs.request_cancel(job):
        raise InvalidTransition(job.status, JobStatus.CANCELLED, [])
    return job


def import_job_resume(*, actor: Actor, job: ImportJob, queue: bool = True) -> ImportJob:
    """Queue again an import that failed midway: it resumes after its last committed chunk."""
    if not _may_use(actor, job):
        raise PermissionDenied(_("You may not resume this import."), code="missing_scope")
    if job.phase != ImportPhase.IMPORT or job.status != JobStatus.FAILED:
        raise InvalidTransition(job.status, JobStatus.QUEUED, [])
    job.status = JobStatus.QUEUED
    job.error = ""
    job.finished_at = None
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])
    if queue:
        _queue(job)
    return job


def _job_actor(job: ImportJob) -> Actor:
    if job.created_by_key is not None:
        return Actor.for_api_key(job.created_by_key)
    return Actor.for_user(job.created_by)


def _issues(job: ImportJob, result: pipeline.ChunkResult) -> None:
    ImportIssue.objects.bulk_create(
        [
            ImportIssue(
                job=job,
                row=issue.row,
                household_ref=issue.household_ref[:100],
                column=issue.column[:40],
                code=issue.code[:40],
                message=issue.message,
            )
            for issue in result.issues
        ],
        batch_size=2000,
    )


def _estimate_rows(job: ImportJob) -> int:
    """The rows of the file, for the progress bar of the check (lines of a CSV; the sheet's
    dimension of a workbook)."""
    with job.file.open("rb") as handle:
        if job.filename.lower().endswith((".xlsx", ".xlsm")):
            from openpyxl import load_workbook

            try:
                workbook = load_workbook(handle, read_only=True)
                rows = (workbook.worksheets[0].max_row or 1) - 1
                workbook.close()
                return max(rows, 0)
            except Exception:  # noqa: BLE001 - an unreadable file fails in the check itself
                return 0
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        return max(lines - 1, 0)


Progress = Callable[[ImportJob], None]


def _checksum(job: ImportJob) -> str:
    """The stored file's SHA-256 (the staged chunks belong to this file only)."""
    digest = hashlib.sha256()
    with job.file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_job_run(
    job_id: Any,
    *,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> ImportJob | None:
    """Run a job's current phase (the task's body; idempotent: a job already finished is left
    alone, an import interrupted midway resumes after its last committed chunk).
    ``progress(job)`` is called after each chunk (the management command prints it); the
    seconds spent per step are added to ``timings`` when given (the benchmark prints them)."""
    job = ImportJob.objects.select_related("created_by", "created_by_key").filter(pk=job_id).first()
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return job
    if job.cancel_requested:
        jobs.finish(job, status=JobStatus.CANCELLED)
        return job
    ctx = pipeline.Context(_job_actor(job))
    try:
        if job.phase == ImportPhase.IMPORT:
            _import(job, ctx, chunk_size, progress)
        else:
            _check(job, ctx, chunk_size, progress)
    except _Stopped:
        jobs.finish(job, status=JobStatus.CANCELLED)
    except ValidationError as exc:
        jobs.fail(job, " ".join(exc.messages))
    except Exception:
        jobs.fail(job, _("The import stopped unexpectedly; resume it to continue."))
        raise
    finally:
        if timings is not None:
            for step, seconds in ctx.timings.items():
                timings[step] = timings.get(step, 0.0) + seconds
    return job


def _check(
    job: ImportJob, ctx: pipeline.Context, chunk_size: int | None, progress: Progress | None
) -> None:
    job.issues.all().delete()
    job.stages.all().delete()
    jobs.start(job, total=_estimate_rows(job), phase=ImportPhase.VALIDATE)
    done = 0
    checksum = _checksum(job)
    today = ctx.today or timezone.localdate()

    def on_chunk(result: pipeline.ChunkResult, chunk: pipeline.Chunk) -> None:
        nonlocal done
        done += chunk.rows
        _issues(job, result)
        # The chunk as checked (its new households cleaned and valid): the import copies them
        # in without cleaning the rows again.
        with ctx.timed("stage"):
            ImportStage.objects.create(
                job=job,
                first_row=chunk.first_row,
                last_row=chunk.last_row,
                checksum=checksum,
                checked_on=today,
                data=pipeline.dump_stage(result),
            )
        jobs.advance(job, done=done, total=max(job.total, done))
        if progress is not None:
            progress(job)
        if jobs.cancelled(job):
            raise _Stopped

    with job.file.open("rb") as handle:
        totals = pipeline.run(
            ctx, handle, job.filename, write=False, on_chunk=on_chunk, chunk_size=chunk_size
        )
    # How many chunks were staged: the import writes them without reading the file only when
    # it finds every one of them.
    job.summary = {**totals.as_dict(), "staged": job.stages.count()}
    job.total = totals.rows
    job.save(update_fields=["summary", "total", "updated_at"])
    jobs.finish(job)


def _import(
    job: ImportJob, ctx: pipeline.Context, chunk_size: int | None, progress: Progress | None
) -> None:
    checked = pipeline.Totals.from_dict(job.summary)
    if job.resume_row == 0:
        job.summary = {
            **checked.as_dict(),
            "staged": job.summary.get("staged"),
            "created": 0,
            "imported": {},
        }
        job.save(update_fields=["summary", "updated_at"])
    jobs.start(job, total=checked.rows or job.total, phase=ImportPhase.IMPORT)
    # The stored file is the one checked: when the check found no ID already registered, the
    # IDs are not looked up again (the unique index catches one registered since).
    ctx.look_up_ids = "taken_ids" not in job.summary or checked.taken_ids > 0
    imported = pipeline.Totals.from_dict(job.summary.get("imported") or {})
    # The chunks the check staged, for this very file and today's rules (a chunk of another
    # size, another file or an earlier day is checked again in full).
    usable = ImportStage.objects.filter(
        job=job, checksum=_checksum(job), checked_on=ctx.today or timezone.localdate()
    )

    def staged(chunk: pipeline.Chunk) -> str | None:
        # The staged chunk's text; the pipeline reads it back (``load_stage``).
        data: str | None = (
            usable.filter(first_row=chunk.first_row, last_row=chunk.last_row)
            .values_list("data", flat=True)
            .first()
        )
        return data

    def on_chunk(result: pipeline.ChunkResult, chunk: pipeline.Chunk) -> None:
        # Inside the chunk's transaction: its rows, issues and the resume point commit together.
        imported.add(result.totals)
        _issues(job, result)
        job.summary = {
            **job.summary,
            "created": job.summary.get("created", 0) + len(result.created_ids),
            "imported": imported.as_dict(),
        }
        job.resume_row = chunk.last_row
        job.done = imported.rows
        job.save(update_fields=["summary", "resume_row", "done", "updated_at"])
        if progress is not None:
            transaction.on_commit(lambda: progress(job))

    def stage_text(pk: int) -> str | None:
        text: str | None = ImportStage.objects.filter(pk=pk).values_list("data", flat=True).first()
        return text

    # Every chunk the check staged, in file order: written without reading the file again.
    stages = [
        pipeline.StagedChunk(first, last, functools.partial(stage_text, pk))
        for pk, first, last in usable.order_by("first_row").values_list(
            "pk", "first_row", "last_row"
        )
    ]
    if len(stages) != job.summary.get("staged"):
        stages = []  # not all of them (another day's rules): the file is read chunk by chunk
    with job.file.open("rb") as handle:
        pipeline.run(
            ctx,
            handle,
            job.filename,
            write=True,
            after_row=job.resume_row,
            on_chunk=on_chunk,
            chunk_size=chunk_size,
            should_stop=lambda: jobs.cancelled(job),
            staged=staged,
            stages=stages,
        )
    if jobs.cancelled(job):
        raise _Stopped
    job.stages.all().delete()
    jobs.finish(job)


__all__ = [
    "import_job_cancel",
    "import_job_confirm",
    "import_job_create",
    "import_job_list",
    "import_job_resume",
    "import_job_run",
]
