"""The transition API: ``transition-events/`` (oldest first, cursor, ``after``, area scoping),
``households/{id}/stage-history/``, milestones on households, coca figures only for coca:read,
and query budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.choices import Stage
from farmers.models import Household, StageChange
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.choices import Scope
from registry.models import AccessLog, Program
from tests.farmers.conftest import ClientMaker
from tests.farmers.test_transition_rules import TODAY
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/transition-events/"
# The ledger is stage data, and the stage is coca data (issue 15): reading it needs coca:read.
READ = [Scope.HOUSEHOLDS_READ, Scope.COCA_READ]
SIVIA = "050407"


def moved(program: Program, district: str = "080910") -> Household:
    """A household the engine moved enrolled → licit_production (one ledger row)."""
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2026, 1, 1)],
            visits=[Visit(date(2026, 3, 1), Decimal("0"), Decimal("1.5"))],
        ),
        district=district,
    )
    engine.recompute_households([household.pk], today=TODAY)
    return household


def extra_rows(household: Household, n: int) -> None:
    StageChange.objects.bulk_create(
        StageChange(
            household=household,
            from_stage=Stage.ENROLLED,
            to_stage=Stage.COMMITTED,
            effective_on=date(2026, 1, 1),
            reason="agreement_signed",
            evidence={"agreements": 1, "coca": {"coca_ha": "0.00"}},
            district_id=household.district_id,
            program_id=household.program_id,
        )
        for _ in range(n)
    )


def test_events_are_scoped_oldest_first_and_sync_incrementally(
    program: Program, client_for: ClientMaker, partner: Any, other_partner: Any
) -> None:
    mine = [moved(program) for _ in range(3)]
    theirs = moved(program, district=SIVIA)
    client = client_for(READ)
    # Three rows a household: one per rung reached (enrolled → committed → coca_free → licit).
    page = client.get(EVENTS, {"page_size": 6}).json()
    ids = [e["id"] for e in page["results"]]
    assert ids == sorted(ids) and len(ids) == 6
    rest = client.get(page["next"]).json()
    assert rest["next"] is None
    seen = ids + [e["id"] for e in rest["results"]]
    assert {e["household"] for e in [*page["results"], *rest["results"]]} == {
        str(h.pk) for h in mine
    }
    assert str(theirs.pk) not in str(rest)
    first = [e for e in page["results"] if e["household"] == page["results"][0]["household"]]
    assert [(e["to_stage"], e["reason"]) for e in first] == [
        ("committed", "agreement_signed"),
        ("coca_free", "coca_free_visit"),
        ("licit_production", "licit_crops_confirmed"),
    ]
    event = first[-1]
    assert event["district"] == "080910" and event["program"] == "pirdais"
    assert "coca" in event["evidence"]  # coca:read: the coca figures too
    # A partner stores the last id and asks for what came after it.
    newest = moved(program)
    after = client.get(EVENTS, {"after": seen[-1]}).json()
    assert [e["household"] for e in after["results"]] == [str(newest.pk)] * 3
    # The other partner sees only its own district's events.
    other = client_for(READ, org=other_partner).get(EVENTS).json()
    assert [e["household"] for e in other["results"]] == [str(theirs.pk)] * 3


def test_events_need_households_read(program: Program, client_for: ClientMaker) -> None:
    moved(program)
    response = client_for([Scope.REFERENCE_READ]).get(EVENTS)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"
    response = client_for([Scope.HOUSEHOLDS_READ]).get(EVENTS)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"
    assert client_for(READ).get(EVENTS, {"after": "x"}).status_code == 400
    assert client_for(READ).post(EVENTS, {}).status_code == 405


def test_coca_figures_only_for_coca_read_and_logged(
    program: Program, client_for: ClientMaker
) -> None:
    household = moved(program)
    client = client_for([*READ, Scope.COCA_READ])
    event = client.get(EVENTS).json()["results"][0]
    assert event["evidence"]["coca"] == {"coca_ha": "0.0000", "relapses": 0}
    log = AccessLog.objects.filter(resource="stage_changes").last()
    assert log is not None and str(event["id"]) in log.object_ids
    history = client.get(f"/api/v1/households/{household.pk}/stage-history/").json()
    assert history["results"][0]["evidence"]["coca"]["coca_ha"] == "0.0000"


def test_stage_history_of_one_household(
    program: Program, client_for: ClientMaker, other_partner: Any
) -> None:
    household = moved(program)
    other = moved(program)
    engine.recompute_households([household.pk], today=date(2028, 1, 1))  # the visit expired
    client = client_for(READ)
    url = f"/api/v1/households/{household.pk}/stage-history/"
    rows = client.get(url).json()["results"]
    assert [(r["from_stage"], r["to_stage"], r["reason"]) for r in rows] == [
        ("enrolled", "committed", "agreement_signed"),
        ("committed", "coca_free", "coca_free_visit"),
        ("coca_free", "licit_production", "licit_crops_confirmed"),
        ("licit_production", "committed", "visit_expired"),
    ]
    assert str(other.pk) not in str(rows)
    assert client_for(READ, org=other_partner).get(url).status_code == 404
    detail = client.get(f"/api/v1/households/{household.pk}/").json()
    assert detail["stage"] == "committed"
    assert detail["stage_since"] == "2027-09-01"
    assert detail["milestones"] == {"enrolled": "2023-01-10", "committed": "2026-01-01"}


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_query_budgets(program: Program, client_for: ClientMaker) -> None:
    household = moved(program)
    client = client_for([*READ, Scope.COCA_READ])
    history = f"/api/v1/households/{household.pk}/stage-history/"
    client.get(EVENTS)  # the key's first use is recorded once
    one = (_count(client, EVENTS), _count(client, history))
    extra_rows(household, 40)
    for _ in range(3):
        extra_rows(moved(program), 10)
    many = (_count(client, EVENTS), _count(client, history))
    assert one == many
