"""Finding households by a member's ID document without putting it in a URL (issue 13: no
personal data in query strings; existence not revealed outside the caller's area)."""

from __future__ import annotations

import pytest

from registry.choices import Scope
from registry.models import Organization
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/households/lookup/"


def test_lookup_by_document_in_the_body(client_for: ClientMaker) -> None:
    writer = client_for()
    created = writer.post("/api/v1/households/", household_payload(), format="json").json()
    reader = client_for([Scope.HOUSEHOLDS_READ])
    # The check character printed on the card is accepted and dropped, as at registration.
    for number in ("10117410", "10117410-2"):
        found = reader.post(
            LOOKUP, {"document_type": "dni", "document_number": number}, format="json"
        )
        assert found.status_code == 200, found.content
        assert [h["id"] for h in found.json()["results"]] == [created["id"]]
    none = reader.post(LOOKUP, {"document_type": "dni", "document_number": "33333333"})
    assert none.status_code == 200 and none.json() == {"results": []}
    # The URL of the request carries nothing: a GET is not the way to ask.
    assert reader.get(LOOKUP, {"document_number": "10117410"}).status_code == 405


def test_lookup_outside_the_area_answers_like_an_unknown_id(
    client_for: ClientMaker, other_partner: Organization
) -> None:
    client_for().post("/api/v1/households/", household_payload(), format="json")
    elsewhere = client_for([Scope.HOUSEHOLDS_READ], org=other_partner)
    known = elsewhere.post(LOOKUP, {"document_type": "dni", "document_number": "10117410"})
    unknown = elsewhere.post(LOOKUP, {"document_type": "dni", "document_number": "33333333"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content == b'{"results":[]}'


def test_lookup_needs_households_read_and_a_valid_document(client_for: ClientMaker) -> None:
    funder = client_for([Scope.REFERENCE_READ])
    denied = funder.post(LOOKUP, {"document_type": "dni", "document_number": "10117410"})
    assert denied.status_code == 403
    reader = client_for([Scope.HOUSEHOLDS_READ])
    bad = reader.post(LOOKUP, {"document_type": "dni", "document_number": "1234"})
    assert bad.status_code == 400
    body = bad.json()
    assert body["type"] == "validation_error"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("document_number", "invalid_length")
    ]
    missing = reader.post(LOOKUP, {}, format="json")
    assert {e["attr"] for e in missing.json()["errors"]} == {"document_type", "document_number"}
