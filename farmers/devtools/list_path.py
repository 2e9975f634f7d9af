"""``benchmark_list_path`` (issue 19): the household list through the whole API stack against a
bare Django view returning the same columns with members, side by side in one run.

Both answer the same page (``page_size`` households of one district, oldest first, in the key's
area) through the same Django test client and middleware, requests interleaved so that both
see the same database and cache state. The API request authenticates the key, checks its
scope, filters, pages with a cursor, masks, logs the partner's read and renders; the bare view
runs the two queries and returns ``JsonResponse``. Also measured in the same run, for the
record: the API list on the serializer path (one model instance and serializer per row), as it
was before the lean path.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import path

from farmers.api.views import HouseholdViewSet
from farmers.models import MEMBER_FIELDS, Household, Member
from registry.api.base import RegistryViewSet
from registry.choices import OrganizationKind, Scope
from registry.devtools.timing import latencies, queries_by_page_size
from registry.geography import VRAEM_DISTRICTS
from registry.models import Program
from registry.services import api_key_create, organization_upsert

Write = Callable[[str], Any]

URL = "/api/v1/households/"
BARE_URL = "/bench/bare-households/"
# The viewset method swapped to time the serializer path in the same run (and put back).
LIST = "list"

MEMBER_COLUMNS = ("id", "household_id", *MEMBER_FIELDS, "is_head")


def bare_households(request: HttpRequest) -> JsonResponse:
    """The same columns and members as the API list, with nothing around them: no key, no
    scope, no cursor, no masking, no access log, no serializer."""
    size = int(request.GET.get("page_size", 50))
    programs = [int(p) for p in request.GET.getlist("program")]
    rows = list(
        Household.objects.filter(district_id=request.GET["district"], program_id__in=programs)
        .order_by("created_at", "id")
        .values(
            "id",
            "code",
            "program__code",
            "district_id",
            "community",
            "status",
            "stage",
            "stage_since",
            "milestones",
            "head_name",
            "version",
            "created_at",
            "updated_at",
        )[:size]
    )
    members: dict[Any, list[dict[str, Any]]] = {}
    for member in Member.objects.filter(
        is_active=True, household_id__in=[r["id"] for r in rows]
    ).values(*MEMBER_COLUMNS):
        members.setdefault(member.pop("household_id"), []).append(member)
    for row in rows:
        row["members"] = members.get(row["id"], [])
    return JsonResponse({"next": None, "previous": None, "results": rows})


def _urlpatterns() -> list[Any]:
    from config import urls

    return [path(BARE_URL.strip("/") + "/", bare_households), *urls.urlpatterns]


class _BenchUrls:
    """A URLconf: the project's, plus the bare view."""

    urlpatterns = _urlpatterns()
    handler400 = "registry.api.errors.handler400"
    handler403 = "registry.api.errors.handler403"
    handler404 = "registry.api.errors.handler404"
    handler500 = "registry.api.errors.handler500"


def _timed(client: Client, url: str, params: dict[str, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url, params)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.content
    return elapsed, len(response.json()["results"])


def _summary(name: str, timings: list[float], rows: list[int]) -> tuple[str, float]:
    throughput = 1000 * len(timings) / sum(timings)
    line = (
        f"{name}: n={len(timings)} {latencies(timings)} "
        f"throughput={throughput:.0f} req/s (mean rows {statistics.mean(rows):.1f})"
    )
    return line, throughput


def benchmark_list_path(
    *, program_code: str, requests: int, page_size: int, seed: int, write: Write
) -> dict[str, float]:
    """p50, p95 and throughput of the household list: the API (lean path), the API on the
    serializer path, and the bare view, interleaved; the ratio API / bare view; queries per
    API request by page size. Returns the throughputs (requests per second)."""
    program = Program.objects.get(code=program_code)
    organization, _created = organization_upsert(
        code="bench-implementer",
        kind=OrganizationKind.IMPLEMENTER,
        name="Bench implementer",
        district_ubigeos=sorted(VRAEM_DISTRICTS),
    )
    organization.programs.add(program)
    _key, raw = api_key_create(
        organization=organization,
        scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ],
        name="benchmark-list-path",
        expires_in_days=1,
    )
    rng = random.Random(seed)
    districts = sorted(
        set(VRAEM_DISTRICTS)
        & set(Household.objects.values_list("district_id", flat=True).distinct()[:200])
    ) or sorted(VRAEM_DISTRICTS)
    plans = [rng.choice(districts) for _i in range(requests)]
    timings: dict[str, list[float]] = {"api": [], "serializer": [], "bare": []}
    rows: dict[str, list[int]] = {"api": [], "serializer": [], "bare": []}
    classic: Any = RegistryViewSet.list
    lean: Any = HouseholdViewSet.list
    with override_settings(ROOT_URLCONF=_BenchUrls, ALLOWED_HOSTS=["testserver"], DEBUG=False):
        api = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        bare = Client()
        api_params: dict[str, Any] = {"page_size": page_size}
        bare_params: dict[str, Any] = {"page_size": page_size, "program": [program.pk]}
        for district in plans[:20]:  # warm-up: connections, caches, the key
            api.get(URL, {**api_params, "district": district})
            bare.get(BARE_URL, {**bare_params, "district": district})
        for district in plans:
            for name in ("api", "serializer", "bare"):
                if name == "bare":
                    elapsed, count = _timed(bare, BARE_URL, {**bare_params, "district": district})
                else:
                    setattr(HouseholdViewSet, LIST, classic if name == "serializer" else lean)
                    try:
                        elapsed, count = _timed(api, URL, {**api_params, "district": district})
                    finally:
                        setattr(HouseholdViewSet, LIST, lean)
                timings[name].append(elapsed)
                rows[name].append(count)
        queries = queries_by_page_size(api, URL, {"district": plans[0]})
    throughput = {}
    write(f"households in database: {Household.objects.count():,}")
    labels = {
        "api": "API list (lean path)",
        "serializer": "API list (serializer path, before)",
        "bare": "bare Django view",
    }
    for name, label in labels.items():
        line, throughput[name] = _summary(label, timings[name], rows[name])
        write(line)
    write(
        f"throughput ratio API / bare view: {throughput['api'] / throughput['bare']:.2f} "
        f"(serializer path: {throughput['serializer'] / throughput['bare']:.2f})"
    )
    write(f"queries per API list request by page_size: {queries}")
    return throughput
