"""``benchmark_annual_report``: time the annual results report for one programme-year on the
current database (p50 of ``--runs``; body in ``farmers.devtools.annual_bench``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from farmers.devtools.annual_bench import benchmark_annual_report


class Command(BaseCommand):
    help = "Time the annual results report of one programme-year (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--year", type=int, default=timezone.localdate().year)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--live", action="store_true", help="Compute from the records, not the stored rows."
        )
        parser.add_argument(
            "--refresh", action="store_true", help="Store the programme-year's rows first."
        )
        parser.add_argument(
            "--cold", action="store_true", help="Drop the cached report before each run."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_annual_report(
            program_code=options["program"],
            year=options["year"],
            runs=options["runs"],
            write=self.stdout.write,
            live=options["live"],
            refresh=options["refresh"],
            cold=options["cold"],
        )
