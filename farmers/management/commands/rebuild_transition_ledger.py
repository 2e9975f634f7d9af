"""``rebuild_transition_ledger``: rebuild the transition ledger (one row per rung reached, each
on its day) and the milestones of existing households from their evidence, chunk by chunk,
with progress. Idempotent: a second run writes nothing. The body is in
``farmers.transition.rebuild``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers.transition.rebuild import DEFAULT_CHUNK, rebuild


class Command(BaseCommand):
    help = "Rebuild the transition ledger and milestones of existing households."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be positive.")
        outcome = rebuild(
            today=options["today"], chunk_size=options["chunk_size"], progress=self.stdout.write
        )
        rate = outcome.households / outcome.seconds if outcome.seconds else 0.0
        self.stdout.write(
            f"Done: {outcome.households} households in {outcome.seconds:.1f} s "
            f"({rate:,.0f}/s), {outcome.rewritten} rewritten, "
            f"{outcome.rows_written} ledger rows written."
        )
