"""The annual report's stored rows (issue 17: a programme-year in ≤ 2 s, flat from 100k to 1M):
a report read from them is the live report, cell for cell, for every actor and filter it
serves; other periods, funder filters and years not stored are computed live; stored figures
say when they were computed and stay until refreshed (nightly, from the admin page or the
command); reading them costs the same queries for 1 or 100 more households."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers.choices import HouseholdStatus
from farmers.models import AnnualReportRows, Household
from farmers.reporting import annual
from farmers.reporting.annual_snapshots import (
    decode_rows,
    encode_rows,
    refresh_annual_snapshots,
)
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import ApiKey, District, Program
from registry.services import api_key_create
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.ledger import KIMBIRI, PICHARI, SIVIA, household, many_households, seed_ledger
from tests.farmers.test_annual_report import demo  # noqa: F401 - the demo data fixture

pytestmark = pytest.mark.django_db

STAFF = Actor(unrestricted=True)
YEAR = date(2026, 1, 1), date(2026, 12, 31)
URL = "/api/v1/reports/annual/"
PAGE = "/admin/reports/annual/"
INDICATORS = "/api/v1/indicators/"
ANNUAL_METRIC = {"metric": "families_served", "from": "2026-01-01", "to": "2026-12-31"}


def year_query(suppress: bool = True, **filters: Any) -> IndicatorQuery:
    return IndicatorQuery(date_from=YEAR[0], date_to=YEAR[1], suppress=suppress, **filters)


def assert_stored_equals_live(actor: Actor, query: IndicatorQuery) -> annual.Report:
    stored = annual.annual_report(actor=actor, query=query)
    live = annual.annual_report(actor=actor, query=query, live=True)
    assert stored.figures_as_of is not None, "the stored rows were not read"
    assert live.figures_as_of is None
    assert stored.cells.keys() == live.cells.keys()
    for name in live.cells:
        assert stored.cells[name] == live.cells[name], name
    return stored


def served(report: annual.Report) -> int:
    return next(
        c["households"]
        for c in report.cells["families"]
        if (c["level"], c["split"], c["key"]) == ("total", "all", "served")
    )


def funder_actor(code: str, districts: list[str], programs: list[Program]) -> Actor:
    funder = OrganizationFactory.create(code=code, kind=OrganizationKind.FUNDER)
    funder.districts.set(District.objects.filter(ubigeo__in=districts))
    funder.programs.add(*programs)
    key, _raw = api_key_create(organization=funder, scopes=[Scope.INDICATORS_READ])
    return Actor.for_api_key(ApiKey.objects.get(pk=key.pk))


@pytest.mark.usefixtures("demo")
def test_demo_report_from_stored_rows_is_the_live_report() -> None:
    assert refresh_annual_snapshots(years=[2025, 2026]) == 2 * Program.objects.count()
    family = Household.objects.filter(status=HouseholdStatus.ACTIVE).first()
    assert family is not None
    ubigeo = family.district_id
    place = District.objects.get(ubigeo=ubigeo)
    for query in (
        year_query(),
        year_query(suppress=False),
        year_query(program=family.program.code),
        year_query(district=ubigeo, suppress=False),
        year_query(province=place.province_id),
        year_query(department=place.department_id, suppress=False),
        year_query(vraem=True),
        year_query(vraem=False, suppress=False),
    ):
        assert_stored_equals_live(STAFF, query)
    report = assert_stored_equals_live(STAFF, year_query(suppress=False))
    assert served(report) > 0  # the comparison is not between two empty reports
    last_year = IndicatorQuery(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
    assert annual.annual_report(actor=STAFF, query=last_year).figures_as_of is not None


def test_restricted_actors_and_several_programmes(program: Program) -> None:
    data = seed_ledger(program)
    household(data["other"], SIVIA, created=date(2026, 5, 2))
    refresh_annual_snapshots(years=[2026])
    # Two programmes share Pichari (support of both: the spend's families are recombined).
    pichari_only = funder_actor("fondo-a", [PICHARI], [program, data["other"]])
    for actor in (
        STAFF,
        pichari_only,
        funder_actor("fondo-b", [PICHARI, SIVIA, KIMBIRI], [data["other"]]),
    ):
        for suppress in (True, False):
            assert_stored_equals_live(actor, year_query(suppress=suppress))
            assert_stored_equals_live(actor, year_query(suppress=suppress, program="otro"))
    report = assert_stored_equals_live(pichari_only, year_query(suppress=False))
    districts = {c["area"] for c in report.cells["families"] if c["level"] == "district"}
    assert districts == {PICHARI}
    assert served(report) == 11  # 6 + 5 active families in Pichari, both programmes
    spend = next(
        c
        for c in report.cells["spend"]
        if (c["level"], c["split"], c["key"]) == ("total", "all", "total")
    )
    assert spend["support_pen"] == 6 * 100 + 5 * 200


def test_other_periods_funders_and_unstored_years_are_computed_live(program: Program) -> None:
    data = seed_ledger(program)
    refresh_annual_snapshots(years=[2026])
    for query in (
        IndicatorQuery(date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)),
        year_query(funder=data["usaid"].code),
        IndicatorQuery(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)),
    ):
        assert annual.annual_report(actor=STAFF, query=query).figures_as_of is None
    ProgramFactory.create(code="nuevo")  # a programme with no stored rows yet
    assert annual.annual_report(actor=STAFF, query=year_query()).figures_as_of is None
    assert annual.annual_report(actor=STAFF, query=year_query(program="otro")).figures_as_of


def test_stored_figures_stay_until_refreshed(program: Program) -> None:
    seed_ledger(program)
    refresh_annual_snapshots(years=[2026])
    before = annual.annual_report(actor=STAFF, query=year_query(suppress=False))
    household(program, SIVIA, created=date(2026, 7, 1))
    after = annual.annual_report(actor=STAFF, query=year_query(suppress=False))
    assert served(after) == served(before) and after.figures_as_of == before.figures_as_of
    refresh_annual_snapshots(years=[2026], programs=[program.code])
    refreshed = annual.annual_report(actor=STAFF, query=year_query(suppress=False))
    assert served(refreshed) == served(before) + 1
    assert refreshed.figures_as_of is not None and before.figures_as_of is not None
    assert refreshed.figures_as_of == before.figures_as_of  # the other programme's, older
    assert AnnualReportRows.objects.filter(year=2026).count() == 2 * len(annual.sections())


def test_reading_stored_rows_costs_the_same_queries_for_more_households(program: Program) -> None:
    seed_ledger(program)
    refresh_annual_snapshots(years=[2026])
    with CaptureQueriesContext(connection) as warmed:
        annual.annual_report(actor=STAFF, query=year_query())
    assert len(warmed) == 2  # the refresh computed and cached the report: programmes, stamps
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        annual.annual_report(actor=STAFF, query=year_query())
    many_households(program, SIVIA, 100, "S")
    refresh_annual_snapshots(years=[2026])
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        report = annual.annual_report(actor=STAFF, query=year_query())
    assert report.figures_as_of is not None
    assert len(few) == len(many) == 4  # programmes, stamps, stored rows, district places
    with CaptureQueriesContext(connection) as again:
        assert annual.annual_report(actor=STAFF, query=year_query()).cells == report.cells
    assert len(again) == 2  # computed once from the rows, then read from the cache


def test_rows_round_trip_through_json() -> None:
    rows = [{"district": PICHARI, "key": "total", "events": {3, 1}, "ha": "1.5000", "n": 2}]
    assert encode_rows(rows) == [
        {"district": PICHARI, "key": "total", "events": [1, 3], "ha": "1.5000", "n": 2}
    ]
    assert decode_rows(encode_rows(rows)) == rows


def test_api_and_page_say_when_the_figures_were_computed(program: Program) -> None:
    seed_ledger(program)
    user = UserFactory.create(username="jefa", is_staff=True, is_superuser=True)
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(URL, {"year": "2026"}).json()["figures_as_of"] is None
    assert api.get(INDICATORS, ANNUAL_METRIC).json()["figures_as_of"] is None
    page = Client()
    page.force_login(user)
    body = page.get(PAGE, {"year": "2026"}).content.decode()
    assert "calculadas para esta página" in body and "Recalcular las cifras de 2026" in body
    response = page.post(PAGE, {"year": "2026", "program": program.code})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?year=2026&program={program.code}"
    assert set(AnnualReportRows.objects.values_list("program__code", flat=True)) == {program.code}
    refresh_annual_snapshots(years=[2026])
    stamp = api.get(URL, {"year": "2026"}).json()["figures_as_of"]
    assert stamp is not None
    assert (
        datetime.fromisoformat(stamp)
        == AnnualReportRows.objects.earliest("computed_at").computed_at
    )
    # The annual report's figures as indicators carry the same stamp; other metrics are live.
    metric = api.get(INDICATORS, ANNUAL_METRIC).json()
    assert metric["figures_as_of"] == stamp and metric["results"]
    assert api.get(INDICATORS, {"metric": "households"}).json()["figures_as_of"] is None
    body = page.get(PAGE, {"year": "2026"}).content.decode()
    assert "cifras guardadas" in body
    # A period that is not a calendar year offers no recalculation (it is always live).
    body = page.get(PAGE, {"from": "2026-01-01", "to": "2026-03-31"}).content.decode()
    assert "Recalcular las cifras" not in body
    bad = page.post(PAGE, {"year": "12"}, follow=True)
    assert "1990" in bad.content.decode()


def test_refresh_command(program: Program) -> None:
    seed_ledger(program)
    out = StringIO()
    call_command("refresh_annual_reports", "--year", "2026", "--program", "otro", stdout=out)
    assert "programme-years stored: 1" in out.getvalue()
    assert set(AnnualReportRows.objects.values_list("program__code", "year")) == {("otro", 2026)}


def test_benchmark_times_the_stored_rows_or_the_live_report(program: Program) -> None:
    seed_ledger(program)
    out = StringIO()
    call_command(
        "benchmark_annual_report", "--program", program.code, "--year", "2026", "--runs", "2",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "stored rows refreshed" in text and text.count("(stored rows)") == 2
    out = StringIO()
    call_command(
        "benchmark_annual_report", "--program", program.code, "--year", "2026", "--runs", "1",
        "--live", stdout=out,
    )  # fmt: skip
    assert "(live)" in out.getvalue() and "refreshed" not in out.getvalue()
    out = StringIO()
    call_command(
        "benchmark_annual_report", "--program", program.code, "--year", "2026", "--runs", "2",
        "--cold", stdout=out,
    )  # fmt: skip
    assert out.getvalue().count("(stored rows, not cached)") == 2
