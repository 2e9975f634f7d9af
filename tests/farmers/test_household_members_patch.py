"""PATCH households/{id}/ with nested members: fix, add, take off, change the head."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from farmers.models import Household, Member
from registry.models import ChangeRecord
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/households/"


@pytest.fixture
def client(client_for: ClientMaker) -> APIClient:
    return client_for()


@pytest.fixture
def household(client: APIClient) -> dict[str, Any]:
    response = client.post(URL, household_payload(), format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _ids(household: dict[str, Any]) -> tuple[str, str]:
    head = next(m["id"] for m in household["members"] if m["is_head"])
    spouse = next(m["id"] for m in household["members"] if not m["is_head"])
    return head, spouse


def patch(client: APIClient, household: dict[str, Any], members: list[dict[str, Any]]) -> Any:
    return client.patch(f"{URL}{household['id']}/", {"members": members}, format="json")


def test_fix_a_name_and_add_a_child(client: APIClient, household: dict[str, Any]) -> None:
    _head, spouse = _ids(household)
    child = {
        "given_names": "Yeni",
        "surnames": "Mamani Quispe",
        "sex": "f",
        "birth_date": "2015-03-02",
        "relationship": "child",
    }
    response = patch(client, household, [{"id": spouse, "given_names": "Pedro Pablo"}, child])
    assert response.status_code == 200, response.content
    body = response.json()
    assert {m["given_names"] for m in body["members"]} == {"Juana", "Pedro Pablo", "Yeni"}
    assert body["version"] == 2
    record = ChangeRecord.objects.filter(object_id=household["id"], action="update").get()
    assert record.changes["members"]["changed"][spouse]["given_names"] == ["Pedro", "Pedro Pablo"]
    assert record.changes["members"]["added"] == ["Yeni Mamani Quispe"]


def test_take_a_member_off_frees_their_id(
    client_for: ClientMaker, household: dict[str, Any]
) -> None:
    client = client_for()
    _head, spouse = _ids(household)
    response = patch(client, household, [{"id": spouse, "is_active": False}])
    assert response.status_code == 200, response.content
    assert len(response.json()["members"]) == 1
    stored = Member.objects.get(pk=spouse)
    assert (stored.is_active, stored.is_live) == (False, False)
    other = household_payload(
        members=[{**household_payload()["members"][1], "relationship": "head"}]
    )
    assert client.post(URL, other, format="json").status_code == 201


def test_change_the_head(client: APIClient, household: dict[str, Any]) -> None:
    head, spouse = _ids(household)
    response = patch(
        client,
        household,
        [{"id": head, "relationship": "spouse"}, {"id": spouse, "relationship": "head"}],
    )
    assert response.status_code == 200, response.content
    assert Household.objects.get(pk=household["id"]).head_name == "Pedro Mamani Ccori"
    assert Member.objects.get(pk=spouse).is_head


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (
            [
                {
                    "relationship": "head",
                    "given_names": "Otra",
                    "surnames": "Jefa",
                    "sex": "f",
                    "birth_date": "1990-01-01",
                    "document_type": "dni",
                    "document_number": "46666666",
                }
            ],
            ("members", "one_head"),
        ),
        (
            [{"id": "00000000-0000-4000-8000-000000000000", "given_names": "X"}],
            ("members.0.id", "does_not_exist"),
        ),
        ([{"given_names": "Solo nombre"}], ("members.0.sex", "invalid_choice")),
    ],
)
def test_bad_member_changes_are_field_errors_and_change_nothing(
    client: APIClient, household: dict[str, Any], members: list[dict[str, Any]], expected: Any
) -> None:
    response = patch(client, household, members)
    assert response.status_code == 400, response.content
    assert expected in {(e["attr"], e["code"]) for e in response.json()["errors"]}
    assert Member.objects.filter(household_id=household["id"], is_active=True).count() == 2
    assert Household.objects.get(pk=household["id"]).version == 1


def test_taking_the_head_off_leaves_no_head(client: APIClient, household: dict[str, Any]) -> None:
    head, _spouse = _ids(household)
    response = patch(client, household, [{"id": head, "is_active": False}])
    assert response.status_code == 400
    assert ("members", "one_head") in {(e["attr"], e["code"]) for e in response.json()["errors"]}
    assert Member.objects.get(pk=head).is_active


def test_new_member_with_an_id_taken_elsewhere_is_409(
    client: APIClient, household: dict[str, Any]
) -> None:
    other = client.post(
        URL,
        household_payload(
            members=[{**household_payload()["members"][0], "document_number": "47777777"}]
        ),
        format="json",
    )
    assert other.status_code == 201, other.content
    newcomer = {
        "given_names": "Rosa",
        "surnames": "Quispe",
        "sex": "f",
        "birth_date": "2000-01-01",
        "relationship": "other",
        "document_type": "dni",
        "document_number": "47777777",
    }
    response = patch(client, household, [newcomer])
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "duplicate"
