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
The body is in ``farmers.devtools.benchmarks``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers.devtools.benchmarks import benchmark_sweep


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
        benchmark_sweep(
            workers=options["workers"],
            chunk_size=options["chunk_size"],
            today=options["today"],
            runs=options["runs"],
            latency=options["latency"],
            write=self.stdout.write,
        )
