"""Indicators: exact figures on a small ledger, small-cell suppression, scoping, no personal
data, and a query count that does not grow with the households."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers.choices import Stage
from farmers.models import Household, StageChange
from farmers.reporting import indicators
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import District, Program
from registry.services import api_key_create
from tests.factories import OrganizationFactory
from tests.farmers.ledger import (
    KIMBIRI,
    PICHARI,
    SIVIA,
    change,
    household,
    seed_ledger,
    support,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicators/"


@pytest.fixture
def data(program: Program) -> dict[str, Any]:
    return seed_ledger(program)


STAFF = Actor(unrestricted=True)


def rows(metric: str, *group_by: str, suppress: bool = False, **kw: Any) -> list[dict[str, Any]]:
    query = IndicatorQuery(metric=metric, group_by=group_by, suppress=suppress, **kw)
    return indicators.indicator_rows(actor=STAFF, query=query)


def test_households_by_stage_now(data: dict[str, Any]) -> None:
    assert {r["stage"]: r["households"] for r in rows("households", "stage")} == {
        "committed": 6,
        "coca_free": 3,
        "relapsed": 2,
        "enrolled": 4,
    }
    cells = {
        (r["district"], r["program"], r["stage"]): r["households"]
        for r in rows("households", "district", "program", "stage")
    }
    assert cells == {
        (PICHARI, "pirdais", "committed"): 1,
        (PICHARI, "pirdais", "coca_free"): 3,
        (PICHARI, "pirdais", "relapsed"): 2,
        (SIVIA, "pirdais", "enrolled"): 4,
        (PICHARI, "otro", "committed"): 5,
    }
    by_department = rows("households", "program", department="05")
    assert [(r["program"], r["households"]) for r in by_department] == [("pirdais", 4)]


def test_households_by_stage_at_each_months_end(data: dict[str, Any]) -> None:
    period: dict[str, Any] = {"date_from": date(2026, 1, 1), "date_to": date(2026, 6, 30)}
    cells = {
        (r["month"], r["stage"]): r["households"]
        for r in rows("households", "month", "stage", **period)
    }
    assert cells == {
        ("2026-01", "enrolled"): 11,
        ("2026-02", "committed"): 6,
        ("2026-02", "enrolled"): 5,
        ("2026-03", "committed"): 11,
        ("2026-03", "enrolled"): 4,
        ("2026-04", "coca_free"): 5,
        ("2026-04", "committed"): 6,
        ("2026-04", "enrolled"): 4,
        ("2026-05", "coca_free"): 5,
        ("2026-05", "committed"): 6,
        ("2026-05", "enrolled"): 4,
        ("2026-06", "coca_free"): 3,
        ("2026-06", "relapsed"): 2,
        ("2026-06", "committed"): 6,
        ("2026-06", "enrolled"): 4,
    }
    totals = {r["month"]: r["households"] for r in rows("households", "month", **period)}
    assert totals == {
        "2026-01": 11,
        "2026-02": 11,
        "2026-03": 15,
        "2026-04": 15,
        "2026-05": 15,
        "2026-06": 15,
    }
    pichari = rows("households", "month", "district", district=SIVIA, **period)
    assert [(r["month"], r["district"], r["households"]) for r in pichari] == [
        (f"2026-0{m}", SIVIA, 4) for m in range(3, 7)
    ]


def test_flows_between_stages(data: dict[str, Any]) -> None:
    cells = [
        (r["month"], r["from_stage"], r["to_stage"], r["households"])
        for r in rows("flows", "month")
    ]
    assert cells == [
        ("2026-02", "enrolled", "committed", 6),
        ("2026-03", "enrolled", "committed", 5),
        ("2026-04", "committed", "coca_free", 5),
        ("2026-06", "coca_free", "relapsed", 2),
    ]
    by_program = {
        (r["program"], r["from_stage"], r["to_stage"]): r["households"]
        for r in rows("flows", "program")
    }
    assert by_program[("pirdais", "enrolled", "committed")] == 6
    assert by_program[("otro", "enrolled", "committed")] == 5
    limited = rows("flows", "month", date_from=date(2026, 4, 1), date_to=date(2026, 5, 31))
    assert [(r["month"], r["households"]) for r in limited] == [("2026-04", 5)]


def test_relapse_rate(data: dict[str, Any]) -> None:
    assert rows("relapse_rate", "program") == [
        {
            "program": "pirdais",
            "households_reached": 5,
            "households_relapsed": 2,
            "relapse_rate": 0.4,
            "suppressed": False,
        }
    ]
    suppressed = rows("relapse_rate", "program", suppress=True)
    assert suppressed == [
        {
            "program": "pirdais",
            "households_reached": None,
            "households_relapsed": None,
            "relapse_rate": None,
            "suppressed": True,
        }
    ]


def test_relapse_rate_is_shown_when_both_counts_reach_five(program: Program) -> None:
    for n in range(10):
        h = household(program, PICHARI, stage=Stage.RELAPSED if n < 5 else Stage.COCA_FREE)
        change(h, Stage.COMMITTED, Stage.COCA_FREE, date(2026, 4, 1))
    [cell] = rows("relapse_rate", "program", suppress=True)
    assert cell["relapse_rate"] == 0.5 and cell["households_relapsed"] == 5
    assert cell["households_reached"] == 10 and cell["suppressed"] is False


def test_cost_per_household_reaching_each_stage(data: dict[str, Any]) -> None:
    cells = {
        (r["program"], r["stage"], r["funding_source"]): (
            r["households"],
            r["total_cost_pen"],
            r["cost_per_household_pen"],
        )
        for r in rows("cost_per_household", "program")
    }
    # Cost per result: everything a source spent on the programme's households (pirdais: 6 x
    # S/ 100 from usaid, 4 x S/ 10 unrecorded; the rejected family's S/ 999 never counts) over
    # the families that reached each rung.
    assert cells == {
        ("pirdais", "enrolled", None): (10, "40.00", "4.00"),
        ("pirdais", "enrolled", "usaid"): (10, "600.00", "60.00"),
        ("pirdais", "committed", None): (6, "40.00", "6.67"),
        ("pirdais", "committed", "usaid"): (6, "600.00", "100.00"),
        ("pirdais", "coca_free", None): (5, "40.00", "8.00"),
        ("pirdais", "coca_free", "usaid"): (5, "600.00", "120.00"),
        ("otro", "enrolled", "usaid"): (5, "1000.00", "200.00"),
        ("otro", "committed", "usaid"): (5, "1000.00", "200.00"),
    }


def test_cost_ladder_suppresses_cells_that_differencing_would_reveal(data: dict[str, Any]) -> None:
    """pirdais: 10 at or beyond enrolled, 6 beyond committed, 5 beyond coca-free. Showing 10
    and 6 would reveal the 4 enrolled-only families' costs by subtraction: 6 is hidden. Then
    complementary suppression: otro's committed rung (5) is hidden beside it (grouped by
    district, Pichari's committed rung, 11, minus otro's 5 would give pirdais' 6); otro's 5
    families are all at committed, whose households-now cell is suppressed, so its enrolled
    rung (their sum) is hidden too, and pirdais' enrolled rung as its complement."""
    shown = {
        (r["program"], r["stage"]): r["suppressed"]
        for r in rows("cost_per_household", "program", suppress=True)
    }
    assert shown == {
        ("pirdais", "enrolled"): True,
        ("pirdais", "committed"): True,
        ("pirdais", "coca_free"): False,
        ("otro", "enrolled"): True,
        ("otro", "committed"): True,
    }
    hidden = [r for r in rows("cost_per_household", "program", suppress=True) if r["suppressed"]]
    assert all(
        r["households"] is None
        and r["total_cost_pen"] is None
        and r["cost_per_household_pen"] is None
        for r in hidden
    )


