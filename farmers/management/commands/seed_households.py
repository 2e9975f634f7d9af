"""``seed_households --count N``: N synthetic VRAEM households for benchmarks, fast."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers.devtools.seeding import seed_households
from farmers.reporting import summaries
from registry.choices import OrganizationKind
from registry.models import Program
from registry.services import organization_upsert, program_upsert


class Command(BaseCommand):
    help = "Generate N households with members, consent, dedup keys and a plot each (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--program", default="bench", help="Programme code (created if new).")
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if count <= 0 or options["chunk_size"] <= 0:
            raise CommandError("--count and --chunk-size must be positive.")
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            organization_upsert(
                code="bench-agency", kind=OrganizationKind.PROGRAM_AGENCY, name="Bench agency"
            )
            program, _created = program_upsert(
                code=options["program"], name="Benchmark programme", agency_code="bench-agency"
            )
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"{done:>9,} / {total:,} households  ({rate:,.0f}/s)")

        seed_households(
            count=count,
            program=program,
            chunk_size=options["chunk_size"],
            seed=options["seed"],
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Seeded {count:,} households in {elapsed:.1f} s.")
        # Seeded in bulk, past the services: the dashboard's summaries are recomputed once.
        cells = summaries.rebuild()
        self.stdout.write(f"Dashboard summaries rebuilt: {cells}")
