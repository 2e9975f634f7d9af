"""``benchmark_list_path``: the household list through the whole API stack against a bare Django
view returning the same columns with members, side by side in one run (issue 19): p50, p95,
throughput and the median of their ratio over rounds, plus the queries per API request by page
size; ``--resource NAME|all`` does the same for the other lists (body in
``farmers.devtools.list_path``).

Run it against a database seeded with ``seed_households --count 1000000`` (README).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from farmers.devtools.list_path import benchmark_list_path


class Command(BaseCommand):
    help = "Compare the household list through the API with a bare Django view (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--page-size", type=int, default=50)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--rounds", type=int, default=5, help="Rounds the requests are split into."
        )
        parser.add_argument("--warmup", type=int, default=30, help="Untimed requests first.")
        parser.add_argument(
            "--resource",
            default="households",
            help="The list to measure (its URL prefix, e.g. deliveries), or 'all'.",
        )
        parser.add_argument(
            "--no-serializer-path",
            action="store_true",
            help="Households: leave out the serializer path (two variants, not three).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark_list_path(
            program_code=options["program"],
            requests=options["requests"],
            page_size=options["page_size"],
            seed=options["seed"],
            write=self.stdout.write,
            rounds=options["rounds"],
            warmup=options["warmup"],
            resource=options["resource"],
            serializer_path=not options["no_serializer_path"],
        )
