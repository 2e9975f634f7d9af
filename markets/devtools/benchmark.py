"""The deliveries-list benchmark (``benchmark_deliveries``): p50/p95 of
``GET /api/v1/deliveries/`` (page of 50) through the real API stack, for a buyer's key (its own
deliveries, filtered by status and a date window) and for a programme-staff key (the whole
programme, filtered by status, then by buyer), plus the number of queries per list request for
page sizes 1, 50 and 100.

Run it against a database seeded with ``seed_households`` and ``seed_deliveries`` (README).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.test.utils import override_settings

from registry.choices import OrganizationKind, Scope
from registry.devtools.timing import latencies, queries_by_page_size, timed_pages
from registry.models import Organization, Program
from registry.services import api_key_create

from ..models import Delivery
from .seeding import SEASON_START

URL = "/api/v1/deliveries/"
STATUSES = ["recorded", "accepted", "paid", "rejected"]


def benchmark_deliveries(
    *, program_code: str, buyer_code: str, requests: int, seed: int, write: Callable[[str], Any]
) -> None:
    """Measure the deliveries list for a buyer's key and a programme-staff key; ``write``
    prints each line. ``ValueError`` when the programme or buyer is not seeded."""
    program = Program.objects.filter(code=program_code).first()
    buyer = Organization.objects.filter(code=buyer_code, kind=OrganizationKind.BUYER).first()
    if program is None or buyer is None:
        raise ValueError("Seed first: seed_households, then seed_deliveries.")
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
    rng = random.Random(seed)
    n = requests
    buyers = list(
        Organization.objects.filter(code__startswith="bench-buyer-").values_list("code", flat=True)
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
        write(f"deliveries in database: {total:,}")
        for label, raw, make in [
            ("buyer key, own deliveries, status + 30-day window", buyer_raw, buyer_params),
            ("programme-staff key, status", staff_raw, staff_params),
            ("programme-staff key, buyer + status", staff_raw, staff_buyer_params),
        ]:
            client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")
            _measure(label, client, make, n, write)


def _measure(label: str, client: Client, make: Any, n: int, write: Callable[[str], Any]) -> None:
    for _i in range(20):  # warm-up: connections, caches, the key's last-used stamp
        client.get(URL, make())
    timings, bodies = timed_pages(client, URL, (make() for _i in range(n)))
    rows = [len(body["results"]) for body in bodies]
    sample = make()
    queries = queries_by_page_size(client, URL, sample)
    # The second page, through the cursor the API hands out.
    first = client.get(URL, {**sample, "page_size": "50"}).json()
    next_ms = None
    if first["next"]:
        started = time.perf_counter()
        client.get(first["next"])
        next_ms = (time.perf_counter() - started) * 1000
    write(
        f"{label} (page_size=50): n={n} {latencies(timings)} "
        f"(mean rows per page {statistics.mean(rows):.1f})"
        + (f"; next page {next_ms:.1f} ms" if next_ms is not None else "")
        + f"\n  queries per list request by page_size: {queries}"
    )
