"""``benchmark_indicators``: time every indicator (and the dashboard's whole read) against the
current database, with the number of queries each takes (body in ``farmers.devtools.benchmarks``).

Run it against a database seeded with ``seed_households --count N``; ``--ledger`` first gives
every seeded household without one a synthetic ledger entry (``enrolled`` → its stage, a month
after registration) and a support item, so the ledger-based indicators have rows to read.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.benchmarks import benchmark_indicators


class Command(BaseCommand):
    help = "Measure the indicators and the dashboard read on the current data (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument(
            "--ledger", action="store_true", help="Add a synthetic ledger entry and support first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_indicators(
            program_code=options["program"],
            repeat=options["repeat"],
            ledger=options["ledger"],
            write=self.stdout.write,
        )
