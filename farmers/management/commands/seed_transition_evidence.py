"""``seed_transition_evidence``: agreements and confirmed visits for seeded households."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.transition_seeding import seed_evidence


class Command(BaseCommand):
    help = (
        "Add synthetic agreements and confirmed verification visits to households that have "
        "no agreement (run after seed_households; set-based on PostgreSQL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        agreements, visits, installations = seed_evidence(options["today"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Added {agreements:,} agreements, {visits:,} confirmed visits and "
            f"{installations:,} crop installations in {elapsed:.1f} s."
        )
