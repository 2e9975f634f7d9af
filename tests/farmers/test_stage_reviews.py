"""``stage-reviews/`` (the partner contract's one resource over exclusion proposals and
appeals): one list of both kinds with filters and the existing scoping, each kind by its id with
its ETag, an appeal filed with the contract's body, ``kind=exclusion`` refused, both kinds
decided through ``{id}/transition/``, and a list whose cost does not grow with its length."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers import services
from farmers.api.stage_reviews import StageReviewViewSet
from farmers.choices import AppealStatus, ExclusionStatus, Stage
from farmers.models import Appeal, ExclusionProposal, Household
from farmers.transition import engine
from registry.actors import Actor
from registry.choices import Role, Scope
from registry.models import Organization, Program
from tests.factories import UserFactory
from tests.farmers.conftest import WRITE, ClientMaker
from tests.farmers.test_appeals import GROUNDS, ONCE, household_with
from tests.farmers.test_exclusions import person, relapsed_twice, session
from tests.farmers.test_lean_list import _unsigned, serializer_path
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

URL = "/api/v1/stage-reviews/"
SYSTEM = Actor(unrestricted=True)


def both(program: Program) -> tuple[ExclusionProposal, Appeal]:
    """An exclusion the engine proposed (one household) and a relapse appeal (another)."""
    relapsed_twice(program)
    household = household_with(program, ONCE)
    appeal = services.appeal_file(
        actor=SYSTEM, household=household.pk, kind="relapse", grounds=GROUNDS
    )
    return ExclusionProposal.objects.get(), appeal


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_mixes_both_kinds_newest_first_with_filters(program: Program) -> None:
    proposal, appeal = both(program)
    client = session(person(program, Role.PROGRAM_STAFF))
    rows = client.get(URL).json()["results"]
    assert [(row["id"], row["kind"]) for row in rows] == [
        (str(appeal.pk), "appeal"),
        (str(proposal.pk), "exclusion"),
    ]
    filed, proposed = rows
    assert (filed["status"], filed["reason"], filed["appealed"]) == ("filed", GROUNDS, "relapse")
    assert filed["household"] == str(appeal.household_id)
    assert filed["evidence"] is None
    assert (proposed["status"], proposed["reason"]) == ("proposed", "excluded_after_relapses")
    assert proposed["evidence"]["coca"]["relapses"] == 2
    assert proposed["appealed"] is None
    for row in rows:
        assert {"decided_by", "decided_at", "decision_note", "created_at", "version"} <= set(row)
    assert ids(client.get(URL, {"kind": "exclusion"})) == [str(proposal.pk)]
    assert ids(client.get(URL, {"kind": "appeal"})) == [str(appeal.pk)]
    assert ids(client.get(URL, {"status": "proposed"})) == [str(proposal.pk)]
    assert ids(client.get(URL, {"status": "filed"})) == [str(appeal.pk)]
    assert ids(client.get(URL, {"status": "upheld"})) == []
    assert ids(client.get(URL, {"household": str(proposal.household_id)})) == [str(proposal.pk)]
    bad = client.get(URL, {"kind": "correction"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "kind"


def test_pages_merge_both_kinds_without_skipping_or_repeating(program: Program) -> None:
    both(program)
    for _ in range(2):
        relapsed_twice(program)
    for _ in range(2):
        household = household_with(program, ONCE)
        services.appeal_file(actor=SYSTEM, household=household.pk, kind="relapse", grounds="g")
    client = session(person(program, Role.PROGRAM_STAFF))
    everything = ids(client.get(URL))
    assert len(everything) == ExclusionProposal.objects.count() + Appeal.objects.count()
    seen: list[str] = []
    url: str | None = f"{URL}?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == everything
    # And back again from the last page.
    back = client.get(f"{URL}?page_size=2").json()
    while back["next"]:
        back = client.get(back["next"]).json()
    previous = client.get(back["previous"]).json()
    assert [row["id"] for row in previous["results"]] == everything[-4:-2]


def test_scoping_is_that_of_the_existing_lists(
    program: Program, client_for: ClientMaker, other_partner: Organization
) -> None:
    proposal, appeal = both(program)
    no_coca = client_for(WRITE).get(URL)
    assert no_coca.status_code == 403
    assert no_coca.json()["errors"][0]["code"] == "missing_scope"
    coca = [Scope.HOUSEHOLDS_READ, Scope.COCA_READ]
    assert set(ids(client_for(coca).get(URL))) == {str(proposal.pk), str(appeal.pk)}
    elsewhere = client_for(coca, org=other_partner)
    assert ids(elsewhere.get(URL)) == []
    assert elsewhere.get(f"{URL}{appeal.pk}/").status_code == 404
    assert elsewhere.get(f"{URL}{proposal.pk}/").status_code == 404


def test_each_kind_is_read_by_its_id_with_an_etag(program: Program) -> None:
    proposal, appeal = both(program)
    client = session(person(program, Role.PROGRAM_STAFF))
    for record, kind in ((proposal, "exclusion"), (appeal, "appeal")):
        response = client.get(f"{URL}{record.pk}/")
        assert response.status_code == 200, response.content
        assert (response.json()["id"], response.json()["kind"]) == (str(record.pk), kind)
        etag = response.headers["ETag"]
        assert etag.startswith('"1-')
        assert client.get(f"{URL}{record.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(f"{URL}{program.pk}/").status_code == 404
    assert client.get(f"{URL}not-a-uuid/").status_code == 404


def test_an_appeal_is_filed_with_the_contract_body(
    program: Program, client_for: ClientMaker
) -> None:
    household = household_with(program, ONCE)
    assert household.stage == Stage.RELAPSED
    body = {"household": str(household.pk), "kind": "appeal", "reason": GROUNDS}
    filed = client_for(WRITE).post(URL, body, format="json")
    assert filed.status_code == 201, filed.content
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.grounds, appeal.status) == ("relapse", GROUNDS, "filed")
    assert filed.json()["id"] == str(appeal.pk)
    assert (filed.json()["kind"], filed.json()["appealed"]) == ("appeal", "relapse")
    again = client_for(WRITE).post(URL, body, format="json")
    assert again.status_code == 409
    error = again.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("appeal_pending", "appealed")
    assert Appeal.objects.count() == 1


def test_an_excluded_household_appeals_its_exclusion_by_default(program: Program) -> None:
    household = relapsed_twice(program)
    staff_user = person(program, Role.PROGRAM_STAFF)
    services.exclusion_transition(
        actor=Actor.for_user(staff_user),
        proposal=ExclusionProposal.objects.get(),
        to=ExclusionStatus.CONFIRMED,
    )
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.EXCLUDED
    client = session(staff_user)
    body = {"household": str(household.pk), "kind": "appeal", "reason": GROUNDS}
    filed = client.post(URL, {**body, "evidence_note": "Acta"}, format="json")
    assert filed.status_code == 201, filed.content
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.proposal_id, appeal.evidence_note) == (
        "exclusion",
        ExclusionProposal.objects.get().pk,
        "Acta",
    )


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"kind": "exclusion"}, "kind", "invalid_choice"),
        ({"kind": "relapse"}, "kind", "invalid_choice"),
        ({"kind": "appeal", "appealed": "stage"}, "appealed", "invalid_choice"),
        ({"kind": "appeal", "reason": ""}, "reason", "blank"),
    ],
)
def test_only_appeals_are_filed_here(
    program: Program, client_for: ClientMaker, body: dict[str, str], attr: str, code: str
) -> None:
    household = household_with(program, ONCE)
    sent = {"household": str(household.pk), "reason": GROUNDS, **body}
    response = client_for(WRITE).post(URL, sent, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == (attr, code)
    assert not Appeal.objects.exists()


def test_nothing_to_appeal_is_a_409_on_appealed(program: Program, client_for: ClientMaker) -> None:
    fresh: Household = make_household(program)
    body = {"household": str(fresh.pk), "kind": "appeal", "reason": GROUNDS}
    response = client_for(WRITE).post(URL, body, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("nothing_to_appeal", "appealed")
    assert not Appeal.objects.exists()


def test_each_kind_is_decided_through_transition(program: Program, client_for: ClientMaker) -> None:
    proposal, appeal = both(program)
    staff_user = person(program, Role.PROGRAM_STAFF)
    staff = session(staff_user)
    # The other kind's states are not this kind's: 400 invalid_choice, nothing written.
    for record, wrong in ((proposal, "upheld"), (appeal, "confirmed")):
        url = f"{URL}{record.pk}/transition/"
        refused = staff.post(url, {"to": wrong, "note": "x"}, format="json")
        assert refused.status_code == 400, refused.content
        error = refused.json()["errors"][0]
        assert (error["attr"], error["code"]) == ("to", "invalid_choice")
    # Someone who is not programme staff: 403, as on the existing endpoints.
    key = client_for([Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    denied = key.post(f"{URL}{appeal.pk}/transition/", {"to": "upheld", "note": "Sí."})
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "not_programme_staff"
    # A stale If-Match: 412.
    stale = staff.post(
        f"{URL}{proposal.pk}/transition/",
        {"to": "confirmed"},
        format="json",
        HTTP_IF_MATCH='"9-0"',
    )
    assert stale.status_code == 412
    proposal.refresh_from_db()
    appeal.refresh_from_db()
    assert (proposal.status, proposal.version) == (ExclusionStatus.PROPOSED, 1)
    assert (appeal.status, appeal.version) == (AppealStatus.FILED, 1)
    etag = staff.get(f"{URL}{proposal.pk}/").headers["ETag"]
    confirmed = staff.post(
        f"{URL}{proposal.pk}/transition/", {"to": "confirmed"}, format="json", HTTP_IF_MATCH=etag
    )
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert (body["kind"], body["status"], body["decided_by"]) == (
        "exclusion",
        "confirmed",
        staff_user.pk,
    )
    assert confirmed.headers["ETag"] == staff.get(f"{URL}{proposal.pk}/").headers["ETag"]
    no_note = staff.post(f"{URL}{appeal.pk}/transition/", {"to": "rejected"}, format="json")
    assert no_note.status_code == 400
    assert no_note.json()["errors"][0]["attr"] == "note"
    rejected = staff.post(
        f"{URL}{appeal.pk}/transition/", {"to": "rejected", "note": "Sin pruebas."}, format="json"
    )
    assert rejected.status_code == 200, rejected.content
    assert (rejected.json()["kind"], rejected.json()["status"]) == ("appeal", "rejected")
    assert rejected.json()["decision_note"] == "Sin pruebas."


def test_the_list_costs_the_same_for_one_and_thirty(program: Program) -> None:
    client = session(person(program, Role.PROGRAM_STAFF))
    counts = []
    for n in (1, 30):
        while ExclusionProposal.objects.count() + Appeal.objects.count() < n:
            if Appeal.objects.count() < ExclusionProposal.objects.count():
                household = household_with(program, ONCE)
                services.appeal_file(
                    actor=SYSTEM, household=household.pk, kind="relapse", grounds="g"
                )
            else:
                relapsed_twice(program)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": 30})
        assert len(response.json()["results"]) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_lean_list_is_byte_identical_to_the_serializer(
    program: Program, client_for: ClientMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both kinds' rows rendered by the plan (``StageReviewSerializer.lean_record`` on rows)
    give the serializer's bytes, page after page, for programme staff, a partner's key with
    coca:read and a superuser, whatever the filters."""
    both(program)
    relapsed_twice(program)
    household = household_with(program, ONCE)
    services.appeal_file(actor=SYSTEM, household=household.pk, kind="relapse", grounds="g")
    superuser = APIClient()
    superuser.force_login(UserFactory.create(username="raiz", is_superuser=True))
    callers = [
        session(person(program, Role.PROGRAM_STAFF)),
        client_for([Scope.HOUSEHOLDS_READ, Scope.COCA_READ]),
        superuser,
    ]
    view = StageReviewViewSet()
    view.action = "list"
    assert view.lean_plan() is not None
    for client in callers:
        for query in ("page_size=2", "kind=appeal", "status=proposed"):
            url: str | None = f"{URL}?{query}"
            rows = 0
            while url is not None:
                lean = client.get(url)
                with monkeypatch.context() as patch:
                    patch.setattr(StageReviewViewSet, "lean_plan", serializer_path)
                    classic = client.get(url)
                assert lean.status_code == classic.status_code == 200, lean.content
                assert _unsigned(lean.content) == _unsigned(classic.content)
                rows += len(lean.json()["results"])
                url = lean.json()["next"]
            assert rows > 0, query
