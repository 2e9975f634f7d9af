"""Issue 18 point 5: title files export (there was none) as the caller's API list shows them:
the authority's own files, labels for statuses and procedures, names for places and
organizations, dates as dates."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from registry.models import Organization
from titles.choices import TitleStatus

from .conftest import TITLES_WRITE, FileMaker, key_client

pytestmark = pytest.mark.django_db


def test_an_authority_exports_its_own_title_files(
    make_file: FileMaker,
    authority: Organization,
    other_authority: Organization,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    submitted = make_file(TitleStatus.SUBMITTED)
    client: APIClient = key_client(authority, TITLES_WRITE)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/exports/",
            {"resource": "title_files", "format": "xlsx", "filters": {"status": "submitted"}},
            format="json",
        )
    assert created.status_code == 202, created.content
    job = client.get(f"/api/v1/exports/{created.json()['id']}/").json()
    assert job["status"] == "succeeded" and job["total"] == 1
    listed = client.get("/api/v1/title-applications/", {"status": "submitted"}).json()
    assert [r["id"] for r in listed["results"]] == [str(submitted.pk)]
    download = client.get(job["download_url"])
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    (row,) = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert row["Hogar"].value == submitted.household.code
    assert row["Entidad de titulación"].value == authority.name
    assert row["Estado"].value == TitleStatus.SUBMITTED.label
    assert row["Estado"].value != "submitted"
    assert isinstance(row["Presentado el"].value, datetime)
    # Another authority's key: none of these files.
    other = key_client(other_authority, TITLES_WRITE)
    with django_capture_on_commit_callbacks(execute=True):
        theirs = other.post("/api/v1/exports/", {"resource": "title_files"}, format="json")
    assert other.get(f"/api/v1/exports/{theirs.json()['id']}/").json()["total"] == 0
