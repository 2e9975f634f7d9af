"""``seed_deliveries --count N``: N synthetic deliveries on active contracts, for benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.devtools.seeding import bench_buyers, seed_deliveries
from registry.models import Program


class Command(BaseCommand):
    help = (
        "Generate N deliveries (and their contracts with benchmark buyers) for the households of "
        "a programme seeded by seed_households (benchmarks)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--program", default="bench", help="Programme code.")
        parser.add_argument("--buyers", type=int, default=5)
        parser.add_argument("--per-contract", type=int, default=10)
        parser.add_argument("--chunk-contracts", type=int, default=10_000)

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if count <= 0 or options["buyers"] <= 0 or options["per_contract"] <= 0:
            raise CommandError("--count, --buyers and --per-contract must be positive.")
        if options["chunk_contracts"] <= 0:
            raise CommandError("--chunk-contracts must be positive.")
        program = Program.objects.filter(code=options["program"]).first()
        if program is None or not program.households.exists():
            raise CommandError(
                f"Programme {options['program']!r} has no households: run seed_households first."
            )
        buyers = bench_buyers(options["buyers"])
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"{done:>9,} / {total:,} deliveries  ({rate:,.0f}/s)")

        seed_deliveries(
            count=count,
            program=program,
            buyers=buyers,
            per_contract=options["per_contract"],
            chunk_contracts=options["chunk_contracts"],
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Seeded {count:,} deliveries in {elapsed:.1f} s.")
