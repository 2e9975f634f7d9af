"""The bodies of farmers' benchmarks (``benchmark_households``, ``benchmark_indicators``,
``benchmark_sweep``); the management commands parse the arguments and call these.

Each benchmark writes its report lines through ``write`` (the command's ``stdout.write``). Run
them against a database seeded with ``seed_households`` (+ ``seed_transition_evidence`` for the
sweep); see the README.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Sum as models_sum
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from farmers.choices import HouseholdStatus, Stage, VerificationStatus
from farmers.models import Household, Member, StageChange, Support, SweepRun, Verification
from farmers.names import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from farmers.reporting import indicators, summaries
from farmers.reporting.dashboard import dashboard_context
from farmers.services.dedup import _check_documents_free as check_documents_free
from farmers.transition import recompute_on_commit
from farmers.transition.sweep import plan, run_range
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.devtools.timing import latencies, queries_by_page_size, timed_pages
from registry.geography import VRAEM_DISTRICTS
from registry.models import Alert, District, Program
from registry.services import api_key_create, organization_upsert

Write = Callable[[str], Any]

# --- benchmark_households --------------------------------------------------------------------

URL = "/api/v1/households/"


def _day(rng: random.Random, first_year: int, last_year: int) -> str:
    year, month, day = rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28)
    return f"{year}-{month:02d}-{day:02d}"


def _bench_client(program_code: str) -> Client:
    """A test client with a fresh API key of an implementer covering the VRAEM districts and
    ``program_code`` (households read and write, coca read: the list is filtered by stage)."""
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
        # The list is filtered by stage, which is coca data (issue 15).
        scopes=[Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE, Scope.COCA_READ],
        name="benchmark",
        expires_in_days=1,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw}")


def benchmark_households(
    *, program_code: str, requests: int, registrations: int, seed: int, write: Write
) -> None:
    """p50/p95 of the household list (page of 50 filtered by district and stage) and of a
    4-member registration with deduplication, through the real API stack, plus the number of
    queries per list request for page sizes 1, 50 and 100."""
    program = Program.objects.get(code=program_code)
    rng = random.Random(seed)
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        client = _bench_client(program.code)
        _household_lists(client, rng, requests, write)
        _household_searches(client, rng, requests, write)
        _document_checks(client, rng, requests, write)
        _household_registrations(client, rng, registrations, program.code, write)


def benchmark_search(*, program_code: str, requests: int, seed: int, write: Write) -> None:
    """p50/p95 of ``?q=`` through the real API stack, per kind of search (``requests`` of
    each kind, after a warm-up), with the households in the database."""
    rng = random.Random(seed)
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        client = _bench_client(program_code)
        for _i in range(20):  # warm-up: connections, caches
            client.get(URL, {"q": rng.choice(SURNAMES), "page_size": "50"})
        write(f"households in database: {Household.objects.count():,}")
        _household_searches(client, rng, requests * 6, write)


def _sample_members(n: int, **filters: Any) -> list[tuple[str, str, str]]:
    """``n`` random active members matching ``filters``: (given names, surnames, document)."""
    if connection.vendor == "postgresql":
        # A sample of pages rather than ``ORDER BY random()`` over millions of members.
        rows = Member.objects.raw(
            "SELECT * FROM farmers_member TABLESAMPLE SYSTEM (1) REPEATABLE (7) "
            "WHERE is_active LIMIT %s",
            [n * 20],
        )
        found = [m for m in rows if all(getattr(m, k) == v for k, v in filters.items())]
    else:
        found = list(Member.objects.filter(is_active=True, **filters).order_by("?")[: n * 20])
    return [(m.given_names, m.surnames, m.document_number) for m in found[:n]]


def _search_terms(rng: random.Random, n: int) -> dict[str, list[str]]:
    """``n`` searches of each kind a person types: a given name, a surname, a given name and a
    surname, part of a surname (first four letters), the given name and first surname of a
    member who is not the head (a spouse, a child), and an ID number of the registry."""
    given = GIVEN_FEMALE + GIVEN_MALE
    others = _sample_members(n, is_head=False)
    documents = [doc for _g, _s, doc in _sample_members(max(1, n // 10), is_head=True) if doc]
    return {
        "given name": [rng.choice(given) for _i in range(n)],
        "surname": [rng.choice(SURNAMES) for _i in range(n)],
        "given + surname": [f"{rng.choice(given)} {rng.choice(SURNAMES)}" for _i in range(n)],
        "part of a surname": [rng.choice(SURNAMES)[:4] for _i in range(n)],
        "another member's given + surname": [
            f"{g.split()[0]} {s.split()[0]}" for g, s, _d in rng.choices(others, k=n)
        ]
        if others
        else [],
        "ID number": [rng.choice(documents) for _i in range(n)] if documents else [],
    }


def _household_searches(client: Client, rng: random.Random, n: int, write: Write) -> None:
    """p50/p95 of ``?q=`` over the whole registry (page of 50), per kind of search, and the
    p50 of the page's own query (the households' SELECT as the database ran it, from the
    request's captured queries: the part the search's indexes decide)."""
    per_kind = max(1, n // 6)
    all_timings: list[float] = []
    for kind, terms in _search_terms(rng, per_kind).items():
        if not terms:
            continue
        timings, rows, page_query = [], [], []
        for term in terms:
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(URL, {"q": term, "page_size": "50"})
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            rows.append(len(response.json()["results"]))
            page_query.append(
                sum(
                    float(q["time"]) * 1000
                    for q in ctx.captured_queries
                    if q["sql"].startswith('SELECT "farmers_household"."id"')
                )
            )
        all_timings += timings
        write(
            f"search ({kind}): n={len(terms)} {latencies(timings)} "
            f"(page query p50 {statistics.median(page_query):.1f} ms, "
            f"mean rows {statistics.mean(rows):.1f})"
        )
    write(f"search (all kinds): n={len(all_timings)} {latencies(all_timings)}")


def _document_checks(client: Client, rng: random.Random, n: int, write: Write) -> None:
    """p50/p95 of the exact lookups by ID number: the API's household lookup (an ID of the
    registry) and the registration's duplicate check of 4 members (IDs not registered, the
    usual case, so every one of them is looked up)."""
    documents = list(
        Member.objects.filter(is_head=True, document_type="dni")
        .exclude(document_number="")
        .order_by("household__created_at")[: max(1, n * 5)]
        .values_list("document_number", flat=True)
    )
    if not documents:
        return
    timings = []
    for number in rng.sample(documents, min(n, len(documents))):
        started = time.perf_counter()
        response = client.post(
            URL + "lookup/",
            {"document_type": "dni", "document_number": number},
            content_type="application/json",
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    write(f"lookup by ID number (POST households/lookup/): n={len(timings)} {latencies(timings)}")
    timings = []
    for i in range(n):
        members = [
            {"document_type": "dni", "document_number": str(80_000_000 + i * 4 + k)}
            for k in range(4)
        ]
        started = time.perf_counter()
        check_documents_free(members, actor=cast(Actor, None), exclude=None)
        timings.append((time.perf_counter() - started) * 1000)
    write(f"duplicate check (4 IDs, none taken): n={n} {latencies(timings)}")


def _household_lists(client: Client, rng: random.Random, n: int, write: Write) -> None:
    districts = sorted(VRAEM_DISTRICTS)
    stages = [s.value for s in Stage]
    for _i in range(20):  # warm-up: connections, caches
        client.get(URL, {"district": rng.choice(districts), "stage": rng.choice(stages)})
    timings, bodies = timed_pages(
        client,
        URL,
        (
            {"district": rng.choice(districts), "stage": rng.choice(stages), "page_size": "50"}
            for _i in range(n)
        ),
    )
    rows = [len(body["results"]) for body in bodies]
    queries = queries_by_page_size(client, URL, {"district": districts[0], "stage": "enrolled"})
    total = Household.objects.count()
    write(
        f"households in database: {total:,}\n"
        f"list (district+stage, page_size=50): n={n} {latencies(timings)} "
        f"(mean rows per page {statistics.mean(rows):.1f})\n"
        f"queries per list request by page_size: {queries}"
    )


def _household_registrations(
    client: Client, rng: random.Random, n: int, program: str, write: Write
) -> None:
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
    write(
        f"registration (4 members, dedup): n={n} {latencies(timings)} "
        f"(201: {created}, other: {sorted(set(statuses) - {201})})"
    )


# --- benchmark_indicators --------------------------------------------------------------------


def benchmark_indicators(*, program_code: str, repeat: int, ledger: bool, write: Write) -> None:
    """Time every indicator (and the dashboard's whole read) against the current database, with
    the number of queries each takes; ``ledger`` first adds :func:`synthetic_ledger`."""
    program = Program.objects.get(code=program_code)
    if ledger:
        synthetic_ledger(program, write)
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
    write(
        f"{households} households, {StageChange.objects.count()} ledger rows, "
        f"{Support.objects.count()} support items"
    )
    for name, run in cases:
        timings = []
        queries = 0
        for _n in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                run()
                timings.append((time.perf_counter() - start) * 1000)
            queries = len(ctx.captured_queries)
        write(
            f"{name:<45} median {statistics.median(timings):8.1f} ms   "
            f"max {max(timings):8.1f} ms   {queries} queries"
        )


def synthetic_ledger(program: Program, write: Write) -> None:
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
            written += _flush(batch_changes, batch_support)
    written += _flush(batch_changes, batch_support)
    write(f"Synthetic ledger: {written} households")
    if written:
        summaries.rebuild()  # the rows were written in bulk, past the services
        write("Dashboard summaries rebuilt")


def _flush(changes: list[StageChange], support: list[Support]) -> int:
    with transaction.atomic():
        StageChange.objects.bulk_create(changes)
        Support.objects.bulk_create(support)
    count = len(changes)
    changes.clear()
    support.clear()
    return count


# --- benchmark_sweep -------------------------------------------------------------------------


def _run(range_ids: list[int]) -> int:
    """Run ranges in a worker process (its own connection)."""
    done = 0
    for range_id in range_ids:
        done += int(run_range(range_id)["households"])
    connection.close()
    return done


def benchmark_sweep(
    *, workers: int, chunk_size: int, today: date | None, runs: int, latency: int, write: Write
) -> None:
    """Households per second of ``runs`` full transition sweeps on consecutive days (ranges run
    by ``workers`` processes), then, with ``latency`` samples, the time from a confirmed visit's
    commit until the household's new stage is visible (needs a running Celery worker)."""
    today = today or timezone.localdate()
    total = Household.objects.count()
    write(
        f"{total:,} households, {workers} worker processes, ranges of {chunk_size:,}, today {today}"
    )
    for number in range(1, runs + 1):
        day = today + timedelta(days=number - 1)
        _sweep(number, day, workers, chunk_size, write)
    if latency:
        _latency(latency, write)


def _sweep(number: int, today: date, workers: int, chunk: int, write: Write) -> None:
    ledger_before = StageChange.objects.count()
    alerts_before = Alert.objects.count()
    started = time.perf_counter()
    # A fresh run each time (the benchmark measures whole sweeps, not a resume).
    SweepRun.objects.filter(today=today).exclude(status="done").update(status="done")
    run = plan(today=today, chunk_size=chunk, queue=False)
    planned = time.perf_counter() - started
    ids = list(run.ranges.order_by("lo").values_list("pk", flat=True))
    if workers == 1:
        swept = sum(int(run_range(range_id)["households"]) for range_id in ids)
    else:
        batches = [ids[i::workers] for i in range(workers)]
        connection.close()  # the workers must not share this connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            swept = sum(pool.map(_run, batches))
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    changes = StageChange.objects.count() - ledger_before
    alerts = Alert.objects.count() - alerts_before
    write(
        f"sweep {number} ({today}): {swept:,} households in {elapsed:.1f} s "
        f"(planning {planned:.1f} s) = {swept / elapsed:,.0f} households/s; "
        f"{changes:,} stage changes, {alerts:,} alerts raised; run {run.pk} {run.status} "
        f"{run.ranges_done}/{run.ranges_total} ranges"
    )


def _latency(samples: int, write: Write) -> None:
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        raise CommandError("--latency needs REDIS_URL and a running worker (not eager).")
    today = timezone.localdate()
    candidates = list(
        Household.objects.filter(status=HouseholdStatus.ACTIVE, stage=Stage.COMMITTED)
        .order_by("pk")
        .values_list("pk", flat=True)[:samples]
    )
    if len(candidates) < samples:
        raise CommandError("Not enough committed households: run a sweep first.")
    timings: list[float] = []
    for hid in candidates:
        with transaction.atomic():
            Verification.objects.create(
                household_id=hid,
                visited_on=today,
                method="field_visit",
                coca_ha=Decimal("0"),
                licit_crops=[{"crop": "cacao", "ha": "1.5"}],
                status=VerificationStatus.CONFIRMED,
            )
            recompute_on_commit([hid])
        committed = time.perf_counter()
        while time.perf_counter() - committed < 10:
            stage = Household.objects.filter(pk=hid).values_list("stage", flat=True).get()
            if stage != Stage.COMMITTED:
                timings.append(time.perf_counter() - committed)
                break
            time.sleep(0.005)
        else:
            raise CommandError(f"Household {hid} not recomputed within 10 s: is a worker up?")
    timings.sort()
    write(
        f"recompute after commit ({samples} samples): "
        f"p50 {statistics.median(timings) * 1000:.0f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))] * 1000:.0f} ms, "
        f"max {timings[-1] * 1000:.0f} ms"
    )


# --- benchmark_dashboard -----------------------------------------------------------------------


def benchmark_dashboard(*, repeat: int, write: Write) -> None:
    """Time the admin dashboard's whole read (the view: filter form, summary reads, alerts,
    labels, charts, map and template) for an unrestricted person, unfiltered and filtered,
    with its query count; nothing is written."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.base import SessionBase
    from django.test import RequestFactory

    from farmers.admin.dashboard_page import dashboard_view
    from farmers.models import DashboardHouseholds

    user = get_user_model()(username="bench-reader", is_staff=True, is_superuser=True)
    factory = RequestFactory()
    busiest = (
        DashboardHouseholds.objects.order_by()
        .values("district_id", "district__department_id")
        .annotate(n=models_sum("households"))
        .order_by("-n")
        .first()
    )
    cases: list[tuple[str, dict[str, str]]] = [("unfiltered (12 months)", {})]
    if busiest is not None:
        cases += [
            ("one department, 24 months", {"department": busiest["district__department_id"]}),
            ("one district, 6 months", {"district": busiest["district_id"]}),
            ("VRAEM only", {"vraem": "yes"}),
        ]
    today = timezone.localdate().replace(day=1)
    households = Household.objects.filter(status=HouseholdStatus.ACTIVE).count()
    write(
        f"{households:,} active households, {StageChange.objects.count():,} ledger rows, "
        f"{Support.objects.count():,} support items; summary cells: "
        f"{DashboardHouseholds.objects.count():,} households-now"
    )
    for name, params in cases:
        if "department" in params:
            params = {**params, "month_from": f"{today.year - 2}-{today.month:02d}"}
        if "district" in params:
            start = date(today.year, today.month, 1) - timedelta(days=150)
            params = {**params, "month_from": f"{start.year}-{start.month:02d}"}
        timings: list[float] = []
        queries = 0
        size = 0
        for _n in range(repeat):
            request = factory.get("/admin/dashboard/", params)
            request.user = user
            request.session = SessionBase()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = dashboard_view(request)
                response.render()  # type: ignore[attr-defined]
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{name}: HTTP {response.status_code}")
            queries = len(ctx.captured_queries)
            size = len(response.content)
        write(
            f"dashboard {name:<28} {latencies(timings)}  {queries} queries  "
            f"{size / 1024:,.0f} KiB (n={repeat}, first request included)"
        )
