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


def test_lookup_query_count_does_not_grow_with_members(client_for: ClientMaker) -> None:
    """The same number of queries for a family of one as for a family of four (prefetched)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    writer = client_for()
    alone = household_payload()
    alone["members"] = alone["members"][:1]
    assert writer.post("/api/v1/households/", alone, format="json").status_code == 201
    larger = household_payload(community="Palmapampa")
    larger["members"][0] = dict(larger["members"][0], document_number="20654321")
    larger["members"][1] = dict(larger["members"][1], document_number="43456789")
    larger["members"] += [
        dict(
            larger["members"][1],
            given_names=name,
            document_number=dni,
            relationship="child",
            birth_date="2008-03-03",
        )
        for name, dni in (("Rosa", "71234567"), ("Luis", "72345678"))
    ]
    assert writer.post("/api/v1/households/", larger, format="json").status_code == 201
    reader = client_for([Scope.HOUSEHOLDS_READ])
    reader.post(LOOKUP, {"document_type": "dni", "document_number": "33333333"})  # key last used
    counts = []
    for dni, members in (("10117410", 1), ("20654321", 4)):
        with CaptureQueriesContext(connection) as queries:
            found = reader.post(LOOKUP, {"document_type": "dni", "document_number": dni})
        assert found.status_code == 200
        [household] = found.json()["results"]
        assert len(household["members"]) == members
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