def test_ladder_rule() -> None:
    assert indicators._ladder_shown([10, 6, 5, 0]) == [True, False, True, False]
    assert indicators._ladder_shown([12, 12, 7, 3]) == [True, True, True, False]
    assert indicators._ladder_shown([4, 4]) == [False, False]


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def funder_client(data: dict[str, Any], program: Program) -> APIClient:
    """A funder's key over Pichari and Sivia, both programmes."""
    funder = OrganizationFactory.create(code="fondo", kind=OrganizationKind.FUNDER)
    funder.districts.set(District.objects.filter(ubigeo__in=[PICHARI, SIVIA]))
    funder.programs.add(program, data["other"])
    _key, raw = api_key_create(organization=funder, scopes=[Scope.INDICATORS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_api_suppresses_small_cells(funder_client: APIClient) -> None:
    response = funder_client.get(URL, {"group_by": "district,program,stage"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "households" and body["suppression_threshold"] == 5
    assert body["group_by"] == ["district", "program", "stage"]
    cells = {(r["district"], r["program"], r["stage"]): r for r in body["results"]}
    # otro's 5 committed families are suppressed beside pirdais' 1: grouped by district and
    # stage, Pichari's 6 committed minus otro's 5 would reveal it (complementary suppression).
    assert cells[(PICHARI, "otro", "committed")] == {
        "district": PICHARI,
        "program": "otro",
        "stage": "committed",
        "households": None,
        "suppressed": True,
    }
    for key in [(PICHARI, "pirdais", "committed"), (SIVIA, "pirdais", "enrolled")]:
        assert cells[key]["households"] is None and cells[key]["suppressed"] is True


def test_a_blank_programme_filter_means_every_programme(funder_client: APIClient) -> None:
    """``program=`` (or only white space, as a form may send it) filters nothing; it is no 400."""
    every = funder_client.get(URL, {"group_by": "district,program,stage"}).json()["results"]
    for blank in ("", " ", "\x1f"):
        response = funder_client.get(URL, {"group_by": "district,program,stage", "program": blank})
        assert response.status_code == 200, response.json()
        assert response.json()["results"] == every


def test_four_households_are_suppressed_and_five_are_shown(
    program: Program, funder_client: APIClient
) -> None:
    for _n in range(4):
        household(program, PICHARI, stage=Stage.LICIT_PRODUCTION)
    cells = funder_client.get(URL, {"group_by": "stage"}).json()["results"]
    licit = next(r for r in cells if r["stage"] == "licit_production")
    assert licit == {"stage": "licit_production", "households": None, "suppressed": True}
    household(program, PICHARI, stage=Stage.LICIT_PRODUCTION)
    cells = funder_client.get(URL, {"group_by": "stage"}).json()["results"]
    licit = next(r for r in cells if r["stage"] == "licit_production")
    assert licit == {"stage": "licit_production", "households": 5, "suppressed": False}


def test_api_metrics_answer(funder_client: APIClient) -> None:
    flows = funder_client.get(URL, {"metric": "flows", "group_by": "month"}).json()["results"]
    assert [(r["month"], r["households"], r["suppressed"]) for r in flows] == [
        ("2026-02", 6, False),
        ("2026-03", 5, False),
        ("2026-04", 5, False),
        ("2026-06", None, True),
    ]
    months = funder_client.get(
        URL, {"group_by": "month", "from": "2026-01-01", "to": "2026-03-31"}
    ).json()
    assert [(r["month"], r["households"]) for r in months["results"]] == [
        ("2026-01", 11),
        ("2026-02", 11),
        ("2026-03", 15),
    ]
    assert months["period_from"] == "2026-01-01" and months["period_to"] == "2026-03-31"
    relapse = funder_client.get(URL, {"metric": "relapse_rate"}).json()["results"]
    assert relapse == [
        {
            "program": "pirdais",
            "households_reached": None,
            "households_relapsed": None,
            "relapse_rate": None,
            "suppressed": True,
        }
    ]
    cost = funder_client.get(URL, {"metric": "cost_per_household"}).json()["results"]
    otro = [r for r in cost if r["program"] == "otro"]
    # Both rungs are complements of pirdais' (see the ladder test above).
    assert [(r["stage"], r["cost_per_household_pen"]) for r in otro] == [
        ("enrolled", None),
        ("committed", None),
    ]


def test_api_is_scoped_to_the_keys_area(data: dict[str, Any], client_for: Any) -> None:
    """``partner`` works in Pichari and Kimbiri, programme pirdais only."""
    client = client_for([Scope.INDICATORS_READ])
    cells = client.get(URL, {"group_by": "district,program"}).json()["results"]
    assert cells == [
        {"district": PICHARI, "program": "pirdais", "households": 6, "suppressed": False}
    ]
    nowhere = OrganizationFactory.create(code="sin-area", kind=OrganizationKind.FUNDER)
    _key, raw = api_key_create(organization=nowhere, scopes=[Scope.INDICATORS_READ])
    empty = APIClient()
    empty.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert empty.get(URL).json()["results"] == []


def test_api_needs_the_indicators_scope(data: dict[str, Any], client_for: Any) -> None:
    assert APIClient().get(URL).status_code == 401
    response = client_for([Scope.HOUSEHOLDS_READ]).get(URL)
    assert response.status_code == 403
    assert client_for([Scope.HOUSEHOLDS_READ]).post(URL, {}).status_code in (403, 405)


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"metric": "personas"}, "metric"),
        ({"group_by": "district,hogar"}, "group_by"),
        ({"district": "8091"}, "district"),
        ({"department": "123"}, "department"),
        ({"from": "2026-13-01"}, "from"),
        ({"province": "08091"}, "province"),
        ({"vraem": "quizas"}, "vraem"),
        ({"funder": "no es un código"}, "funder"),
        ({"periodo": "2026"}, "periodo"),  # unknown parameters are refused, never ignored
    ],
)
def test_api_rejects_bad_parameters(
    funder_client: APIClient, params: dict[str, str], attr: str
) -> None:
    response = funder_client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == attr


