"""Household imports through the API: upload → 202 → check → report → confirm → imported; cancel;
the scope of household registration; 400s in the documented shape; query budgets."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.models import Household, ImportIssue, ImportJob
from registry.choices import Scope
from tests.farmers.conftest import ClientMaker
from tests.farmers.test_import_jobs import csv_bytes, families

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"


def post_file(client: Any, data: bytes, name: str = "hogares.csv") -> Any:
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_upload_check_report_confirm(
    client_for: ClientMaker, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for()
    rows = families(12, bad={11: {"birth_date": "ayer"}})
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, csv_bytes(rows))
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    detail = client.get(f"{URL}{job_id}/").json()
    assert detail["status"] == "succeeded" and detail["awaiting_confirmation"] is True
    assert detail["summary"]["new"] == 11 and detail["summary"]["with_errors"] == 1
    assert detail["progress"]["done"] == 12 and detail["progress"]["percent"] == 100
    errors = client.get(f"{URL}{job_id}/errors/").json()
    assert [(e["row"], e["column"], e["code"]) for e in errors["results"]] == [
        (13, "birth_date", "invalid")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"{URL}{job_id}/confirm/")
    assert confirmed.status_code == 202
    detail = client.get(f"{URL}{job_id}/").json()
    assert detail["phase"] == "import" and detail["status"] == "succeeded"
    assert detail["summary"]["created"] == 11
    assert Household.objects.count() == 11
    # confirming twice is a conflict
    again = client.post(f"{URL}{job_id}/confirm/")
    assert again.status_code == 409


def test_cancel_a_checked_job(
    client_for: ClientMaker, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for()
    with django_capture_on_commit_callbacks(execute=True):
        job_id = post_file(client, csv_bytes(families(2))).json()["id"]
    response = client.post(f"{URL}{job_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert client.post(f"{URL}{job_id}/confirm/").status_code == 409
    assert not Household.objects.exists()


def test_scope_is_household_registration(client_for: ClientMaker, other_partner: Any) -> None:
    reader = client_for([Scope.HOUSEHOLDS_READ])
    assert post_file(reader, csv_bytes(families(1))).status_code == 403
    assert reader.get(URL).status_code == 403
    writer = client_for()
    job_id = post_file(writer, csv_bytes(families(1))).json()["id"]
    # another organization's key does not see the job
    stranger = client_for(org=other_partner)
    assert stranger.get(f"{URL}{job_id}/").status_code == 404
    assert stranger.post(f"{URL}{job_id}/cancel/").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "h.csv", "empty_file"),
        (b"a,b\n1,2\n", "h.csv", "missing_columns"),
        (b"PK\x03\x04junk", "h.xlsx", "invalid_file"),
        (b"x", "h.xls", "unsupported_format"),
    ],
)
def test_unusable_files_are_400s(
    client_for: ClientMaker, data: bytes, name: str, code: str
) -> None:
    response = post_file(client_for(), data, name)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"][0]["attr"] == "file" and body["errors"][0]["code"] in (code, "empty")
    assert not ImportJob.objects.exists()


def test_no_file_is_a_400(client_for: ClientMaker) -> None:
    response = client_for().post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"


def test_list_and_errors_query_budgets(
    client_for: ClientMaker, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for()

    def counted(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    with django_capture_on_commit_callbacks(execute=True):
        first = post_file(client, csv_bytes(families(3, bad={0: {"sex": ""}}))).json()["id"]
    one_job, one_error = counted(URL), counted(f"{URL}{first}/errors/")
    for _n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            post_file(client, csv_bytes(families(3)))
    job = ImportJob.objects.get(pk=first)
    ImportIssue.objects.bulk_create(
        [ImportIssue(job=job, row=100 + n, code="invalid", message="x") for n in range(99)]
    )
    assert counted(URL) == one_job
    assert counted(f"{URL}{first}/errors/") == one_error
