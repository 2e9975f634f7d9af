"""The lean household list (issue 19 point 6): rows rendered by a plan compiled from the list's
serializer give the same bytes as the serializer itself, for every kind of caller (stage fields
masked per role and scope), page after page and filtered, with the same access-log rows; and
a page costs three queries whatever its size."""

from __future__ import annotations

import json
import re
import threading
from io import StringIO
from typing import Any
from urllib.parse import unquote

import pytest
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIClient

from farmers.api.views import HouseholdViewSet
from farmers.devtools.list_path import list_views
from farmers.models import Household, Member
from registry import accesslog_writer
from registry.api.lean import LeanListMixin, compile_plan
from registry.api.pagination import CURSOR_SALT
from registry.choices import Scope
from registry.models import AccessLog, Organization, Program
from registry.services import api_key_create
from tests.factories import UserFactory
from tests.farmers.conftest import WRITE, household_payload
from tests.farmers.test_stage_is_coca import (  # noqa: F401 - the fixture is used by name
    CALLERS,
    HOUSEHOLDS,
    _key,
    excluded,
)

pytestmark = pytest.mark.django_db


def _member(n: int, **overrides: Any) -> dict[str, Any]:
    member = {
        "given_names": f"Ñusta {n}",
        "surnames": "Huamán Quispe",
        "document_type": "dni",
        "document_number": f"{30000000 + n}",
        "sex": "f" if n % 2 else "m",
        "birth_date": f"19{60 + n}-0{1 + n % 9}-1{n % 10}",
        "relationship": "head",
        "phone": f"98765{n:04d}",
    }
    member.update(overrides)
    return member


