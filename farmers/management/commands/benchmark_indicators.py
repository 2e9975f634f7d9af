"""``benchmark_indicators``: time every indicator (and the dashboard's whole read) against the
current database, with the number of queries each takes.

Run it against a database seeded with ``seed_households --count N``; ``--ledger`` first gives
every seeded household without one a synthetic ledger entry (``enrolled`` → its stage, a month
after registration) and a support item, so the ledger-based indicators have rows to read.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farmers import indicators
from farmers.choices import Stage
from farmers.dashboard import dashboard_context
from farmers.models import Household, StageChange, Support
from registry.actors import Actor
from registry.models import Program


class Command(BaseCommand):
    help = "Measure the indicators and the dashboard read on the current data (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument(
            "--ledger", action="store_true", help="Add a synthetic ledger entry and support first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.get(code=options["program"])
        if options["ledger"]:
            self._ledger(program)
        actor = Actor(unrestricted=True)
        today = timezone.localdate()
        base = indicators.IndicatorQuery(program=program.code, today=today)
        months = indicators.month_range(base)
        cases: list[tuple[str, Any]] = [
            (
                "households by district, programme, stage",
                lambda: indicators.indicator_rows(
                    actor=actor, query=replace(base, group_by=("district", "program", "stage"))
                ),
            ),
            (
                "households by month and stage (12 months)",
                lambda: indicators.indicator_rows(
                    actor=actor,
                    query=replace(base, group_by=("month", "stage"), date_from=months[0]),
                ),
            ),
            (
                "flows by month",
                lambda: indicators.indicator_rows(
                    actor=actor, query=replace(base, metric="flows", group_by=("month",))
                ),
            ),
            (
                "relapse rate by programme",
                lambda: indicators.indicator_rows(
                    actor=actor, query=replace(base, metric="relapse_rate", group_by=("program",))
                ),
            ),
            (
                "cost per household by programme",
                lambda: indicators.indicator_rows(
                    actor=actor,
                    query=replace(base, metric="cost_per_household", group_by=("program",)),
                ),
            ),
            ("dashboard (all of it)", lambda: dashboard_context(actor=actor, today=today)),
        ]
        households = Household.objects.filter(program=program).count()
        self.stdout.write(
            f"{households} households, {StageChange.objects.count()} ledger rows, "
            f"{Support.objects.count()} support items"
        )
        for name, run in cases:
            timings = []
            queries = 0
            for _n in range(options["repeat"]):
                with CaptureQueriesContext(connection) as ctx:
                    start = time.perf_counter()
                    run()
                    timings.append((time.perf_counter() - start) * 1000)
                queries = len(ctx.captured_queries)
            self.stdout.write(
                f"{name:<45} median {statistics.median(timings):8.1f} ms   "
                f"max {max(timings):8.1f} ms   {queries} queries"
            )

    def _ledger(self, program: Program) -> None:
        """One ``enrolled → stage`` entry and one support item per seeded household lacking them."""
        pending = (
            Household.objects.filter(program=program)
            .exclude(stage=Stage.ENROLLED)
            .exclude(stage_changes__isnull=False)
            .values_list("pk", "stage", "created_at", "district_id")
        )
        written = 0
        batch_changes: list[StageChange] = []
        batch_support: list[Support] = []
        for pk, stage, created_at, district_id in pending.iterator(chunk_size=5000):
            on = created_at.date() + timedelta(days=30)
            batch_changes.append(
                StageChange(
                    household_id=pk,
                    from_stage=Stage.ENROLLED,
                    to_stage=stage,
                    effective_on=on,
                    reason="benchmark",
                    district_id=district_id,
                    program_id=program.pk,
                )
            )
            batch_support.append(
                Support(household_id=pk, kind="inputs", cost_pen=Decimal("500.00"), given_on=on)
            )
            if len(batch_changes) >= 5000:
                written += self._flush(batch_changes, batch_support)
        written += self._flush(batch_changes, batch_support)
        self.stdout.write(f"Synthetic ledger: {written} households")

    @staticmethod
    def _flush(changes: list[StageChange], support: list[Support]) -> int:
        with transaction.atomic():
            StageChange.objects.bulk_create(changes)
            Support.objects.bulk_create(support)
        count = len(changes)
        changes.clear()
        support.clear()
        return count
