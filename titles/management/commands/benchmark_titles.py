"""``benchmark_titles``: p50/p95 of the overdue title-file queue through the API
(``titles.devtools.benchmark``; README)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from titles.devtools.benchmark import NotSeeded, benchmark_titles


class Command(BaseCommand):
    help = "Measure the overdue title-file queue through the API (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--requests", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            benchmark_titles(
                program_code=options["program"],
                requests=options["requests"],
                write=self.stdout.write,
            )
        except NotSeeded as exc:
            raise CommandError(str(exc)) from exc
