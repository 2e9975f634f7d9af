"""Appeals (issue 15, build 7): the family appeals its relapse or an exclusion; programme staff
of the programme's agency uphold or reject it with a note. An upheld relapse appeal restores
the stage the relapse interrupted; an upheld exclusion appeal undoes the exclusion. An appeal
on nothing is a 409 on ``kind``; refused moves change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from farmers import services
from farmers.choices import AppealStatus, ExclusionStatus, Stage
from farmers.models import Appeal, ExclusionProposal, Household
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.actors import Actor
from registry.choices import Role, Scope
from registry.models import Program
from registry.services import role_groups_sync
from tests.farmers.conftest import WRITE, ClientMaker
from tests.farmers.test_exclusions import TWICE, person, relapsed_twice, session
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

URL = "/api/v1/appeals/"
ONCE = HouseholdEvidence(
    household_id=None,
    registered_on=date(2023, 1, 10),
    agreements=[date(2025, 1, 1)],
    visits=[
        Visit(date(2025, 9, 1), Decimal("0")),
        Visit(date(2026, 3, 1), Decimal("0.0001")),
    ],
)
GROUNDS = "La lectura de 0.0001 ha fue un error de digitación del técnico."


def household_with(program: Program, case: HouseholdEvidence) -> Household:
    household = make_household(program, case)
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    return household


@pytest.mark.parametrize(
    ("case", "kind", "code"),
    [
        (None, "relapse", "nothing_to_appeal"),
        (None, "exclusion", "nothing_to_appeal"),
        (ONCE, "exclusion", "nothing_to_appeal"),
    ],
)
def test_an_appeal_on_nothing_is_refused(
    program: Program, client_for: ClientMaker, case: HouseholdEvidence | None, kind: str, code: str
) -> None:
    household = make_household(program, case) if case else make_household(program)
    engine.recompute_households([household.pk])
    response = client_for(WRITE).post(
        URL, {"household": str(household.pk), "kind": kind, "grounds": GROUNDS}, format="json"
    )
    assert response.status_code == 409, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == (code, "kind")
    assert not Appeal.objects.exists()


def test_an_upheld_relapse_appeal_restores_the_stage(
    program: Program, client_for: ClientMaker
) -> None:
    household = household_with(program, ONCE)
    assert household.stage == Stage.RELAPSED
    filed = client_for(WRITE).post(
        URL,
        {
            "household": str(household.pk),
            "kind": "relapse",
            "grounds": GROUNDS,
            "evidence_note": "Foto del formulario",
        },
        format="json",
    )
    assert filed.status_code == 201, filed.content
    appeal = Appeal.objects.get()
    assert (appeal.relapse_on, appeal.status) == (date(2026, 3, 1), AppealStatus.FILED)
    assert appeal.stage_change is not None and appeal.stage_change.to_stage == Stage.RELAPSED
    # A second appeal of the same relapse while this one waits: 409.
    again = client_for(WRITE).post(
        URL, {"household": str(household.pk), "kind": "relapse", "grounds": "x"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "appeal_pending"
    staff = session(person(program, Role.PROGRAM_STAFF))
    listed = staff.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [str(appeal.pk)]
    assert listed[0]["grounds"] == GROUNDS
    url = f"{URL}{appeal.pk}/transition/"
    no_note = staff.post(url, {"to": "upheld"}, format="json")
    assert no_note.status_code == 400
    assert no_note.json()["errors"][0]["attr"] == "note"
    upheld = staff.post(url, {"to": "upheld", "note": "Error de digitación."}, format="json")
    assert upheld.status_code == 200, upheld.content
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.COCA_FREE


def test_an_upheld_exclusion_appeal_undoes_the_exclusion(program: Program) -> None:
    household = relapsed_twice(program)
    staff_user = person(program, Role.PROGRAM_STAFF)
    staff = Actor.for_user(staff_user)
    services.exclusion_transition(
        actor=staff, proposal=ExclusionProposal.objects.get(), to=ExclusionStatus.CONFIRMED
    )
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.EXCLUDED
    appeal = services.appeal_file(
        actor=staff, household=household.pk, kind="exclusion", grounds=GROUNDS
    )
    assert appeal.proposal_id == ExclusionProposal.objects.get().pk
    services.appeal_transition(actor=staff, appeal=appeal, to=AppealStatus.UPHELD, note="Ok.")
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.RELAPSED


@pytest.mark.parametrize(
    ("who", "code"),
    [("supervisor", "not_programme_staff"), ("coca_key", "not_programme_staff")],
)
def test_only_programme_staff_decide_appeals(
    program: Program, client_for: ClientMaker, who: str, code: str
) -> None:
    household = household_with(program, ONCE)
    appeal = services.appeal_file(
        actor=Actor(unrestricted=True), household=household.pk, kind="relapse", grounds=GROUNDS
    )
    client = (
        session(person(program, Role.SUPERVISOR))
        if who == "supervisor"
        else client_for([Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    )
    response = client.post(
        f"{URL}{appeal.pk}/transition/", {"to": "upheld", "note": "Sí."}, format="json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["errors"][0]["code"] == code
    appeal.refresh_from_db()
    assert (appeal.status, appeal.version, appeal.decided_at) == (AppealStatus.FILED, 1, None)


def test_the_list_costs_the_same_for_one_and_many(program: Program) -> None:
    client = session(person(program, Role.PROGRAM_STAFF))
    system = Actor(unrestricted=True)
    counts = []
    for n in (1, 8):
        while Appeal.objects.count() < n:
            household = household_with(program, ONCE)
            services.appeal_file(actor=system, household=household.pk, kind="relapse", grounds="g")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.json()["results"]) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_admin_queue_upholds_and_rejects(program: Program) -> None:
    role_groups_sync()
    system = Actor(unrestricted=True)
    first, second = household_with(program, ONCE), household_with(program, ONCE)
    appeals = {
        h.pk: services.appeal_file(actor=system, household=h.pk, kind="relapse", grounds="g")
        for h in (first, second)
    }
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person(program, Role.PROGRAM_STAFF, admin=True))
    url = reverse("admin:farmers_appeal_changelist")
    assert client.get(url).status_code == 200
    for household, action in ((first, "uphold"), (second, "reject")):
        client.post(
            url,
            {
                "action": action,
                "note": "Revisado.",
                "_selected_action": [str(appeals[household.pk].pk)],
            },
        )
    statuses = {a.household_id: a.status for a in Appeal.objects.all()}
    assert statuses == {first.pk: AppealStatus.UPHELD, second.pk: AppealStatus.REJECTED}
    assert TWICE.visits  # shared fixture data stays importable