def test_api_ignores_dimensions_a_metric_lacks_and_empty_periods(funder_client: APIClient) -> None:
    body = funder_client.get(URL, {"metric": "relapse_rate", "group_by": "month,program"}).json()
    assert body["group_by"] == ["program"]
    # A period that ends before it starts is a field error on ``from`` (it used to be an empty 200).
    backwards = {"group_by": "month", "from": "2026-05-01", "to": "2026-04-01"}
    for metric in ("households", "flows"):
        response = funder_client.get(URL, {"metric": metric, **backwards})
        assert response.status_code == 400
        assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
            ("from", "invalid_period")
        ]
    one_day = funder_client.get(URL, {"metric": "flows", "from": "2026-04-01", "to": "2026-04-01"})
    assert one_day.status_code == 200 and one_day.json()["results"] == []


def test_month_series_counts_a_family_from_its_enrolment_not_its_import(program: Program) -> None:
    """An imported family registered in March with an enrolment in January and a move in
    February is counted once a month from January (it used to be counted twice in March, and
    its February move left a negative count that was dropped)."""
    h = household(program, PICHARI, stage=Stage.COMMITTED, created=date(2026, 3, 15))
    Household.objects.filter(pk=h.pk).update(enrolled_on=date(2026, 1, 5))
    change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 2, 10))
    period: dict[str, Any] = {"date_from": date(2026, 1, 1), "date_to": date(2026, 4, 30)}
    cells = {
        (r["month"], r["stage"]): r["households"]
        for r in rows("households", "month", "stage", **period)
    }
    assert cells == {
        ("2026-01", "enrolled"): 1,
        ("2026-02", "committed"): 1,
        ("2026-03", "committed"): 1,
        ("2026-04", "committed"): 1,
    }


