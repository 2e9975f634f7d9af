"""Property-based fuzzing of the whole partner API against its own OpenAPI schema.

Schemathesis loads ``/api/v1/schema/`` from the Django WSGI application in-process (no server,
no network) and, for every documented operation, sends schema-valid (positive) and
schema-violating (negative) requests authenticated by a key holding every scope. Every response
must be free of 5xx, use a documented status code and content type and match the documented
body; valid input must be accepted and invalid input rejected with a documented 4xx.

Two inputs are opaque to the schema, so they get their own property tests: the pagination
``cursor`` (a token the API itself issues) and the ``Authorization`` header.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from registry.choices import OrganizationKind, Scope
from registry.services import api_key_create
from tests.factories import OrganizationFactory, ProgramFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

# What every response must satisfy, whatever was sent.
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LIST_PATHS = ["/api/v1/districts/", "/api/v1/organizations/", "/api/v1/programs/"]
# 40 examples per operation on PostgreSQL, what production runs; the SQLite pass of the same
# suite (the embedded default) sends 20 through the same API layer.
ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
FUZZ_SETTINGS = settings(
    max_examples=40 if ON_POSTGRESQL else 20,
    deadline=None,
    # The fixtures only set up read-only data, so sharing them between examples is fine.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# Dates outside their kind's sane range (docs/api.md) and periods that end before they start:
# the schema types dates by format only, so it cannot state these bounds.
DATE_RULE_CODES = {"date_out_of_range", "future_date", "invalid_period"}


def _is_opaque_input_rejection(response: schemathesis.Response) -> bool:
    """A 400 caused only by a NUL character, a cursor the API never issued, or a date rule."""
    if response.status_code != 400:
        return False
    errors = response.json()["errors"]
    return bool(errors) and all(
        error["code"] == "null_characters_not_allowed"
        or (error["attr"] == "cursor" and error["code"] == "invalid")
        or (error["attr"] and error["code"] in DATE_RULE_CODES)
        for error in errors
    )


@schema.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Any,
    case: schemathesis.Case,
    response: schemathesis.Response,
) -> bool:
    """Keep every failure except "valid data rejected" for two inputs no schema can describe.

    The schema types ``cursor`` as a string, but only tokens taken from ``next``/``previous``
    links are valid; no text parameter may contain NUL (PostgreSQL cannot store it); dates have
    a sane range per kind and ``from`` may not follow ``to``. The API
    answers both with its documented 400 naming the field, which the other checks still verify;
    ``test_any_cursor_gives_a_page_or_a_cursor_error`` fuzzes cursors on its own.
    """
    return not (
        isinstance(failure, RejectedPositiveData)
        and (_is_opaque_input_rejection(response) or _is_semantic_write_rejection(case, response))
    )


def _is_semantic_write_rejection(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    """A write refused for a rule no schema can state: a referenced record that does not exist,
    a district outside the caller's area, an ID whose check digit is wrong, a household without
    a head. The answer must still be the documented 400 ``validation_error`` with field paths."""
    if case.method.upper() == "GET" or response.status_code != 400:
        return False
    body = response.json()
    return body["type"] == "validation_error" and all(e["attr"] for e in body["errors"])


@pytest.fixture
def keep_test_transaction() -> Iterator[None]:
    """Requests go through the real WSGI handler, which closes the DB connection after each one.

    Like Django's test client, keep it open so every request sees (and stays inside) the test's
    transaction; otherwise PostgreSQL loses the test data after the first request.
    """
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


@pytest.fixture
def auth_headers(db: Any, keep_test_transaction: None) -> dict[str, str]:
    """Reference data for the detail endpoints, and a key holding every scope."""
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY)
    funder = OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)
    partner = OrganizationFactory.create(
        code="implementa", kind=OrganizationKind.IMPLEMENTER, district_id="080910"
    )
    ProgramFactory.create(code="pirdais", agency=agency, funder=funder)
    ProgramFactory.create(code="sin-fondos", agency=agency, funder=None)
    _api_key, raw = api_key_create(organization=partner, scopes=[scope.value for scope in Scope])
    return {"Authorization": f"Api-Key {raw}"}


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema(case: schemathesis.Case, auth_headers: dict[str, str]) -> None:
    # Runs every enabled schemathesis check: no 5xx, documented status codes, content types,
    # headers and bodies, valid data accepted, invalid data rejected, auth enforced.
    case.call_and_validate(headers=auth_headers)


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        ("/api/v1/districts/{ubigeo}/", "ubigeo", "080910"),
        ("/api/v1/organizations/{code}/", "code", "implementa"),  # with a district
        ("/api/v1/organizations/{code}/", "code", "usaid"),  # without one
        ("/api/v1/programs/{code}/", "code", "pirdais"),  # with a funder
        ("/api/v1/programs/{code}/", "code", "sin-fondos"),  # without one
    ],
)
def test_existing_records_conform_to_their_schema(
    auth_headers: dict[str, str], path: str, key: str, value: str
) -> None:
    """Random path parameters mostly miss: read each kind of stored record on purpose."""
    case = schema[path]["GET"].Case(path_parameters={key: value})
    response = case.call_and_validate(headers=auth_headers, checks=RESPONSE_CHECKS)
    assert response.status_code == 200
    assert response.json()[key] == value


@pytest.mark.parametrize("path", LIST_PATHS)
def test_cursor_links_walk_the_list_and_conform(auth_headers: dict[str, str], path: str) -> None:
    """The ``next`` links the API issues are valid cursors, page after page."""
    operation = schema[path]["GET"]
    query: dict[str, str] = {"page_size": "1"}
    seen: list[Any] = []
    for _page in range(3):
        response = operation.Case(query=query).call_and_validate(
            headers=auth_headers, checks=RESPONSE_CHECKS
        )
        assert response.status_code == 200
        page = response.json()
        seen.extend(page["results"])
        if page["next"] is None:
            break
        query = dict(parse_qsl(urlsplit(page["next"]).query))
    assert len(seen) >= 1
    assert len({str(record) for record in seen}) == len(seen), "a record came back twice"


def _cursor_token(fields: dict[str, str]) -> str:
    """Encode a cursor the way DRF does: base64 of a query string (o=offset, r=reverse, p=pos)."""
    return base64.b64encode(urlencode(fields).encode()).decode()


cursor_tokens = st.one_of(
    st.text(max_size=40),
    st.fixed_dictionaries(
        {"p": st.text(max_size=12)},
        optional={
            "o": st.one_of(st.integers(min_value=-5, max_value=10**6).map(str), st.text()),
            "r": st.sampled_from(["0", "1", "", "x"]),
        },
    ).map(_cursor_token),
)


@pytest.mark.parametrize("path", LIST_PATHS)
@FUZZ_SETTINGS
@given(cursor=cursor_tokens)
@example(cursor=_cursor_token({"p": "08\x0009"}))
@example(cursor=_cursor_token({"o": "99999999999999999999", "p": "a"}))
def test_any_cursor_gives_a_page_or_a_cursor_error(
    auth_headers: dict[str, str], path: str, cursor: str
) -> None:
    """Whatever token a client sends, it gets a page or the documented 400 on ``cursor``."""
    case = schema[path]["GET"].Case(query={"cursor": cursor})
    response = case.call_and_validate(headers=auth_headers, checks=RESPONSE_CHECKS)
    if response.status_code != 200:
        assert response.status_code == 400
        assert {error["attr"] for error in response.json()["errors"]} == {"cursor"}


# Header values travel as Latin-1 and cannot hold line breaks.
header_text = st.characters(max_codepoint=0xFF, exclude_characters="\r\n")


@pytest.mark.usefixtures("auth_headers")
@FUZZ_SETTINGS
@given(
    authorization=st.one_of(
        st.builds(
            "Api-Key {}.{}".format,
            st.text(header_text, min_size=10, max_size=10),
            st.text(header_text, max_size=30),
        ),
        st.text(header_text, max_size=40).map("Api-Key {}".format),
        st.text(header_text, max_size=40),
    ).map(str.lstrip)  # A header value cannot start with whitespace.
)
@example(authorization="Api-Key abcd\x00fghij.secret")
def test_any_unknown_credential_gives_401(authorization: str) -> None:
    """No made-up ``Authorization`` header gets in, and none breaks the server."""
    case = schema["/api/v1/programs/"]["GET"].Case()
    response = case.call_and_validate(
        headers={"Authorization": authorization}, checks=RESPONSE_CHECKS
    )
    assert response.status_code == 401
