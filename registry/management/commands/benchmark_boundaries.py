"""``benchmark_boundaries``: time the district outlines' load and 10,000 GPS checks
(``registry.devtools.boundaries_bench``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.devtools.boundaries_bench import run


class Command(BaseCommand):
    help = "Time the district outlines: load, district_contains and gps_fix_plausible."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=10_000)

    def handle(self, *args: Any, **options: Any) -> None:
        for row in run(count=options["count"]):
            self.stdout.write(
                f"{row['check']:<45} {row['count']:>6} checks  {row['seconds']:>8.4f} s  "
                f"{row['per_second'] or '-':>8}/s  accepted {row['accepted']}"
            )
