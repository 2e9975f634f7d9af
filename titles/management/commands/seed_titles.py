"""``seed_titles --count N``: N synthetic title files over seeded households, for benchmarks
(``titles.devtools.seeding``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.geography import VRAEM_DISTRICTS
from registry.models import Program
from titles.devtools.seeding import bench_authority, seed_titles


class Command(BaseCommand):
    help = "Generate N title applications over the plots of seeded households (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--program", default="bench", help="Programme of the households.")
        parser.add_argument("--chunk-size", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] <= 0 or options["chunk_size"] <= 0:
            raise CommandError("--count and --chunk-size must be positive.")
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(
                f"No programme “{options['program']}”: run seed_households --count N first."
            )
        authority = bench_authority(sorted(VRAEM_DISTRICTS))
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"{done:>9,} / {total:,} title files  ({rate:,.0f}/s)")

        try:
            seed_titles(
                count=options["count"],
                program=program,
                authority=authority,
                chunk_size=options["chunk_size"],
                seed=options["seed"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Seeded {options['count']:,} title files in {elapsed:.1f} s.")
