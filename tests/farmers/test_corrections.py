"""Corrections of confirmed visits (issue 15, build 7): a typo of 0.0001 ha of coca is fixed
through a correction record (field, old → new, why, who) approved by a second person; the
approved correction is applied to the visit (with a change record) and the engine recomputes.
Refused moves change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.choices import CorrectionStatus, Stage, VerificationStatus
from farmers.models import Verification, VisitCorrection
from farmers.transition import engine
from registry.choices import Role
from registry.models import ChangeRecord, Program
from tests.farmers.test_appeals import ONCE, household_with
from tests.farmers.test_exclusions import person, session

pytestmark = pytest.mark.django_db

WHY = "El técnico digitó 0.0001 en lugar de 0."


def typo_visit(program: Program) -> Verification:
    household = household_with(program, ONCE)
    assert household.stage == Stage.RELAPSED
    return Verification.objects.get(household=household, coca_ha__gt=0)


@pytest.mark.parametrize(
    ("payload", "status", "attr"),
    [
        ({"field": "coca_ha", "value": "-1", "reason": WHY}, 400, "value"),
        ({"field": "coca_ha", "value": "0.0001", "reason": WHY}, 400, "value"),
        ({"field": "visited_on", "value": "ayer", "reason": WHY}, 400, "value"),
        ({"field": "coca_ha", "value": "0", "reason": ""}, 400, "reason"),
        ({"field": "status", "value": "0", "reason": WHY}, 400, "field"),
    ],
)
def test_bad_corrections_are_field_errors(
    program: Program, payload: dict[str, str], status: int, attr: str
) -> None:
    visit = typo_visit(program)
    client = session(person(program, Role.SUPERVISOR))
    response = client.post(f"/api/v1/verifications/{visit.pk}/corrections/", payload, format="json")
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["attr"] == attr
    assert not VisitCorrection.objects.exists()


def test_a_pending_visit_is_not_corrected(program: Program) -> None:
    visit = typo_visit(program)
    Verification.objects.filter(pk=visit.pk).update(status=VerificationStatus.PENDING)
    client = session(person(program, Role.SUPERVISOR))
    response = client.post(
        f"/api/v1/verifications/{visit.pk}/corrections/",
        {"field": "coca_ha", "value": "0", "reason": WHY},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "visit_not_confirmed"
    assert not VisitCorrection.objects.exists()


def test_a_second_person_approves_and_the_engine_recomputes(program: Program) -> None:
    visit = typo_visit(program)
    maker = session(person(program, Role.SUPERVISOR))
    proposed = maker.post(
        f"/api/v1/verifications/{visit.pk}/corrections/",
        {"field": "coca_ha", "value": "0", "reason": WHY},
        format="json",
    )
    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert (body["old_value"], body["new_value"], body["status"]) == (
        "0.0001",
        "0.0000",
        "proposed",
    )
    url = f"/api/v1/visit-corrections/{body['id']}/transition/"
    # Maker–checker: who proposed it may not approve it; nothing changes.
    own = maker.post(url, {"to": "approved"}, format="json")
    assert own.status_code == 403
    assert own.json()["errors"][0]["code"] == "maker_checker"
    visit.refresh_from_db()
    assert visit.coca_ha == Decimal("0.0001")
    listed = maker.get(f"/api/v1/verifications/{visit.pk}/corrections/").json()
    assert [row["status"] for row in listed["results"]] == ["proposed"]
    checker = session(person(program, Role.PROGRAM_STAFF))
    approved = checker.post(url, {"to": "approved"}, format="json")
    assert approved.status_code == 200, approved.content
    visit.refresh_from_db()
    assert visit.coca_ha == Decimal("0")
    record = ChangeRecord.objects.get(object_id=str(visit.pk), action="update")
    assert record.changes["coca_ha"] == ["0.0001", "0.0000"]
    engine.recompute_households([visit.household_id])
    visit.household.refresh_from_db()
    assert visit.household.stage == Stage.COCA_FREE


def test_a_rejection_needs_a_reason_and_leaves_the_visit(program: Program) -> None:
    visit = typo_visit(program)
    maker = session(person(program, Role.SUPERVISOR))
    correction = maker.post(
        f"/api/v1/verifications/{visit.pk}/corrections/",
        {"field": "visited_on", "value": "2026-03-02", "reason": WHY},
        format="json",
    ).json()
    checker = session(person(program, Role.PROGRAM_STAFF))
    url = f"/api/v1/visit-corrections/{correction['id']}/transition/"
    assert checker.post(url, {"to": "rejected"}, format="json").status_code == 400
    rejected = checker.post(url, {"to": "rejected", "reason": "Sin sustento."}, format="json")
    assert rejected.status_code == 200
    visit.refresh_from_db()
    assert visit.visited_on == date(2026, 3, 1)
    assert VisitCorrection.objects.get().status == CorrectionStatus.REJECTED


def test_the_list_costs_the_same_for_one_and_many(program: Program) -> None:
    client = session(person(program, Role.SUPERVISOR))
    counts = []
    for n in (1, 6):
        while VisitCorrection.objects.count() < n:
            visit = typo_visit(program)
            client.post(
                f"/api/v1/verifications/{visit.pk}/corrections/",
                {"field": "coca_ha", "value": "0", "reason": WHY},
                format="json",
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/visit-corrections/")
        assert len(response.json()["results"]) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
