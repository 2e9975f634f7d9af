"""Bad input never answers 500: oversized bodies are a 413, deeply nested JSON a 400, dates out of
any sane range and a period that ends before it starts are field errors; a client id taken by a
record the caller cannot see gives the same answer as the caller's own id reused."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.conf import settings

from farmers.models import Household
from registry.api.fields import date_bounds
from registry.api.parsers import MAX_JSON_DEPTH
from registry.choices import Scope
from registry.models import Organization, Program
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/households/"


def _errors(response: Any) -> list[tuple[str | None, str]]:
    body = response.json()
    assert set(body) == {"type", "errors"}
    return [(error["attr"], error["code"]) for error in body["errors"]]


def test_a_body_over_the_upload_limit_is_413(client_for: ClientMaker, program: Program) -> None:
    payload = household_payload(community="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    response = client_for().post(URL, payload, format="json")
    assert response.status_code == 413, response.content
    assert response.json()["type"] == "client_error"
    assert _errors(response) == [(None, "request_too_large")]
    assert not Household.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 990 + "]" * 990,
        '{"a":' * 990 + "1" + "}" * 990,
        '{"a":' * 5000 + "1" + "}" * 5000,
        json.dumps(
            household_payload(
                community=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
            )
        ),
    ],
    ids=["arrays-990", "objects-990", "objects-5000", "a-field-33-deep"],
)
def test_deeply_nested_json_is_400(client_for: ClientMaker, program: Program, body: str) -> None:
    response = client_for().post(URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert _errors(response) == [(None, "parse_error")]


def test_nesting_up_to_the_limit_is_parsed(client_for: ClientMaker, program: Program) -> None:
    nested: Any = "x"
    for _level in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    response = client_for().post(URL, {"community": nested}, format="json")
    assert response.status_code == 400
    assert ("community", "invalid") in _errors(response)  # a field error, not a parse error


@pytest.mark.parametrize(
    ("path", "value", "attr", "code"),
    [
        (("members", 0, "birth_date"), "1850-01-01", "members.0.birth_date", "date_out_of_range"),
        (("members", 0, "birth_date"), "9999-12-31", "members.0.birth_date", "future_date"),
        (("consent", "signed_on"), "9999-01-01", "consent.signed_on", "future_date"),
        (("consent", "signed_on"), "0001-01-01", "consent.signed_on", "date_out_of_range"),
        (("consent", "signed_on"), "1989-12-31", "consent.signed_on", "date_out_of_range"),
    ],
)
def test_dates_out_of_any_sane_range_are_field_errors(
    client_for: ClientMaker,
    program: Program,
    path: tuple[Any, ...],
    value: str,
    attr: str,
    code: str,
) -> None:
    payload = household_payload()
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    response = client_for().post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert (attr, code) in _errors(response)


def test_date_bounds_by_kind() -> None:
    from datetime import date

    today = date(2026, 11, 30)
    assert date_bounds("birth", today) == (date(1900, 1, 1), today)
    assert date_bounds("event", today) == (date(1990, 1, 1), today)
    assert date_bounds("plan", today) == (date(1990, 1, 1), date(2036, 11, 28))
    with pytest.raises(ValueError):
        date_bounds("someday", today)


def test_an_indicator_period_that_ends_before_it_starts_is_400(
    client_for: ClientMaker, program: Program
) -> None:
    client = client_for([Scope.INDICATORS_READ])
    response = client.get(
        "/api/v1/indicators/", {"metric": "households", "from": "2026-06-01", "to": "2026-01-01"}
    )
    assert response.status_code == 400, response.content
    assert _errors(response) == [("from", "invalid_period")]
    far = client.get("/api/v1/indicators/", {"metric": "households", "to": "9999-12-31"})
    assert far.status_code == 400
    assert _errors(far) == [("to", "date_out_of_range")]
    earliest, latest = date_bounds("period")
    detail = far.json()["errors"][0]["detail"]
    assert earliest.isoformat() in detail and latest.isoformat() in detail
    same_day = client.get(
        "/api/v1/indicators/", {"metric": "households", "from": "2026-01-01", "to": "2026-01-01"}
    )
    assert same_day.status_code == 200


def test_another_organizations_id_answers_like_an_own_id_reused(
    client_for: ClientMaker, program: Program, other_partner: Organization
) -> None:
    """The answer names neither the record, its kind of owner nor its content: the same status
    and body as the caller's own id sent again with another payload (docs/api.md)."""
    theirs = client_for(org=other_partner)
    foreign_id = str(uuid.uuid4())
    created = theirs.post(
        URL,
        household_payload(id=foreign_id, district="050407", community="Sivia"),
        format="json",
    )
    assert created.status_code == 201, created.content
    mine = client_for()
    own_id = str(uuid.uuid4())
    first = household_payload(id=own_id)
    first["members"] = first["members"][:1]
    first["members"][0]["document_number"] = "47654321"
    assert mine.post(URL, first, format="json").status_code == 201
    other = household_payload(community="Otra")
    other["members"] = other["members"][1:]
    other["members"][0]["relationship"] = "head"
    reused = mine.post(URL, {**other, "id": own_id}, format="json")
    probe = mine.post(URL, {**other, "id": foreign_id}, format="json")
    assert reused.status_code == probe.status_code == 409
    assert reused.content == probe.content
    assert _errors(probe) == [("id", "idempotency_conflict")]
    assert Household.objects.filter(pk=foreign_id, community="Sivia").exists()
