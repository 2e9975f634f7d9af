"""``benchmark_dashboard``: time the admin dashboard's whole read (the view, rendered) against the
current database, unfiltered and filtered, with its query count (body in
``farmers.devtools.benchmarks``). Read-only; run ``rebuild_dashboard_summaries`` first on a
database seeded past the services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.benchmarks import benchmark_dashboard


class Command(BaseCommand):
    help = "Measure the dashboard's whole read on the current data (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_dashboard(repeat=options["repeat"], write=self.stdout.write)
