"""``rebuild_dashboard_summaries``: recompute the dashboard's summary tables from the records.

Run it after bulk loads that bypass the services (``seed_households``,
``seed_transition_evidence``, restores) and whenever a check finds the tables stale; the services
keep them exact otherwise (``farmers.reporting.summaries``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.reporting import summaries


class Command(BaseCommand):
    help = "Recompute the dashboard's summary tables from households, ledger and support."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=50_000)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        cells = summaries.rebuild(chunk_size=options["chunk_size"], write=self.stdout.write)
        shown = ", ".join(f"{part} {n:,} cells" for part, n in cells.items())
        self.stdout.write(f"Rebuilt in {time.monotonic() - started:.1f} s: {shown}")
