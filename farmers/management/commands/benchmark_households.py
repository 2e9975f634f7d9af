"""``benchmark_households``: p50/p95 of the household list (page of 50 filtered by district and
stage), of searches by name, part of a name and ID number over the whole registry, and of a
4-member registration with deduplication, through the real API stack, plus the
number of queries per list request for page sizes 1, 50 and 100 (body in
``farmers.devtools.benchmarks``).

Run it against a database seeded with ``seed_households --count 1000000`` (README).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.benchmarks import benchmark_households


class Command(BaseCommand):
    help = "Measure household list and registration latency through the API (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--registrations", type=int, default=100)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_households(
            program_code=options["program"],
            requests=options["requests"],
            registrations=options["registrations"],
            seed=options["seed"],
            write=self.stdout.write,
        )
