"""``benchmark_households``: p50/p95 of the household list (page of 50 filtered by district and
stage) and of a 4-member registration with deduplication, through the real API stack, plus the
number of queries per list request for page sizes 1, 50 and 100.

Run it against a database seeded with ``seed_households --count 1000000`` (README).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from farmers.choices import Stage
from farmers.models import Household
from farmers.names import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from registry.choices import OrganizationKind, Scope
from registry.geography import VRAEM_DISTRICTS
from registry.models import District, Program
from registry.services import api_key_create, organization_upsert

URL = "/api/v1/households/"


def _day(rng: random.Random, first_year: int, last_year: int) -> str:
    year, month, day = rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28)
    return f"{year}-{month:02d}-{day:02d}"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Command(BaseCommand):
    help = "Measure household list and registration latency through the API (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="bench")
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--registrations", type=int, default=100)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.get(code=options["program"])
        organization, _created = organization_upsert(
            code="bench-implementer",
            kind=OrganizationKind.IMPLEMENTER,
            name="Bench implementer",
            district_ubigeos=sorted(VRAEM_DISTRICTS),
        )
        organization.programs.add(program)
        _key, raw = api_key_create(
            organization=organization,
            scopes=[Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE],
            name="benchmark",
            expires_in_days=1,
        )
        rng = random.Random(options["seed"])
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")
            self._lists(client, rng, options["requests"])
            self._registrations(client, rng, options["registrations"], program.code)

    def _lists(self, client: Client, rng: random.Random, n: int) -> None:
        districts = sorted(VRAEM_DISTRICTS)
        stages = [s.value for s in Stage]
        for _i in range(20):  # warm-up: connections, caches
            client.get(URL, {"district": rng.choice(districts), "stage": rng.choice(stages)})
        timings, rows = [], []
        for _i in range(n):
            params: dict[str, str] = {
                "district": rng.choice(districts),
                "stage": rng.choice(stages),
                "page_size": "50",
            }
            started = time.perf_counter()
            response = client.get(URL, params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            rows.append(len(response.json()["results"]))
        queries = {}
        for size in (1, 50, 100):
            with CaptureQueriesContext(connection) as ctx:
                client.get(URL, {"district": districts[0], "stage": "enrolled", "page_size": size})
            queries[size] = len(ctx.captured_queries)
        total = Household.objects.count()
        self.stdout.write(
            f"households in database: {total:,}\n"
            f"list (district+stage, page_size=50): n={n} p50={statistics.median(timings):.1f} ms "
            f"p95={_percentile(timings, 0.95):.1f} ms max={max(timings):.1f} ms "
            f"(mean rows per page {statistics.mean(rows):.1f})\n"
            f"queries per list request by page_size: {queries}"
        )

    def _registrations(self, client: Client, rng: random.Random, n: int, program: str) -> None:
        districts = list(
            District.objects.filter(ubigeo__in=VRAEM_DISTRICTS).values_list("ubigeo", flat=True)
        )
        timings, statuses = [], []
        # A fresh block of DNIs per run (by clock), so reruns register new families.
        base = 90_000_000 + (int(time.time()) % 1_000_000) * 8
        for i in range(n):
            surname_a, surname_b, surname_c = rng.sample(SURNAMES, 3)
            members = [
                {
                    "given_names": rng.choice(GIVEN_FEMALE),
                    "surnames": f"{surname_a} {surname_b}",
                    "document_type": "dni",
                    "document_number": str(base + i * 4),
                    "sex": "f",
                    "birth_date": _day(rng, 1960, 1995),
                    "relationship": "head",
                    "phone": f"+519{rng.randint(10_000_000, 99_999_999)}",
                },
                {
                    "given_names": rng.choice(GIVEN_MALE),
                    "surnames": f"{surname_c} {rng.choice(SURNAMES)}",
                    "document_type": "dni",
                    "document_number": str(base + i * 4 + 1),
                    "sex": "m",
                    "birth_date": _day(rng, 1960, 1995),
                    "relationship": "spouse",
                },
            ] + [
                {
                    "given_names": rng.choice(GIVEN_MALE + GIVEN_FEMALE),
                    "surnames": f"{surname_a} {surname_c}",
                    "document_type": "dni",
                    "document_number": str(base + i * 4 + k),
                    "sex": rng.choice("fm"),
                    "birth_date": _day(rng, 2000, 2007),
                    "relationship": "child",
                }
                for k in (2, 3)
            ]
            payload = {
                "id": str(uuid.uuid4()),
                "program": program,
                "district": rng.choice(districts),
                "community": "Benchmark",
                "members": members,
                "consent": {"signed_on": "2026-11-01", "purposes": ["registry"]},
            }
            started = time.perf_counter()
            response = client.post(URL, payload, content_type="application/json")
            timings.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status_code)
        created = statuses.count(201)
        self.stdout.write(
            f"registration (4 members, dedup): n={n} p50={statistics.median(timings):.1f} ms "
            f"p95={_percentile(timings, 0.95):.1f} ms max={max(timings):.1f} ms "
            f"(201: {created}, other: {sorted(set(statuses) - {201})})"
        )
