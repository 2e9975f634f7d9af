"""``refresh_annual_reports``: store the annual results report's rows of one or more calendar
years (default: the previous and current year) for every programme or the ones named, so the
report of those years reads them (``farmers.reporting.annual_snapshots``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.reporting.annual_snapshots import refresh_annual_snapshots


class Command(BaseCommand):
    help = "Store the annual report's rows of calendar years (nightly after the sweep)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, action="append", help="A calendar year (repeat for more)."
        )
        parser.add_argument(
            "--program", action="append", help="A programme code (repeat; default: all)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        stored = refresh_annual_snapshots(
            years=options["year"], programs=options["program"], progress=self.stdout.write
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(f"programme-years stored: {stored} ({elapsed:.1f} s)")
