"""``benchmark_sweep``: households per second of a full transition sweep, and the latency of a
recompute after commit with a running Celery worker.

The sweep is planned like the nightly one (``SweepRun`` + id ranges) and its ranges are run by
``--workers`` processes (each like one Celery worker process, with its own database connection),
``--runs`` times on consecutive days (``--today``, then the next night, ...): after seeding, the
first sweep writes every stage that moves (seeded stages are random); the next nights are the
steady state, where only time moves stages (visits expire, market links lapse, visits fall due).
With ``--latency N`` (needs ``REDIS_URL`` and a worker: ``celery -A config worker``) it then
confirms N coca-free visits, one transaction each, and measures the time from commit until the
household's new stage is visible.

Run it against ``seed_households --count 1000000`` + ``seed_transition_evidence`` (README).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from farmers.choices import HouseholdStatus, Stage, VerificationStatus
from farmers.models import Household, StageChange, SweepRun, Verification
from farmers.transition import recompute_on_commit
from farmers.transition.sweep import plan, run_range
from registry.models import Alert


def _run(range_ids: list[int]) -> int:
    """Run ranges in a worker process (its own connection)."""
    done = 0
    for range_id in range_ids:
        done += int(run_range(range_id)["households"])
    connection.close()
    return done


class Command(BaseCommand):
    help = "Measure the transition sweep (households/s) and recompute-after-commit latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--today", type=date.fromisoformat, default=None)
        parser.add_argument("--runs", type=int, default=2, help="Sweeps, one a day (default 2).")
        parser.add_argument(
            "--latency", type=int, default=0, help="Recompute-after-commit samples (worker)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1 or options["chunk_size"] < 1:
            raise CommandError("--workers and --chunk-size must be positive.")
        today = options["today"] or timezone.localdate()
        total = Household.objects.count()
        self.stdout.write(
            f"{total:,} households, {options['workers']} worker processes, "
            f"ranges of {options['chunk_size']:,}, today {today}"
        )
        for number in range(1, options["runs"] + 1):
            day = today + timedelta(days=number - 1)
            self._sweep(number, day, options["workers"], options["chunk_size"])
        if options["latency"]:
            self._latency(options["latency"])

    def _sweep(self, number: int, today: date, workers: int, chunk: int) -> None:
        ledger_before = StageChange.objects.count()
        alerts_before = Alert.objects.count()
        started = time.perf_counter()
        # A fresh run each time (the benchmark measures whole sweeps, not a resume).
        SweepRun.objects.filter(today=today).exclude(status="done").update(status="done")
        run = plan(today=today, chunk_size=chunk, queue=False)
        planned = time.perf_counter() - started
        ids = list(run.ranges.order_by("lo").values_list("pk", flat=True))
        if workers == 1:
            swept = sum(int(run_range(range_id)["households"]) for range_id in ids)
        else:
            batches = [ids[i::workers] for i in range(workers)]
            connection.close()  # the workers must not share this connection
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                swept = sum(pool.map(_run, batches))
        elapsed = time.perf_counter() - started
        run.refresh_from_db()
        changes = StageChange.objects.count() - ledger_before
        alerts = Alert.objects.count() - alerts_before
        self.stdout.write(
            f"sweep {number} ({today}): {swept:,} households in {elapsed:.1f} s "
            f"(planning {planned:.1f} s) = {swept / elapsed:,.0f} households/s; "
            f"{changes:,} stage changes, {alerts:,} alerts raised; run {run.pk} {run.status} "
            f"{run.ranges_done}/{run.ranges_total} ranges"
        )

    def _latency(self, samples: int) -> None:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
            raise CommandError("--latency needs REDIS_URL and a running worker (not eager).")
        today = timezone.localdate()
        candidates = list(
            Household.objects.filter(status=HouseholdStatus.ACTIVE, stage=Stage.COMMITTED)
            .order_by("pk")
            .values_list("pk", flat=True)[:samples]
        )
        if len(candidates) < samples:
            raise CommandError("Not enough committed households: run a sweep first.")
        timings: list[float] = []
        for hid in candidates:
            with transaction.atomic():
                Verification.objects.create(
                    household_id=hid,
                    visited_on=today,
                    method="field_visit",
                    coca_ha=Decimal("0"),
                    licit_crops=[{"crop": "cacao", "ha": "1.5"}],
                    status=VerificationStatus.CONFIRMED,
                )
                recompute_on_commit([hid])
            committed = time.perf_counter()
            while time.perf_counter() - committed < 10:
                stage = Household.objects.filter(pk=hid).values_list("stage", flat=True).get()
                if stage != Stage.COMMITTED:
                    timings.append(time.perf_counter() - committed)
                    break
                time.sleep(0.005)
            else:
                raise CommandError(f"Household {hid} not recomputed within 10 s: is a worker up?")
        timings.sort()
        self.stdout.write(
            f"recompute after commit ({samples} samples): "
            f"p50 {statistics.median(timings) * 1000:.0f} ms, "
            f"p95 {timings[int(0.95 * (len(timings) - 1))] * 1000:.0f} ms, "
            f"max {timings[-1] * 1000:.0f} ms"
        )