@pytest.fixture
def varied(program: Program, partner: Organization, excluded: dict[str, Any]) -> None:  # noqa: F811
    """Households in both districts: one member or four, without phone or document, a member
    gone from the household, a stage with milestones (``excluded``), one rejected."""
    writer = _key(partner, WRITE)
    ids = []
    for n, (district, members) in enumerate(
        [
            ("080907", [_member(1, phone="")]),
            (
                "080910",
                [
                    _member(2),
                    _member(3, relationship="spouse", phone=""),
                    _member(4, relationship="child", document_type="", document_number=""),
                    _member(5, relationship="child"),
                ],
            ),
            ("080907", [_member(6), _member(7, relationship="spouse")]),
        ]
    ):
        payload = household_payload(district=district, members=members, community=f"C{n}")
        response = writer.post(HOUSEHOLDS, payload, format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    Member.objects.filter(household_id=ids[1], given_names="Ñusta 5").update(is_active=False)
    Household.objects.filter(pk=ids[2]).update(status="rejected", rejection_reason="x")


def serializer_path(view: Any) -> None:
    """``lean_plan`` of a view put on the serializer path (a serializer per row)."""
    return None


def _both_paths(
    client: APIClient, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    lean = client.get(HOUSEHOLDS, params)
    with monkeypatch.context() as patch:
        patch.setattr(HouseholdViewSet, "lean_plan", serializer_path)
        classic = client.get(HOUSEHOLDS, params)
    return lean, classic


def _unsigned(content: bytes) -> bytes:
    """``content`` with each cursor token replaced by what it carries (a token is signed with
    the time it was made: two requests a second apart make different tokens)."""

    def decoded(match: re.Match[bytes]) -> bytes:
        token = unquote(match.group(1).decode())
        return b"cursor=" + json.dumps(signing.loads(token, salt=CURSOR_SALT)).encode()

    return re.sub(rb"cursor=([^&\"]+)", decoded, content)


def _last_log() -> tuple[Any, ...] | None:
    log = AccessLog.objects.order_by("-pk").first()
    return None if log is None else (log.resource, sorted(log.object_ids), log.fields, log.path)


@pytest.mark.parametrize("caller", [*CALLERS, "superuser"])
def test_lean_list_is_byte_identical_to_the_serializer(
    program: Program,
    partner: Organization,
    varied: None,
    caller: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if caller == "superuser":
        client = APIClient()
        client.force_login(UserFactory.create(username="raiz", is_superuser=True))
    else:
        client = CALLERS[caller][0](program, partner)
    counts = []
    for params in ({"page_size": 100}, {"district": "080907"}, {"q": "Ñusta"}):
        lean, classic = _both_paths(client, params, monkeypatch)
        assert lean.status_code == classic.status_code == 200
        assert lean.content == classic.content
        counts.append(len(lean.json()["results"]))
    assert counts[0] > 0
    # Page by page (cursor links made from rows and from instances alike), with the logs.
    url: str | None = f"{HOUSEHOLDS}?page_size=2"
    pages = 0
    while url is not None:
        lean = client.get(url)
        lean_log = _last_log()
        with monkeypatch.context() as patch:
            patch.setattr(HouseholdViewSet, "lean_plan", serializer_path)
            classic = client.get(url)
        assert lean.status_code == classic.status_code == 200
        assert _unsigned(lean.content) == _unsigned(classic.content)
        assert lean_log == _last_log()
        url = lean.json()["next"]
        pages += 1
    assert pages == (counts[0] + 1) // 2


def test_stage_fields_are_masked_on_the_lean_path(
    program: Program,
    partner: Organization,
    varied: None,
) -> None:
    without = _key(partner, WRITE).get(HOUSEHOLDS).json()["results"]
    with_coca = _key(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    shown = with_coca.get(HOUSEHOLDS).json()["results"]
    assert len(without) == len(shown) == 4
    assert not any("stage" in h or "milestones" in h for h in without)
    assert all({"stage", "stage_since", "milestones"} <= set(h) for h in shown)
    assert {"enrolled": "2026-01-10", "excluded": "2026-05-01"} in [h["milestones"] for h in shown]
    # The member who left is not listed; the order is the serializer's (head first).
    four = next(h for h in shown if len(h["members"]) == 3)
    assert [m["given_names"] for m in four["members"]] == ["Ñusta 2", "Ñusta 3", "Ñusta 4"]


def _queries(client: APIClient) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOUSEHOLDS, {"page_size": 100})
        assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_a_page_is_three_queries_whatever_its_size(
    program: Program,
    partner: Organization,
) -> None:
    """The page (no count), its members, the access-log insert: the key, its organization and
    area come from the cache."""
    reader = _key(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    writer = _key(partner, WRITE)
    assert writer.post(HOUSEHOLDS, household_payload(), format="json").status_code == 201
    reader.get(HOUSEHOLDS)  # the key's first use: resolved and its use recorded
    one = _queries(reader)
    for n in range(20):
        payload = household_payload(members=[_member(10 + n)])
        assert writer.post(HOUSEHOLDS, payload, format="json").status_code == 201
    many = _queries(reader)
    assert len(one) == len(many) == 3
    assert not any("COUNT(" in sql.upper() for sql in many)
    assert sum(sql.startswith("INSERT INTO") and "accesslog" in sql for sql in many) == 1


def test_a_serializer_the_plan_cannot_read_fails_loudly() -> None:
    class Computed(serializers.Serializer[Any]):
        name = serializers.SerializerMethodField()

        def get_name(self, obj: Any) -> str:
            return "x"

    with pytest.raises(ImproperlyConfigured):
        compile_plan(Computed)


def test_benchmark_list_path_runs_on_a_small_database() -> None:
    call_command("seed_households", "--count", "40", stdout=StringIO())
    out = StringIO()
    call_command("benchmark_list_path", "--requests", "4", "--page-size", "10", stdout=out)
    text = out.getvalue()
    assert "households in database: 40" in text
    assert text.count("p50=") == 3
    assert "throughput ratio API / bare view: " in text
    assert "queries per API list request by page_size: {1: 3, 50: 3, 100: 3}" in text
    # The method the benchmark swaps for the serializer path is back in place.
    assert HouseholdViewSet.lean_plan is LeanListMixin.lean_plan


def test_inside_a_transaction_the_access_log_row_is_written_inline() -> None:
    # Tests (and any request under a transaction) write the row in the request's transaction.
    assert connection.in_atomic_block
    assert not accesslog_writer.enabled()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_commits_the_access_log_row_before_the_response_leaves(
    program: Program, partner: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a transaction (a real request) the row's commit overlaps the rendering: the
    writer thread inserts it, and the response waits for it; a row that cannot be written
    turns the response into a 500."""
    monkeypatch.setattr(accesslog_writer, "statements", accesslog_writer.statements)
    try:
        _writer_thread_checks(partner, monkeypatch)
    finally:
        accesslog_writer.close()  # the test database can then be dropped


def _writer_thread_checks(partner: Organization, monkeypatch: pytest.MonkeyPatch) -> None:
    assert accesslog_writer.enabled()
    assert (
        _key(partner, WRITE).post(HOUSEHOLDS, household_payload(), format="json").status_code == 201
    )
    reader_key, raw = api_key_create(organization=partner, scopes=[Scope.HOUSEHOLDS_READ])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    threads: list[str] = []
    insert = accesslog_writer._insert

    def watched(values: dict[str, Any]) -> None:
        threads.append(threading.current_thread().name)
        insert(values)

    monkeypatch.setattr(accesslog_writer, "_insert", watched)
    before = accesslog_writer.statements
    response = reader.get(HOUSEHOLDS)
    assert response.status_code == 200
    assert threads == [threads[0]] and threads[0].startswith("access-log")
    assert accesslog_writer.statements == before + 1
    log = AccessLog.objects.get(created_by_key=reader_key)
    assert log.object_ids == [row["id"] for row in response.json()["results"]]
    assert "members.document_number" in log.fields

    def broken(values: dict[str, Any]) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(accesslog_writer, "_insert", broken)
    reader.raise_request_exception = False
    failed = reader.get(HOUSEHOLDS)
    assert failed.status_code == 500
    assert failed.json()["type"] == "server_error"


def test_benchmark_list_path_measures_every_list() -> None:
    call_command("seed_households", "--count", "12", stdout=StringIO())
    out = StringIO()
    call_command(
        "benchmark_list_path",
        *("--resource", "all", "--requests", "2", "--warmup", "1", "--rounds", "2"),
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    measured = {line.split(" | ")[0]: line.split(" | ") for line in lines[1:]}
    assert set(measured) == set(list_views())
    assert measured["households"][1] == "lean"
    # Every list is on the lean path now (one not measured says so instead).
    assert all(
        line[1] == "lean" or line[1].startswith("not measured") for line in measured.values()
    )
    # A page of 1 and a page of 100 cost the same queries, on either path.
    one, hundred = measured["households"][-1].split(" / ")
    assert one == hundred
