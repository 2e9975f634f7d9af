"""Issue 19 point 5: every partner read of personal data is logged (who, which records, which
fields, which request), one insert per response, and "who read what" between two times."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import AccessLog

from .conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"


def _register(client: Any, n: int) -> list[str]:
    ids = []
    for i in range(n):
        head = {**household_payload()["members"][0], "document_number": f"4{i:07d}"}
        response = client.post(URL, household_payload(members=[head]), format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def test_a_partner_list_of_households_is_logged_in_one_insert(client_for: ClientMaker) -> None:
    writer = client_for()
    ids = _register(writer, 3)
    reader = client_for()  # households:read, no coca:read
    AccessLog.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        response = reader.get(URL, {"page_size": 2})
    assert response.status_code == 200
    inserts = [q for q in ctx.captured_queries if "INSERT" in q["sql"] and "access" in q["sql"]]
    assert len(inserts) == 1
    log = AccessLog.objects.get()
    shown = [h["id"] for h in response.json()["results"]]
    assert log.resource == "households" and log.object_ids == shown
    assert set(shown) <= set(ids)
    assert "members.document_number" in log.fields and "head_name" in log.fields
    assert "stage" not in log.fields  # no coca:read: the stage was not shown
    assert log.created_by_key is not None and log.path.startswith(URL)


def test_a_single_read_is_logged_and_an_empty_page_is_not(client_for: ClientMaker) -> None:
    client = client_for()
    household_id = _register(client, 1)[0]
    AccessLog.objects.all().delete()
    assert client.get(f"{URL}{household_id}/").status_code == 200
    assert client.get("/api/v1/plots/", {"household": household_id}).status_code == 200
    logs = list(AccessLog.objects.order_by("id"))
    assert [(log.resource, log.object_ids) for log in logs] == [("households", [household_id])]
    # An empty page logs nothing (no record was read).


def test_people_reading_through_the_admin_session_are_not_partners(
    client_for: ClientMaker, admin_client: Any
) -> None:
    _register(client_for(), 1)
    AccessLog.objects.all().delete()
    assert admin_client.get(URL).status_code == 200
    # A superuser holds coca:read: the stage is logged, but no "partner" personal read.
    for log in AccessLog.objects.all():
        assert "members.document_number" not in log.fields


def test_access_report_lists_who_read_what_between_two_times(client_for: ClientMaker) -> None:
    client = client_for()
    household_id = _register(client, 1)[0]
    AccessLog.objects.all().delete()
    assert client.get(f"{URL}{household_id}/").status_code == 200
    assert AccessLog.objects.count() == 1, list(AccessLog.objects.values("at", "fields"))
    old = AccessLog.objects.create(resource="plots", object_ids=["x"], fields=["geometry"])
    AccessLog.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=30))
    out = io.StringIO()
    today = timezone.localdate()
    call_command(
        "access_report",
        "--from",
        str(today - timedelta(days=1)),
        "--to",
        str(today),
        stdout=out,
        stderr=io.StringIO(),
    )
    text = out.getvalue()
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 2  # the header and the one read in the period (not the old one)
    assert household_id in lines[1] and "members.document_number" in lines[1]
    assert "api-key:" in lines[1]


def test_access_log_admin_exports_the_selection(admin_client: Any) -> None:
    log = AccessLog.objects.create(resource="households", object_ids=["a", "b"], fields=["x"])
    response = admin_client.post(
        "/admin/registry/accesslog/",
        {"action": "export_csv", "_selected_action": [log.pk]},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "households" in body and "a b" in body
