"""``benchmark_eudr --plots N`` (or ``--members N``): seconds to build a contract's EUDR GeoJSON
file, a household's with N plots or a producer organisation's with N delivering members
(``markets.devtools.eudr``; rolled back)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.devtools.eudr import benchmark_eudr, benchmark_eudr_members


class Command(BaseCommand):
    help = (
        "Time the EUDR GeoJSON file of a contract whose seller has N plots, or (--members N) "
        "of a producer organisation's contract with N delivering members (rolled back)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plots", type=int, default=2000)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument(
            "--members", type=int, default=0, help="An organisation's contract with N members."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["plots"] < 1 or options["repeat"] < 1:
            raise CommandError("--plots and --repeat must be at least 1.")
        try:
            if options["members"] > 0:
                benchmark_eudr_members(
                    members=options["members"], repeat=options["repeat"], write=self.stdout.write
                )
                return
            benchmark_eudr(
                plots=options["plots"], repeat=options["repeat"], write=self.stdout.write
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
