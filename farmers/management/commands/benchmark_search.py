"""``benchmark_search``: p50/p95 of the household search (``?q=``, page of 50) through the real
API stack, per kind of search: a given name, a surname, a given name and a surname, part of a
surname, another member's name, an ID number (body in ``farmers.devtools.benchmarks``).

Run it against a database seeded with ``seed_households`` (README, "Search").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.benchmarks import benchmark_search


class Command(BaseCommand):
    help = "Measure household search latency per kind of search through the API (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument(
            "--requests", type=int, default=100, help="Searches of each kind (default 100)."
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_search(
            program_code=options["program"],
            requests=options["requests"],
            seed=options["seed"],
            write=self.stdout.write,
        )
