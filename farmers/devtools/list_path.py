"""``benchmark_list_path`` (issue 19): the household list through the whole API stack against a
bare Django view returning the same columns with members, side by side in one run.

Both answer the same page (``page_size`` households of one district, oldest first, in the key's
area) through the same Django test client and middleware. The API request authenticates the
key, checks its scope, filters, pages with a cursor, masks, logs the partner's read and renders;
the bare view runs the two queries and returns ``JsonResponse``. Also measured in the same run,
for the record: the API list on the serializer path (one model instance and serializer per row).

So that the machine's load moves every variant alike, the run is made of ``rounds``: after a
warm-up, each round sends its share of the requests, the variants interleaved request by
request (their order turning every request); the ratio API / bare is taken per round and the
median of the rounds is the figure (the spread is printed beside it).

``--resource NAME`` (or ``all``) measures the other lists the same way: the API list (lean path,
or the serializer path where a list is not on it) against a bare view reading the same columns
of the same model in the view's order with ``values()`` and ``JsonResponse``; ``all`` prints one
line a list, with the queries of a page of 1 and of 100 rows.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLResolver, path

from farmers.models import MEMBER_FIELDS, Household, Member
from registry.api.lean import LeanListMixin
from registry.choices import OrganizationKind, Scope
from registry.devtools.timing import latencies, queries_by_page_size
from registry.geography import VRAEM_DISTRICTS
from registry.models import Program
from registry.services import api_key_create, organization_upsert

Write = Callable[[str], Any]

URL = "/api/v1/households/"
BARE_URL = "/bench/bare-households/"
GENERIC_BARE_URL = "/bench/bare/<str:resource>/"

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


def list_views() -> dict[str, type[Any]]:
    """Every list endpoint under /api/v1/: its URL prefix → its viewset (read from the
    project's URLconf: this app does not import the apps above it)."""
    from config import urls

    views: dict[str, type[Any]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            callback = pattern.callback
            actions = getattr(callback, "actions", None) or {}
            found = re.fullmatch(r"api/v1/([\w-]+)/", route)
            if actions.get("get") == "list" and found:
                views[found.group(1)] = callback.cls

    walk(urls.urlpatterns, "")
    return views


def _view(resource: str, request: Any = None) -> Any:
    view = list_views()[resource]()
    view.action, view.request, view.format_kwarg, view.kwargs, view.args = (
        "list",
        request,
        None,
        {},
        (),
    )
    return view


def bare_columns(resource: str) -> tuple[type[Model], list[str], tuple[str, ...]]:
    """What the bare view of ``resource`` reads: its model, the columns of its list (the lean
    plan's, else the model's own columns) and its order."""
    view = _view(resource)
    model = view.get_serializer_class().Meta.model
    plan = view.lean_plan() if isinstance(view, LeanListMixin) else None
    if plan is not None:
        # The plan's columns the model has (an annotation of the list's selector it has not).
        columns = [
            column
            for column in dict.fromkeys(["id", *plan.columns])
            if _has_field(model, column.split("__")[0])
        ]
    else:
        columns = [f.attname for f in model._meta.concrete_fields]
    ordering = view.ordering or ("id",)
    return model, columns, (ordering,) if isinstance(ordering, str) else tuple(ordering)


def _has_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def bare_list(request: HttpRequest, resource: str) -> JsonResponse:
    """The first page of ``resource``'s columns (``bare_columns``), nothing around them."""
    model, columns, ordering = bare_columns(resource)
    size = int(request.GET.get("page_size", 50))
    rows = list(model._default_manager.order_by(*ordering).values(*columns)[:size])
    return JsonResponse({"next": None, "previous": None, "results": rows})


def _urlpatterns() -> list[Any]:
    from config import urls

    return [
        path(BARE_URL.strip("/") + "/", bare_households),
        path(GENERIC_BARE_URL.strip("/") + "/", bare_list),
        *urls.urlpatterns,
    ]


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


def _throughput(timings: list[float]) -> float:
    return 1000 * len(timings) / sum(timings)


def _summary(name: str, timings: list[float], rows: list[int]) -> str:
    return (
        f"{name}: n={len(timings)} {latencies(timings)} "
        f"throughput={_throughput(timings):.0f} req/s (mean rows {statistics.mean(rows):.1f})"
    )


# One variant of a request: (name, client, URL, query).
Variant = tuple[str, Client, str, dict[str, Any]]


def run_rounds(
    plans: list[list[Variant]], *, rounds: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, list[int]], list[dict[str, float]]]:
    """Send each plan's variants (a plan: one request of each), interleaved, their order
    turning plan by plan, after ``warmup`` plans not timed; in ``rounds`` equal shares. The
    timings and row counts by variant, and each round's throughput by variant."""
    for plan in plans[:warmup]:
        for _name, client, url, params in plan:
            client.get(url, params)
    plans = plans[warmup:]
    timings: dict[str, list[float]] = {}
    rows: dict[str, list[int]] = {}
    per_round: list[dict[str, float]] = []
    rounds = max(1, min(rounds, len(plans)))
    for index in range(rounds):
        share = plans[index * len(plans) // rounds : (index + 1) * len(plans) // rounds]
        round_timings: dict[str, list[float]] = {}
        for number, plan in enumerate(share):
            turn = number % len(plan)
            for name, client, url, params in plan[turn:] + plan[:turn]:
                elapsed, count = _timed(client, url, params)
                round_timings.setdefault(name, []).append(elapsed)
                timings.setdefault(name, []).append(elapsed)
                rows.setdefault(name, []).append(count)
        per_round.append({name: _throughput(values) for name, values in round_timings.items()})
    return timings, rows, per_round


def _ratios(per_round: list[dict[str, float]], name: str, over: str) -> list[float]:
    return [figures[name] / figures[over] for figures in per_round]


def _key(program: Program) -> str:
    organization, _created = organization_upsert(
        code="bench-implementer",
        kind=OrganizationKind.IMPLEMENTER,
        name="Bench implementer",
        district_ubigeos=sorted(VRAEM_DISTRICTS),
    )
    organization.programs.add(program)
    _api_key, raw = api_key_create(
        organization=organization,
        scopes=[s for s in Scope.values if s != Scope.WEBHOOKS_MANAGE],
        name="benchmark-list-path",
        expires_in_days=1,
    )
    return raw


class _SerializerPath:
    """Within the block, ``view`` lists on the serializer path (``lean_plan`` gives ``None``)."""

    def __init__(self, view: type[Any]) -> None:
        self.view = view

    def __enter__(self) -> None:
        self.view.lean_plan = _no_plan

    def __exit__(self, *exc: object) -> None:
        del self.view.lean_plan


def _no_plan(view: Any) -> None:
    return None


class _SerializerClient(Client):
    """A client whose requests list households on the serializer path."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with _SerializerPath(list_views()["households"]):
            return super().get(*args, **kwargs)


def benchmark_list_path(
    *,
    program_code: str,
    requests: int,
    page_size: int,
    seed: int,
    write: Write,
    rounds: int = 5,
    warmup: int = 30,
    resource: str = "households",
    serializer_path: bool = True,
) -> dict[str, float]:
    """The household list (or ``resource``'s, or ``all``): p50, p95 and throughput of the API
    (lean path), of the API on the serializer path and of the bare view, interleaved in
    rounds; the median ratio API / bare over the rounds; queries per API request by page size.
    Returns the throughputs (requests per second) and the median ratio (``ratio``)."""
    program = Program.objects.get(code=program_code)
    raw = _key(program)
    with override_settings(ROOT_URLCONF=_BenchUrls, ALLOWED_HOSTS=["testserver"], DEBUG=False):
        api = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        if resource != "households":
            return _other_lists(api, resource, requests, page_size, rounds, warmup, write)
        serializer = _SerializerClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        bare = Client()
        rng = random.Random(seed)
        districts = sorted(
            set(VRAEM_DISTRICTS)
            & set(Household.objects.values_list("district_id", flat=True).distinct()[:200])
        ) or sorted(VRAEM_DISTRICTS)
        plans = []
        for _i in range(warmup + requests):
            district = rng.choice(districts)
            plan: list[Variant] = [
                ("api", api, URL, {"page_size": page_size, "district": district}),
                (
                    "bare",
                    bare,
                    BARE_URL,
                    {"page_size": page_size, "district": district, "program": [program.pk]},
                ),
            ]
            if serializer_path:
                plan.append(
                    ("serializer", serializer, URL, {"page_size": page_size, "district": district})
                )
            plans.append(plan)
        timings, rows, per_round = run_rounds(plans, rounds=rounds, warmup=warmup)
        queries = queries_by_page_size(api, URL, {"district": districts[0]})
    write(f"households in database: {Household.objects.count():,}")
    labels = {
        "api": "API list (lean path)",
        "serializer": "API list (serializer path)",
        "bare": "bare Django view",
    }
    throughput = {}
    for name, label in labels.items():
        if name in timings:
            write(_summary(label, timings[name], rows[name]))
            throughput[name] = _throughput(timings[name])
    ratios = _ratios(per_round, "api", "bare")
    throughput["ratio"] = statistics.median(ratios)
    line = (
        f"throughput ratio API / bare view: median {throughput['ratio']:.2f} over "
        f"{len(ratios)} rounds (min {min(ratios):.2f}, max {max(ratios):.2f}; "
        f"rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    if serializer_path:
        line += (
            f"; serializer path: median "
            f"{statistics.median(_ratios(per_round, 'serializer', 'bare')):.2f}"
        )
    write(line)
    write(f"queries per API list request by page_size: {queries}")
    return throughput


def _other_lists(
    api: Client,
    resource: str,
    requests: int,
    page_size: int,
    rounds: int,
    warmup: int,
    write: Write,
) -> dict[str, float]:
    """``resource``'s list (every list's for ``all``) against its bare view: one line each."""
    names = sorted(list_views()) if resource == "all" else [resource]
    bare = Client()
    figures: dict[str, float] = {}
    write(
        "list | path | rows | API p50 ms | API req/s | bare p50 ms | bare req/s | "
        "ratio (median of rounds) | queries (page of 1 / 100)"
    )
    for name in names:
        view = _view(name)
        # A view's own ``list`` (stage reviews) renders by the plan too where it has one.
        lean = view.lean_plan() is not None
        url = f"/api/v1/{name}/"
        status = api.get(url, {"page_size": page_size}).status_code
        meta = getattr(view.get_serializer_class(), "Meta", None)
        if status != 200 or getattr(meta, "model", None) is None:
            write(f"{name} | not measured (status {status}, or no model to read bare) |")
            continue
        plans: list[list[Variant]] = [
            [
                ("api", api, url, {"page_size": page_size}),
                ("bare", bare, f"/bench/bare/{name}/", {"page_size": page_size}),
            ]
            for _i in range(warmup + requests)
        ]
        timings, rows, per_round = run_rounds(plans, rounds=rounds, warmup=warmup)
        queries = queries_by_page_size(api, url, {}, sizes=(1, 100))
        ratio = statistics.median(_ratios(per_round, "api", "bare"))
        figures[name] = ratio
        write(
            f"{name} | {'lean' if lean else 'serializer'} | {statistics.mean(rows['api']):.0f} | "
            f"{statistics.median(timings['api']):.1f} | {_throughput(timings['api']):.0f} | "
            f"{statistics.median(timings['bare']):.1f} | {_throughput(timings['bare']):.0f} | "
            f"{ratio:.2f} | {queries[1]} / {queries[100]}"
        )
    return figures
