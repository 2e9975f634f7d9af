"""The tenure track (issue 15): households holding secure tenure, counted on their own in the
``indicators/`` metric ``tenure`` and in the dashboard's "Tenencia" block — not a rung."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household
from farmers.reporting import indicators, summaries
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor
from registry.models import Program
from tests.factories import ProgramFactory
from tests.farmers.ledger import PICHARI, SIVIA, household
from tests.farmers.test_dashboard import URL as DASHBOARD_URL
from tests.farmers.test_dashboard import staff_client
from tests.farmers.test_indicators import funder_client

pytestmark = pytest.mark.django_db
__all__ = ["funder_client"]  # the fixture: a funder's key over Pichari and Sivia, both programmes

URL = "/api/v1/indicators/"
STAFF = Actor(unrestricted=True)


def tenured(program: Program, district: str, stage: str, on: str = "2026-03-01") -> Household:
    h = household(program, district, stage=stage)
    Household.objects.filter(pk=h.pk).update(milestones={"enrolled": "2026-01-10", "tenure": on})
    return h


@pytest.fixture
def data(program: Program) -> dict[str, Any]:
    """pirdais: 6 with tenure in Pichari (3 market-linked, 2 licit production, 1 committed) and
    2 in Sivia (enrolled), 4 without; otro: 1 with tenure, 5 without; a rejected family with
    tenure (never counted)."""
    other = ProgramFactory.create(code="otro")
    for stage in [Stage.MARKET_LINKED] * 3 + [Stage.LICIT_PRODUCTION] * 2 + [Stage.COMMITTED]:
        tenured(program, PICHARI, stage)
    for _n in range(2):
        tenured(program, SIVIA, Stage.ENROLLED)
    for _n in range(4):
        household(program, PICHARI, stage=Stage.MARKET_LINKED)
    tenured(other, PICHARI, Stage.LICIT_PRODUCTION)
    for _n in range(5):
        household(other, PICHARI, stage=Stage.COMMITTED)
    rejected = tenured(program, PICHARI, Stage.MARKET_LINKED)
    Household.objects.filter(pk=rejected.pk).update(status=HouseholdStatus.REJECTED)
    return {"other": other}


def rows(*group_by: str, suppress: bool = False, **kw: Any) -> list[dict[str, Any]]:
    query = IndicatorQuery(metric="tenure", group_by=group_by, suppress=suppress, **kw)
    return indicators.indicator_rows(actor=STAFF, query=query)


def test_tenure_track_counts_households_with_tenure_by_programme(data: dict[str, Any]) -> None:
    assert rows("program") == [
        {"program": "otro", "households": 1, "suppressed": False},
        {"program": "pirdais", "households": 8, "suppressed": False},
    ]
    by_stage = {r["stage"]: r["households"] for r in rows("stage", program="pirdais")}
    # Tenure on every rung, from enrolled up: a track beside the ladder, not a rung of it.
    assert by_stage == {"enrolled": 2, "committed": 1, "licit_production": 2, "market_linked": 3}
    by_district = {
        (r["district"], r["program"]): r["households"] for r in rows("district", "program")
    }
    assert by_district == {(PICHARI, "pirdais"): 6, (SIVIA, "pirdais"): 2, (PICHARI, "otro"): 1}
    assert rows("program", department="05") == [
        {"program": "pirdais", "households": 2, "suppressed": False}
    ]


def test_tenure_track_suppresses_small_cells(data: dict[str, Any]) -> None:
    # otro's 1 is suppressed, and pirdais' 8 beside it (the total over programmes, e.g. the
    # stage cells' sum, minus 8 would give otro's 1).
    assert rows("program", suppress=True) == [
        {"program": "otro", "households": None, "suppressed": True},
        {"program": "pirdais", "households": None, "suppressed": True},
    ]


def test_api_answers_the_tenure_metric(funder_client: APIClient, program: Program) -> None:
    response = funder_client.get(URL, {"metric": "tenure"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "tenure" and body["group_by"] == ["program"]
    assert body["results"] == [
        {"program": "otro", "households": None, "suppressed": True},
        {"program": "pirdais", "households": None, "suppressed": True},  # its complement
    ]
    # month is not a dimension of the tenure track: ignored, as for other metrics.
    months = funder_client.get(URL, {"metric": "tenure", "group_by": "month,stage"}).json()
    assert months["group_by"] == ["stage"]
    params = {"metric": "tenure", "group_by": "district,program,stage"}
    with CaptureQueriesContext(connection) as few:
        funder_client.get(URL, params)
    for _n in range(20):
        tenured(program, SIVIA, Stage.COMMITTED)
    with CaptureQueriesContext(connection) as many:
        funder_client.get(URL, params)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_dashboard_shows_tenure_as_its_own_block(data: dict[str, Any], program: Program) -> None:
    summaries.rebuild()  # the fixture's rows bypass the services
    response = staff_client(program).get(DASHBOARD_URL)
    assert response.status_code == 200
    html = response.content.decode()
    block = html.split('id="tenure"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Tenencia</h2>" in block
    # Programme staff of pirdais' agency: 8 of its 12 live families hold tenure.
    assert "8 de 12 (67%)" in block
    assert "otro" not in block
    # Not a rung: the funnel has no formalized bar, and the tenure block sits beside it.
    funnel = str(response.context["funnel_chart"])
    assert "Formalizado" not in funnel and "Tenencia" not in funnel
    assert html.index('id="funnel"') < html.index('id="tenure"') < html.index('id="stages"')


def test_dashboard_tenure_block_without_tenure(program: Program) -> None:
    household(program, PICHARI, stage=Stage.MARKET_LINKED, created=date(2026, 2, 1))
    summaries.rebuild()
    html = staff_client(program).get(DASHBOARD_URL).content.decode()
    block = html.split('id="tenure"', 1)[1].split("</section>", 1)[0]
    assert "Tenencia" in block and "0 de 1 (0%)" not in block
