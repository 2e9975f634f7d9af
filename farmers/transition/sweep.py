"""The nightly sweep: plan id ranges, run each range once, record progress in the database.

``plan`` creates a ``SweepRun`` with contiguous ``SweepRange`` rows covering the whole UUID
space (cut at every ``chunk_size``-th household id, keyset style) and queues one
``farmers.tasks.sweep_range`` per range after commit. ``run_range`` locks its range row, skips it
if done, recomputes the range with the engine and marks it done in the same transaction, adding
its counts to the run: a task delivered twice (a worker lost mid-task, a resumed plan) writes
nothing the second time.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from farmers.choices import SweepStatus
from farmers.models import Household, SweepRange, SweepRun
from farmers.reporting import summaries

from .engine import MAX_UUID, MIN_UUID, sweep_range

DEFAULT_CHUNK = 5000


def cut_points(chunk_size: int) -> list[uuid.UUID]:
    """Every ``chunk_size``-th household id in id order (the upper bounds of the ranges)."""
    ids = Household.objects.order_by("pk").values_list("pk", flat=True)
    points: list[uuid.UUID] = []
    last: uuid.UUID | None = None
    while True:
        page = ids.filter(pk__gt=last) if last is not None else ids
        point = page[chunk_size - 1 : chunk_size].first()
        if point is None:
            return points
        points.append(point)
        last = point


def plan(
    *, today: date | None = None, chunk_size: int | None = None, queue: bool = True
) -> SweepRun:
    """Plan (or resume) the sweep for ``today`` and queue its pending ranges after commit
    (``queue=False``: the caller runs them, e.g. the benchmark's process pool)."""
    from farmers.tasks import sweep_range as task

    today = today or timezone.localdate()
    chunk = int(chunk_size or getattr(settings, "TRANSITION_SWEEP_CHUNK", None) or DEFAULT_CHUNK)
    # The dashboard's summaries: yesterday's delta rows folded into one row per cell.
    summaries.compact()
    with transaction.atomic():
        run = (
            SweepRun.objects.select_for_update()
            .filter(today=today)
            .exclude(status=SweepStatus.DONE)
            .order_by("id")
            .first()
        )
        if run is None:
            run = SweepRun.objects.create(today=today, status=SweepStatus.RUNNING)
            bounds = [MIN_UUID]
            for point in cut_points(chunk):
                if point == MAX_UUID:
                    break
                bounds.append(uuid.UUID(int=point.int + 1))
            ranges = [
                SweepRange(
                    run=run,
                    lo=lo,
                    hi=uuid.UUID(int=bounds[i + 1].int - 1) if i + 1 < len(bounds) else MAX_UUID,
                )
                for i, lo in enumerate(bounds)
            ]
            SweepRange.objects.bulk_create(ranges)
            run.ranges_total = len(ranges)
            run.save(update_fields=["ranges_total"])
        pending = list(
            run.ranges.exclude(status=SweepStatus.DONE).order_by("lo").values_list("pk", flat=True)
        )

        def send() -> None:
            for range_id in pending:
                task.delay(range_id)

        if queue:
            transaction.on_commit(send)
    return run


def before_range_commit(range_id: int) -> None:
    """Runs inside a range's transaction, after its households are swept and before the range
    is marked done and committed. Does nothing: a seam for tests, which replace this module
    attribute (the worker-kill test, in its worker process, holds each range open a moment so
    the worker can be killed mid-range)."""


def run_range(range_id: int) -> dict[str, Any]:
    """Sweep one range once; return its counts (zeros when it was already done)."""
    with transaction.atomic():
        # Lock the range row only (``of=self``): locking the joined run row too would make
        # every worker wait for the others' ranges (one range at a time across all workers).
        row = (
            SweepRange.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(pk=range_id)
            .exclude(status=SweepStatus.DONE)
            .first()
        )
        if row is None:
            return {"households": 0, "changes": 0, "skipped": True}
        outcome = sweep_range(row.lo, row.hi, row.run.today)
        before_range_commit(row.pk)
        row.status = SweepStatus.DONE
        row.households = outcome.households
        row.changes = outcome.changes
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "households", "changes", "finished_at"])
        SweepRun.objects.filter(pk=row.run_id).update(
            ranges_done=F("ranges_done") + 1,
            households=F("households") + outcome.households,
            changes=F("changes") + outcome.changes,
        )
        SweepRun.objects.filter(pk=row.run_id, ranges_done__gte=F("ranges_total")).exclude(
            status=SweepStatus.DONE
        ).update(status=SweepStatus.DONE, finished_at=timezone.now())
    return {"households": outcome.households, "changes": outcome.changes, "skipped": False}


def run_all(*, today: date | None = None, chunk_size: int | None = None) -> SweepRun:
    """Plan and run a whole sweep in this process (embedded default, tests, benchmark)."""
    run = plan(today=today, chunk_size=chunk_size)
    for range_id in run.ranges.exclude(status=SweepStatus.DONE).values_list("pk", flat=True):
        run_range(range_id)
    run.refresh_from_db()
    return run
