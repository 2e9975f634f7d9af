"""``benchmark_deliveries``: p50/p95 of ``GET /api/v1/deliveries/`` (page of 50) through the real
API stack, for a buyer's key (its own deliveries, filtered by status and a date window) and for a
programme-staff key (the whole programme, filtered by status, then by buyer), plus the number of
queries per list request for page sizes 1, 50 and 100.

Run it against a database seeded with ``seed_households`` and ``seed_deliveries`` (README).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from markets.models import Delivery
from markets.seeding import SEASON_START
from registry.choices import OrganizationKind, Scope
from registry.models import Organization, Program
from registry.services import api_key_create

URL = "/api/v1/deliveries/"
STATUSES = ["recorded", "accepted", "paid", "rejected"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Command(BaseCommand):
    help = "Measure the deliveries list through the API for a buyer and programme staff (README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--buyer", default="bench-buyer-1")
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        buyer = Organization.objects.filter(
            code=options["buyer"], kind=OrganizationKind.BUYER
        ).first()
        if program is None or buyer is None:
            raise CommandError("Seed first: seed_households, then seed_deliveries.")
        _key, buyer_raw = api_key_create(
            organization=buyer,
            scopes=[Scope.CONTRACTS_READ, Scope.CONTRACTS_WRITE],
            name="benchmark",
            expires_in_days=1,
        )
        _key, staff_raw = api_key_create(
            organization=program.agency,
            scopes=[Scope.CONTRACTS_READ],
            name="benchmark",
            expires_in_days=1,
        )
        rng = random.Random(options["seed"])
        n = options["requests"]
        buyers = list(
            Organization.objects.filter(code__startswith="bench-buyer-").values_list(
                "code", flat=True
            )
        )

        def buyer_params() -> dict[str, str]:
            start = SEASON_START + timedelta(days=rng.randint(0, 300))
            return {
                "status": rng.choice(STATUSES[:3]),
                "delivered_after": start.isoformat(),
                "delivered_before": (start + timedelta(days=30)).isoformat(),
                "page_size": "50",
            }

        def staff_params() -> dict[str, str]:
            return {"status": rng.choice(STATUSES), "page_size": "50"}

        def staff_buyer_params() -> dict[str, str]:
            return {"buyer": rng.choice(buyers), "status": "accepted", "page_size": "50"}

        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            total = Delivery.objects.count()
            self.stdout.write(f"deliveries in database: {total:,}")
            for label, raw, make in [
                ("buyer key, own deliveries, status + 30-day window", buyer_raw, buyer_params),
                ("programme-staff key, status", staff_raw, staff_params),
                ("programme-staff key, buyer + status", staff_raw, staff_buyer_params),
            ]:
                client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")
                self._measure(label, client, make, n)

    def _measure(self, label: str, client: Client, make: Any, n: int) -> None:
        for _i in range(20):  # warm-up: connections, caches, the key's last-used stamp
            client.get(URL, make())
        timings, rows = [], []
        for _i in range(n):
            params = make()
            started = time.perf_counter()
            response = client.get(URL, params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            rows.append(len(response.json()["results"]))
        queries = {}
        sample = make()
        for size in (1, 50, 100):
            with CaptureQueriesContext(connection) as ctx:
                client.get(URL, {**sample, "page_size": str(size)})
            queries[size] = len(ctx.captured_queries)
        # The second page, through the cursor the API hands out.
        first = client.get(URL, {**sample, "page_size": "50"}).json()
        next_ms = None
        if first["next"]:
            started = time.perf_counter()
            client.get(first["next"])
            next_ms = (time.perf_counter() - started) * 1000
        self.stdout.write(
            f"{label} (page_size=50): n={n} p50={statistics.median(timings):.1f} ms "
            f"p95={_percentile(timings, 0.95):.1f} ms max={max(timings):.1f} ms "
            f"(mean rows per page {statistics.mean(rows):.1f})"
            + (f"; next page {next_ms:.1f} ms" if next_ms is not None else "")
            + f"\n  queries per list request by page_size: {queries}"
        )
