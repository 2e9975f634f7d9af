"""Exclusion is proposed, not automatic (issue 15, build 7): the engine keeps a household that
relapsed the programme's limit ``relapsed`` and opens an exclusion proposal; it becomes
``excluded`` only when programme staff of the programme's agency confirm it. Through the API
(list, retrieve, transition; coca data) and the admin queue; refused moves change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from rest_framework.test import APIClient

from farmers.choices import ExclusionStatus, Stage
from farmers.models import ExclusionProposal, Household, StageChange
from farmers.pages.stage import reason_label
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Reason, Visit
from registry.choices import AlertKind, Role, Scope
from registry.models import Alert, ChangeRecord, Program
from registry.services import membership_assign, role_groups_sync
from tests.factories import UserFactory
from tests.farmers.conftest import ClientMaker
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

URL = "/api/v1/exclusion-proposals/"
TWICE = HouseholdEvidence(
    household_id=None,
    registered_on=date(2023, 1, 10),
    agreements=[date(2024, 1, 1), date(2024, 9, 1)],
    visits=[
        Visit(date(2024, 3, 1), Decimal("0")),
        Visit(date(2024, 8, 1), Decimal("0.3")),
        Visit(date(2025, 1, 1), Decimal("0")),
        Visit(date(2025, 6, 1), Decimal("1")),
    ],
)


def relapsed_twice(program: Program) -> Household:
    household = make_household(program, TWICE)
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    return household


def person(program: Program, role: str, *, admin: bool = False) -> Any:
    user = UserFactory.create(is_staff=admin)
    membership_assign(user=user, organization=program.agency, role=role)
    return user


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_engine_proposes_and_keeps_the_household_relapsed(program: Program) -> None:
    household = relapsed_twice(program)
    assert household.stage == Stage.RELAPSED
    proposal = ExclusionProposal.objects.get()
    assert (proposal.household_id, proposal.relapse_on, proposal.status) == (
        household.pk,
        date(2025, 6, 1),
        ExclusionStatus.PROPOSED,
    )
    assert proposal.evidence["coca"]["relapses"] == 2
    alert = Alert.objects.get(kind=AlertKind.RELAPSE, household_id=household.pk)
    assert alert.details["reason"] == Reason.EXCLUSION_PROPOSED
    # A rerun opens nothing twice and moves nothing.
    assert engine.recompute_households([household.pk]) == 0
    assert ExclusionProposal.objects.count() == 1
    assert not StageChange.objects.filter(to_stage=Stage.EXCLUDED).exists()


def test_staff_confirm_and_the_household_is_excluded(program: Program) -> None:
    household = relapsed_twice(program)
    proposal = ExclusionProposal.objects.get()
    staff = person(program, Role.PROGRAM_STAFF)
    client = session(staff)
    listed = client.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [str(proposal.pk)]
    assert listed[0]["evidence"]["coca"]["relapses"] == 2
    response = client.post(f"{URL}{proposal.pk}/transition/", {"to": "confirmed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    assert response.json()["decided_by"] == staff.pk
    assert ChangeRecord.objects.filter(object_id=str(proposal.pk), action="transition").exists()
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.EXCLUDED
    change = StageChange.objects.get(household=household, to_stage=Stage.EXCLUDED)
    assert (change.from_stage, change.reason) == (Stage.RELAPSED, Reason.EXCLUDED)
    assert change.effective_on >= date(2025, 6, 1)


def test_staff_dismiss_with_a_note_and_the_household_stays_relapsed(program: Program) -> None:
    household = relapsed_twice(program)
    proposal = ExclusionProposal.objects.get()
    client = session(person(program, Role.PROGRAM_STAFF))
    url = f"{URL}{proposal.pk}/transition/"
    missing = client.post(url, {"to": "dismissed"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "note"
    proposal.refresh_from_db()
    assert (proposal.status, proposal.version) == (ExclusionStatus.PROPOSED, 1)
    note = "La coca era de la parcela vecina (error de linderos)."
    response = client.post(url, {"to": "dismissed", "note": note}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["decision_note"] == note
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.RELAPSED
    assert ExclusionProposal.objects.count() == 1
    again = client.post(url, {"to": "confirmed"}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_transition"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("supervisor", 403, "not_programme_staff"),
        ("coca_key", 403, "not_programme_staff"),
        ("households_key", 403, "missing_scope"),
    ],
)
def test_only_programme_staff_decide(
    program: Program, client_for: ClientMaker, who: str, status: int, code: str
) -> None:
    relapsed_twice(program)
    proposal = ExclusionProposal.objects.get()
    client = {
        "supervisor": lambda: session(person(program, Role.SUPERVISOR)),
        "coca_key": lambda: client_for([Scope.HOUSEHOLDS_READ, Scope.COCA_READ]),
        "households_key": lambda: client_for([Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_REVIEW]),
    }[who]()
    response = client.post(f"{URL}{proposal.pk}/transition/", {"to": "confirmed"}, format="json")
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["code"] == code
    proposal.refresh_from_db()
    assert (proposal.status, proposal.version, proposal.decided_at) == (
        ExclusionStatus.PROPOSED,
        1,
        None,
    )


def test_the_list_costs_the_same_for_one_and_many(program: Program) -> None:
    client = session(person(program, Role.PROGRAM_STAFF))
    counts = []
    for n in (1, 12):
        while ExclusionProposal.objects.count() < n:
            relapsed_twice(program)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.json()["results"]) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_admin_queue_confirms_and_dismisses(program: Program) -> None:
    role_groups_sync()
    first, second = relapsed_twice(program), relapsed_twice(program)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person(program, Role.PROGRAM_STAFF, admin=True))
    url = reverse("admin:farmers_exclusionproposal_changelist")
    assert client.get(url).status_code == 200
    by_household = {p.household_id: p for p in ExclusionProposal.objects.all()}
    client.post(url, {"action": "confirm", "_selected_action": [str(by_household[first.pk].pk)]})
    # A dismissal without a note is refused (the message says why); with one it is recorded.
    client.post(url, {"action": "dismiss", "_selected_action": [str(by_household[second.pk].pk)]})
    assert ExclusionProposal.objects.get(household=second).status == ExclusionStatus.PROPOSED
    client.post(
        url,
        {
            "action": "dismiss",
            "note": "Recaída no comprobada en campo.",
            "_selected_action": [str(by_household[second.pk].pk)],
        },
    )
    statuses = {p.household_id: p.status for p in ExclusionProposal.objects.all()}
    assert statuses == {first.pk: ExclusionStatus.CONFIRMED, second.pk: ExclusionStatus.DISMISSED}
    detail = client.get(
        reverse("admin:farmers_exclusionproposal_change", args=[by_household[first.pk].pk])
    )
    assert b"relapses" in detail.content


@pytest.mark.parametrize(
    ("role", "coca_shown"), [(Role.PROGRAM_STAFF, True), (Role.FIELD_OFFICER, False)]
)
def test_the_household_page_shows_each_stage_with_its_reason_and_evidence(
    program: Program, role: str, coca_shown: bool
) -> None:
    """Every stage a person sees has its reason and evidence (coca figures for coca:read)."""
    role_groups_sync()
    household = relapsed_twice(program)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person(program, role, admin=True))
    page = client.get(reverse("admin:farmers_household_change", args=[household.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    # The reason and the evidence in words (the page is in Spanish), never the engine's codes.
    with translation.override("es"):
        assert escape(reason_label(Reason.RELAPSE)) in text
        assert escape(f"{translation.gettext('Last confirmed visit')}: 01/06/2025") in text
        coca_line = escape(translation.gettext("Coca on the last visit (ha)"))
    assert "last_visit_on" not in text
    assert (coca_line in text) is coca_shown
