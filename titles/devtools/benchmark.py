"""The overdue-queue benchmark (``benchmark_titles``): p50/p95 of ``GET
/api/v1/title-applications/?overdue=true`` (page of 50) through the real API stack, for an
implementer's key and for the titling authority's key, plus the number of queries per request
for page sizes 1, 50 and 100.

Run it against a database seeded with ``seed_households`` and ``seed_titles --count 200000``
(README).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.test import Client
from django.test.utils import override_settings

from registry.choices import OrganizationKind, Scope
from registry.devtools.timing import latencies, queries_by_page_size, timed_pages
from registry.geography import VRAEM_DISTRICTS
from registry.models import Organization, Program
from registry.services import api_key_create, organization_upsert

from ..models import TitleApplication
from ..selectors import overdue_q

URL = "/api/v1/title-applications/"


class NotSeeded(Exception):
    """The benchmark's programme or titling authority is missing: seed first."""


def benchmark_titles(*, program_code: str, requests: int, write: Callable[[str], None]) -> None:
    """Measure the overdue queue for both keys and ``write`` one report per key."""
    program = Program.objects.filter(code=program_code).first()
    authority = Organization.objects.filter(code="bench-dra").first()
    if program is None or authority is None:
        raise NotSeeded("Seed first: seed_households, then seed_titles.")
    implementer, _created = organization_upsert(
        code="bench-implementer",
        kind=OrganizationKind.IMPLEMENTER,
        name="Bench implementer",
        district_ubigeos=sorted(VRAEM_DISTRICTS),
    )
    implementer.programs.add(program)
    scopes = [Scope.TITLES_READ, Scope.TITLES_WRITE]
    total = TitleApplication.objects.count()
    overdue = TitleApplication.objects.filter(overdue_q()).count()
    write(f"title files in database: {total:,} ({overdue:,} overdue)")
    for label, organization in (("implementer key", implementer), ("authority key", authority)):
        _key, raw = api_key_create(
            organization=organization, scopes=scopes, name="benchmark", expires_in_days=1
        )
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            write(_run(Client(HTTP_AUTHORIZATION=f"Api-Key {raw}"), label, requests))


def _run(client: Client, label: str, n: int) -> str:
    params = {"overdue": "true", "page_size": "50"}
    for _i in range(20):  # warm-up: connections, caches
        client.get(URL, params)
    timings, bodies = timed_pages(client, URL, (params for _i in range(n)))
    rows = [len(body["results"]) for body in bodies]
    next_pages = [body["next"] for body in bodies]
    # The second page (cursor from the first) too.
    page_two = []
    for url in next_pages[:50]:
        if url:
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            page_two.append((time.perf_counter() - started) * 1000)
    queries = queries_by_page_size(client, URL, {"overdue": "true"})
    return (
        f"{label}: overdue queue (page_size=50): n={n} {latencies(timings)} "
        f"(rows per page {statistics.mean(rows):.0f}); "
        f"page 2 p50={statistics.median(page_two) if page_two else 0:.1f} ms\n"
        f"  queries per request by page_size: {queries}"
    )