def test_month_range_is_bounded() -> None:
    months = indicators.month_range(
        IndicatorQuery(date_from=date(1, 1, 1), date_to=date(9999, 12, 31))
    )
    assert len(months) == indicators.MAX_MONTHS and months[-1] == date(2200, 12, 1)
    default = indicators.month_range(IndicatorQuery(today=date(2026, 11, 28)))
    assert default[0] == date(2025, 12, 1) and default[-1] == date(2026, 11, 1)
    assert indicators.month_range(IndicatorQuery(date_to=date(1, 3, 1))) == []


def test_api_never_returns_personal_data(data: dict[str, Any], funder_client: APIClient) -> None:
    households = list(Household.objects.all())
    secrets = [str(h.pk) for h in households] + [h.code for h in households]
    secrets += [h.head_name for h in households]
    allowed_keys = {
        "district", "program", "stage", "month", "from_stage", "to_stage", "funding_source",
        "households", "households_reached", "households_relapsed", "relapse_rate",
        "total_cost_pen", "cost_per_household_pen", "suppressed",
    }  # fmt: skip
    for metric, group_by in [
        ("households", "district,program,stage"),
        ("households", "month,district,program,stage"),
        ("flows", "district,program,month"),
        ("relapse_rate", "district,program"),
        ("cost_per_household", "district,program"),
    ]:
        response = funder_client.get(
            URL, {"metric": metric, "group_by": group_by, "from": "2026-01-01", "to": "2026-12-31"}
        )
        assert response.status_code == 200
        text = json.dumps(response.json())
        assert not [s for s in secrets if s in text], metric
        for cell in response.json()["results"]:
            assert set(cell) <= allowed_keys


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "district,program,stage"},
        {"group_by": "month,stage", "from": "2026-01-01", "to": "2026-12-31"},
        {"metric": "flows", "group_by": "month,district"},
        {"metric": "relapse_rate", "group_by": "program,district"},
        {"metric": "cost_per_household", "group_by": "program,district"},
    ],
)
def test_query_count_does_not_grow_with_households(
    data: dict[str, Any], program: Program, funder_client: APIClient, params: dict[str, str]
) -> None:
    funder_client.get(URL, params)
    with CaptureQueriesContext(connection) as few:
        assert funder_client.get(URL, params).status_code == 200
    for n in range(30):
        h = household(program, (PICHARI, SIVIA)[n % 2], stage=Stage.COMMITTED)
        change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 5, 1 + n % 20))
        support(h, "5.00", data["usaid"])
    with CaptureQueriesContext(connection) as many:
        assert funder_client.get(URL, params).status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries) <= 6


