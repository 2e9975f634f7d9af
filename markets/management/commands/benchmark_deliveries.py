"""``benchmark_deliveries``: p50/p95 of the deliveries list through the API
(``markets.devtools.benchmark``; README)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.devtools.benchmark import benchmark_deliveries


class Command(BaseCommand):
    help = "Measure the deliveries list through the API for a buyer and programme staff (README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--buyer", default="bench-buyer-1")
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            benchmark_deliveries(
                program_code=options["program"],
                buyer_code=options["buyer"],
                requests=options["requests"],
                seed=options["seed"],
                write=self.stdout.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
