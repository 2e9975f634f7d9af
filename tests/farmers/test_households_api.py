"""Households through the API: registration, validation, idempotency, dedup, scope, review."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.models import Household, Member, PossibleDuplicate
from registry.choices import Scope
from registry.models import ChangeRecord
from tests.farmers.conftest import WRITE, ClientMaker, household_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def register(client: Any, **overrides: Any) -> Any:
    return client.post(URL, household_payload(**overrides), format="json")


def test_register_household_with_members_and_consent(client_for: ClientMaker) -> None:
    client = client_for([*WRITE, Scope.COCA_READ])  # the stage is coca data (issue 15)
    response = register(client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"].startswith("HH-")
    assert (body["status"], body["stage"], body["district"], body["program"]) == (
        "pending_review",
        "enrolled",
        "080910",
        "pirdais",
    )
    head = next(m for m in body["members"] if m["is_head"])
    assert head["phone"] == "+51987654321"
    assert head["document_number"] == "10117410"
    assert len(body["members"]) == 2
    assert response["ETag"] == client.get(f"{URL}{body['id']}/")["ETag"]
    household = Household.objects.get(pk=body["id"])
    assert household.consents.get().purposes == ["partner_sharing", "registry"]
    assert ChangeRecord.objects.filter(object_id=str(household.pk), action="create").exists()


def test_create_is_idempotent_on_client_id(client_for: ClientMaker) -> None:
    client = client_for()
    hid = str(uuid.uuid4())
    first = register(client, id=hid)
    again = register(client, id=hid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == hid == first.json()["id"]
    assert Household.objects.count() == 1
    other = register(client, id=hid, community="Otra")
    assert other.status_code == 409
    assert errors(other) == {("id", "idempotency_conflict")}


def _member(index: int, **changes: Any) -> list[dict[str, Any]]:
    members = copy.deepcopy(household_payload()["members"])
    members[index].update(changes)
    return members


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"members": _member(0, document_number="101174103")},
            ("members.0.document_number", "invalid_checksum"),
        ),
        (
            {"members": _member(0, document_number="1011741")},
            ("members.0.document_number", "invalid_length"),
        ),
        (
            {"members": _member(1, document_type="ce", document_number="AB-12")},
            ("members.1.document_number", "invalid_length"),
        ),
        ({"members": _member(0, phone="12345")}, ("members.0.phone", "invalid_phone")),
        ({"members": _member(1, birth_date="2999-01-01")}, ("members.1.birth_date", "future_date")),
        ({"members": _member(1, birth_date="1990-02-30")}, ("members.1.birth_date", "invalid")),
        ({"members": _member(1, relationship="head")}, ("members", "one_head")),
        (
            {"members": _member(1, document_number="10117410")},
            ("members.1.document_number", "duplicate_in_request"),
        ),
        ({"members": _member(0, sex="x")}, ("members.0.sex", "invalid_choice")),
        ({"members": []}, ("members", "min_length")),
        ({"district": "999999"}, ("district", "does_not_exist")),
        ({"district": "08091"}, ("district", "invalid")),
        ({"program": "nada"}, ("program", "does_not_exist")),
        (
            {"consent": {"signed_on": "2026-11-02", "purposes": ["partner_sharing"]}},
            ("consent.purposes", "registry_required"),
        ),
    ],
)
def test_validation_errors_are_field_level(
    client_for: ClientMaker, overrides: dict[str, Any], expected: tuple[str, str]
) -> None:
    response = register(client_for(), **overrides)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert expected in errors(response)
    assert not Household.objects.exists()
    assert not Member.objects.exists()


def test_dni_with_check_character_is_accepted_and_normalised(client_for: ClientMaker) -> None:
    response = register(client_for(), members=_member(0, document_number="10117410-2"))
    assert response.status_code == 201, response.content
    assert Member.objects.get(is_head=True).document_number == "10117410"


def test_registering_outside_the_area_is_refused(client_for: ClientMaker) -> None:
    response = register(client_for(), district="050407")
    assert response.status_code == 400
    assert errors(response) == {("district", "out_of_area")}


def test_same_id_in_another_live_household_is_409(
    client_for: ClientMaker, other_partner: Any
) -> None:
    client = client_for()
    first = register(client).json()
    clash = register(
        client,
        members=_member(1, document_number="77777777")
        and [{**household_payload()["members"][0], "given_names": "Juana Rosa"}],
    )
    assert clash.status_code == 409
    body = clash.json()["errors"][0]
    assert body["code"] == "duplicate"
    assert body["household_code"] == first["code"]
    # A partner who cannot see the first household is told there is a duplicate, not where.
    elsewhere = client_for(org=other_partner)
    hidden = register(elsewhere, district="050407")
    assert hidden.status_code == 409
    assert "household_code" not in hidden.json()["errors"][0]
    assert first["code"] not in hidden.json()["errors"][0]["detail"]


def test_rejected_households_free_their_ids(client_for: ClientMaker) -> None:
    maker = client_for()
    reviewer = client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW], reviewer=True)
    first = register(maker).json()
    rejected = reviewer.post(
        f"{URL}{first['id']}/transition/", {"to": "rejected", "reason": "Datos falsos"}
    )
    assert rejected.status_code == 200, rejected.content
    assert register(maker).status_code == 201


def test_near_match_is_listed_and_queued(client_for: ClientMaker) -> None:
    client = client_for()
    first = register(client).json()
    near = [
        {
            "given_names": "JUANA",
            "surnames": "Huaman Quispe",
            "document_type": "dni",
            "document_number": "45678912",
            "sex": "f",
            "birth_date": "1980-05-01",
            "relationship": "head",
        }
    ]
    second = register(client, members=near)
    assert second.status_code == 201, second.content
    listed = second.json()["possible_duplicates"]
    assert [d["code"] for d in listed] == [first["code"]]
    assert "similar_name" in listed[0]["reasons"]
    assert PossibleDuplicate.objects.filter(status="open").count() == 1


def test_unrelated_family_is_not_a_near_match(client_for: ClientMaker) -> None:
    client = client_for()
    register(client)
    other = [
        {
            "given_names": "Wilber",
            "surnames": "Condori Apaza",
            "document_type": "dni",
            "document_number": "45678912",
            "sex": "m",
            "birth_date": "1991-03-14",
            "relationship": "head",
        }
    ]
    response = register(client, members=other)
    assert response.json()["possible_duplicates"] == []


def test_other_partners_households_are_404_and_never_listed(
    client_for: ClientMaker, other_partner: Any
) -> None:
    mine = register(client_for()).json()
    outsider = client_for(org=other_partner)
    assert outsider.get(f"{URL}{mine['id']}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    assert outsider.patch(f"{URL}{mine['id']}/", {"community": "X"}).status_code == 404
    assert client_for().get(f"{URL}{mine['id']}/").status_code == 200


def test_read_only_key_cannot_register(client_for: ClientMaker) -> None:
    response = register(client_for(scopes=[Scope.HOUSEHOLDS_READ]))
    assert response.status_code == 403
    assert errors(response) == {(None, "missing_scope")}


def test_review_maker_checker_and_transitions(client_for: ClientMaker) -> None:
    maker = client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW])
    household = register(maker).json()
    url = f"{URL}{household['id']}/transition/"
    own = maker.post(url, {"to": "active"})
    assert own.status_code == 403
    assert errors(own) == {(None, "maker_checker")}
    # A second automation key of the same organization is not a second person (issue 13).
    twin = client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW]).post(url, {"to": "active"})
    assert twin.status_code == 403
    assert errors(twin) == {(None, "maker_checker")}
    no_scope = client_for().post(url, {"to": "active"})
    assert no_scope.status_code == 403
    reviewer = client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW], reviewer=True)
    assert reviewer.post(url, {"to": "rejected"}).status_code == 400  # needs a reason
    approved = reviewer.post(url, {"to": "active"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "active"
    again = reviewer.post(url, {"to": "rejected", "reason": "x"})
    assert again.status_code == 409
    error = again.json()["errors"][0]
    assert (error["code"], error["allowed"]) == ("invalid_transition", ["inactive"])
    assert Household.objects.get(pk=household["id"]).status == "active"


def test_status_and_stage_are_not_writable(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client).json()
    response = client.patch(f"{URL}{household['id']}/", {"status": "active", "stage": "graduated"})
    assert response.status_code == 200
    stored = Household.objects.get(pk=household["id"])
    assert (stored.status, stored.stage) == ("pending_review", "enrolled")


def test_patch_with_stale_if_match_is_412(client_for: ClientMaker) -> None:
    client = client_for()
    registered = register(client)
    household = registered.json()
    url = f"{URL}{household['id']}/"
    etag = registered["ETag"]
    assert client.get(url)["ETag"] == etag
    ok = client.patch(url, {"community": "Puerto Ene"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url, {"community": "Otra"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Household.objects.get(pk=household["id"]).community == "Puerto Ene"
    history = ChangeRecord.objects.filter(object_id=household["id"], action="update").get()
    assert history.changes["community"] == ["Natividad", "Puerto Ene"]


def test_filters_and_search(client_for: ClientMaker) -> None:
    client = client_for([*WRITE, Scope.COCA_READ])  # filtering by stage needs coca:read
    a = register(client).json()
    b = register(
        client,
        district="080907",
        members=[
            {
                **household_payload()["members"][1],
                "relationship": "head",
                "document_number": "43345678",
            }
        ],
    ).json()
    assert [h["id"] for h in client.get(f"{URL}?district=080907").json()["results"]] == [b["id"]]
    assert [h["id"] for h in client.get(f"{URL}?q=quispe").json()["results"]] == [a["id"]]
    assert [h["id"] for h in client.get(f"{URL}?q=43345678").json()["results"]] == [b["id"]]
    assert [h["id"] for h in client.get(f"{URL}?q={a['code']}").json()["results"]] == [a["id"]]
    assert client.get(f"{URL}?stage=enrolled&status=pending_review").json()["results"]
    bad = client.get(f"{URL}?stage=rich&district=1")
    assert bad.status_code == 400
    assert {attr for attr, _code in errors(bad)} == {"stage", "district"}


def test_list_query_budget_is_flat(client_for: ClientMaker) -> None:
    client = client_for()
    register(client)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{URL}?page_size=100").json()["results"]) == 1
    for n in range(15):
        members = [
            {
                **household_payload()["members"][0],
                "given_names": f"Nombre{n}",
                "document_number": f"{20000000 + n}",
                "phone": "",
            }
        ]
        assert register(client, members=members).status_code == 201
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{URL}?page_size=100&district=080910").json()["results"]) == 16
    # The page, its members and the one INSERT logging the partner's read of personal data; the
    # key, its organization and area come from the cache (issue 19).
    assert len(one.captured_queries) == len(many.captured_queries) == 3