def test_a_key_without_area_gets_empty_month_series(data: dict[str, Any]) -> None:
    nowhere = OrganizationFactory.create(code="sin-area", kind=OrganizationKind.FUNDER)
    _key, raw = api_key_create(organization=nowhere, scopes=[Scope.INDICATORS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get(URL, {"group_by": "month,stage", "from": "2026-01-01"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize(
    "metric", ["families_served", "licit_hectares", "coca_reduced", "titles", "sales", "spend"]
)
def test_a_key_without_area_gets_empty_annual_metrics(data: dict[str, Any], metric: str) -> None:
    """The annual report's metrics on an area that matches nothing answer empty, not 500."""
    nowhere = OrganizationFactory.create(code="sin-area", kind=OrganizationKind.FUNDER)
    _key, raw = api_key_create(organization=nowhere, scopes=[Scope.INDICATORS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get(URL, {"metric": metric})
    assert response.status_code == 200, response.content
    assert all(not v for r in response.json()["results"] for k, v in r.items() if k != "district")


def test_benchmark_command_runs_on_seeded_households() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_households", "--count", "40", stdout=StringIO())
    out = StringIO()
    call_command("benchmark_indicators", "--ledger", "--repeat", "1", stdout=out)
    text = out.getvalue()
    assert "40 households" in text and "dashboard (all of it)" in text
    ledger = StageChange.objects.count()
    assert ledger == Household.objects.exclude(stage=Stage.ENROLLED).count() > 0
    call_command("benchmark_indicators", "--ledger", "--repeat", "1", stdout=StringIO())
    assert StageChange.objects.count() == ledger  # households with a ledger are left alone


PIURA = "200101"  # outside the VRAEM


def test_filters_by_province_vraem_and_funder(data: dict[str, Any], program: Program) -> None:
    """Issue 17 point 6: every documented filter works (none is silently ignored)."""
    for _n in range(3):
        household(program, PIURA)
    funder = OrganizationFactory.create(code="donante", kind=OrganizationKind.FUNDER)
    program.funder = funder
    program.save(update_fields=["funder"])

    def by_district(**kw: Any) -> dict[str, int]:
        return {r["district"]: r["households"] for r in rows("households", "district", **kw)}

    every = by_district()
    assert every[PIURA] == 3 and {PICHARI, SIVIA} <= set(every)
    assert PIURA not in by_district(vraem=True)
    assert set(by_district(vraem=False)) == {PIURA}
    assert set(by_district(province=PICHARI[:4])) <= {PICHARI, KIMBIRI}
    assert by_district(province=PICHARI[:4])[PICHARI] == every[PICHARI]
    funded = Household.objects.filter(program=program, status="active")
    assert sum(by_district(funder="donante").values()) == funded.count()
    assert by_district(funder="otro-donante") == {}


def test_api_filters_by_vraem(data: dict[str, Any], funder_client: APIClient) -> None:
    everything = funder_client.get(URL, {"group_by": "district"}).json()["results"]
    response = funder_client.get(URL, {"group_by": "district", "vraem": "true"})
    assert response.status_code == 200, response.json()
    assert response.json()["results"] == everything  # the key's districts are all in the VRAEM
    outside = funder_client.get(URL, {"group_by": "district", "vraem": "false"}).json()
    assert outside["results"] == []
    refused = funder_client.get(URL, {"vraem": "true", "zona": "vraem"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "unknown_parameter"
