"""``benchmark_eudr --plots N``: seconds to build a contract's EUDR GeoJSON file
(``markets.devtools.eudr``; rolled back)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.devtools.eudr import benchmark_eudr


class Command(BaseCommand):
    help = "Time the EUDR GeoJSON file of a contract whose seller has N plots (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plots", type=int, default=2000)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["plots"] < 1 or options["repeat"] < 1:
            raise CommandError("--plots and --repeat must be at least 1.")
        try:
            benchmark_eudr(
                plots=options["plots"], repeat=options["repeat"], write=self.stdout.write
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
