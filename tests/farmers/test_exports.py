"""Issue 18 point 5: exports of the lists staff and partners use, as XLSX and CSV, through the
API (``POST exports/`` → 202, status and progress, an expiring link) and the admin (at once
when small, as a background job when large), with exactly the rows and masking of the caller's
list (``registry.exporting``)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from farmers.models import Household
from registry import exporting
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import AccessLog, ApiKey, District, ExportJob, Organization, Program
from registry.services import api_key_create
from tests.factories import OrganizationFactory, UserFactory

from .admin_text import codes_in, known_slugs
from .conftest import WRITE, household_payload
from .evidence_helpers import give_plot

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/exports/"
HOUSEHOLDS = "/api/v1/households/"
READ = [Scope.HOUSEHOLDS_READ]
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def run_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the after-commit work (the export task, eager) inside the test's transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _client(org: Organization, scopes: Sequence[str]) -> tuple[APIClient, ApiKey]:
    key, raw = api_key_create(organization=org, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client, key


def _register(
    client: APIClient,
    *,
    number: str,
    community: str = "Chuchón",
    district: str = "080910",
    purposes: tuple[str, ...] = ("registry", "partner_sharing"),
    surnames: str = "Quispe Huamán",
) -> dict[str, Any]:
    head = {**household_payload()["members"][0], "document_number": number, "surnames": surnames}
    body = household_payload(
        members=[head],
        community=community,
        district=district,
        consent={"signed_on": "2025-11-02", "purposes": list(purposes)},
    )
    response = client.post(HOUSEHOLDS, body, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _export(client: APIClient, run_now: Any, **body: Any) -> dict[str, Any]:
    with run_now():
        response = client.post(EXPORTS, body, format="json")
    assert response.status_code == 202, response.content
    job = client.get(f"{EXPORTS}{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    return dict(job)


def _download(client: APIClient, job: dict[str, Any]) -> bytes:
    response = client.get(job["download_url"])
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=","))


@pytest.fixture
def writer(partner: Organization) -> APIClient:
    return _client(partner, WRITE)[0]


# --- the files ---------------------------------------------------------------------------------


def test_the_csv_has_a_bom_spanish_headers_labels_and_chuchon_round_trips(
    writer: APIClient, run_now: Any
) -> None:
    created = _register(writer, number="10117410")
    job = _export(writer, run_now, resource="households", format="csv")
    assert job["progress"]["percent"] == 100 and job["done"] == job["total"] == 1
    content = _download(writer, job)
    rows = _csv_rows(content)
    assert list(rows[0])[:4] == ["Código", "Programa", "Distrito", "Comunidad"]
    row = rows[0]
    assert row["Código"] == created["code"]
    assert row["Comunidad"] == "Chuchón"  # UTF-8 with a BOM: Excel reads it as written
    assert row["Distrito"] == "Pichari" and row["Programa"] == "PIRDAIS"
    assert row["Estado"] == "Pendiente de revisión"
    assert "pending_review" not in content.decode("utf-8-sig")
    assert "080910" not in content.decode("utf-8-sig")
    # Dates as dd/mm/aaaa in local time (never UTC ISO timestamps).
    assert datetime.strptime(row["Fecha de creación"], "%d/%m/%Y %H:%M")


def test_the_xlsx_has_real_dates_numbers_and_labels(
    writer: APIClient, run_now: Any, partner: Organization
) -> None:
    created = _register(writer, number="10117410")
    give_plot(created["id"])
    coca_reader, _key = _client(partner, [*WRITE, Scope.COCA_READ])
    visit = {
        "household": created["id"],
        "visited_on": "2026-09-14",
        "method": "field_visit",
        "coca_ha": "0.25",
        "licit_crops": [{"crop": "cacao", "ha": "1.50"}],
    }
    assert coca_reader.post("/api/v1/verifications/", visit, format="json").status_code == 201
    job = _export(coca_reader, run_now, resource="visits", format="xlsx")
    sheet = load_workbook(io.BytesIO(_download(coca_reader, job))).active
    assert sheet is not None
    header, row = [c.value for c in sheet[1]], list(sheet[2])
    assert header == [
        "Hogar",
        "Fecha de visita",
        "Método",
        "Coca observada (ha)",
        "Estado",
        "Observación de la revisión",
        "Fecha de creación",
    ]
    cells = dict(zip(header, row, strict=True))
    assert cells["Hogar"].value == created["code"]
    assert cells["Fecha de visita"].value == datetime(2026, 9, 14)  # a date cell
    assert cells["Fecha de visita"].is_date
    assert cells["Fecha de visita"].number_format == "DD/MM/YYYY"
    created_at, coca = cells["Fecha de creación"], cells["Coca observada (ha)"]
    assert created_at.is_date and created_at.number_format == "DD/MM/YYYY HH:MM"
    assert coca.value == 0.25 and coca.data_type == "n"
    assert cells["Método"].value == "Visita de campo"
    assert cells["Estado"].value == "Pendiente"


def test_a_field_the_list_withholds_is_marked_not_left_as_a_code(
    writer: APIClient, run_now: Any
) -> None:
    """Without coca:read the list drops ``coca_ha`` and the stage: so does the export."""
    created = _register(writer, number="10117410")
    give_plot(created["id"])
    visit = {"household": created["id"], "visited_on": "2026-09-14", "method": "field_visit"}
    visit["coca_ha"] = "0.25"
    assert writer.post("/api/v1/verifications/", visit, format="json").status_code == 201
    job = _export(writer, run_now, resource="visits", format="csv")
    (row,) = _csv_rows(_download(writer, job))
    assert row["Coca observada (ha)"] == exporting.WITHHELD


# --- scope, masking and the access log ----------------------------------------------------------


def test_another_districts_households_are_absent(
    writer: APIClient, run_now: Any, other_partner: Organization
) -> None:
    mine = _register(writer, number="10117410")
    theirs_client = _client(other_partner, WRITE)[0]
    theirs = _register(theirs_client, number="42345678", district="050407")
    job = _export(writer, run_now, resource="households", format="csv")
    codes = {row["Código"] for row in _csv_rows(_download(writer, job))}
    assert codes == {mine["code"]}
    assert theirs["code"] not in codes


def test_a_partner_without_the_purpose_gets_the_pseudonym_and_its_reads_are_logged(
    writer: APIClient, run_now: Any, program: Program
) -> None:
    authority = OrganizationFactory.create(code="dra", kind=OrganizationKind.TITLING_AUTHORITY)
    authority.districts.set(District.objects.filter(ubigeo__in=["080910"]))
    authority.programs.add(program)
    narrow = _register(writer, number="10117410", purposes=("registry",), surnames="Narrow Uno")
    wide = _register(writer, number="42345678", surnames="Wide Dos")
    reader, key = _client(authority, READ)
    job = _export(reader, run_now, resource="households", format="csv")
    content = _download(reader, job)
    rows = {row["Código"]: row for row in _csv_rows(content)}
    assert rows[narrow["code"]]["Jefe o jefa de hogar"] == ""
    assert rows[narrow["code"]]["Comunidad"] == ""
    assert rows[narrow["code"]]["Seudonimizado"] == "Sí"
    assert "Narrow" not in content.decode("utf-8-sig")
    assert rows[wide["code"]]["Jefe o jefa de hogar"] == "Juana Wide Dos"
    assert rows[wide["code"]]["Seudonimizado"] == "No"
    # The personal data read is logged as the list logs it: the named family only.
    (log,) = AccessLog.objects.filter(created_by_key=key, path__startswith=f"{EXPORTS}{job['id']}")
    assert log.object_ids == [wide["id"]]
    assert "head_name" in log.fields


def test_the_rows_are_exactly_what_the_callers_list_shows(
    writer: APIClient, program: Program, partner: Organization
) -> None:
    for n in range(5):
        wide = ("registry", "partner_sharing")
        _register(writer, number=f"1011741{n}", purposes=("registry",) if n % 2 else wide)
    authority = OrganizationFactory.create(code="dra", kind=OrganizationKind.TITLING_AUTHORITY)
    authority.districts.set(District.objects.filter(ubigeo__in=["080910"]))
    authority.programs.add(program)
    for org in (partner, authority):
        reader, key = _client(org, READ)
        listed = reader.get(HOUSEHOLDS, {"status": "pending_review", "page_size": "100"}).json()
        actor = Actor.for_api_key(key)
        export = exporting.resource("households")
        pages = exporting.list_pages(
            export, actor, filters={"status": "pending_review"}, page_size=2
        )
        exported = [row for page in pages for row in page]
        assert exported == listed["results"]
        assert len(exported) == 5


# --- the API: validation, links, cancel, history --------------------------------------------------


def test_an_unknown_filter_a_bad_value_or_list_is_a_400_in_the_error_shape(
    writer: APIClient,
) -> None:
    response = writer.post(
        EXPORTS, {"resource": "households", "filters": {"colour": "red"}}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("filters.colour", "unknown_filter")
    ]
    bad = writer.post(
        EXPORTS, {"resource": "households", "filters": {"status": "nope"}}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "filters.status"
    unknown = writer.post(EXPORTS, {"resource": "users"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["attr"] == "resource"
    assert not ExportJob.objects.exists()


def test_a_list_the_key_may_not_read_is_refused(partner: Organization) -> None:
    client = _client(partner, WRITE)[0]
    response = client.post(EXPORTS, {"resource": "contracts"}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"


def test_the_link_expires_and_serves_only_the_owners_organization(
    writer: APIClient, run_now: Any, partner: Organization, other_partner: Organization
) -> None:
    _register(writer, number="10117410")
    job = _export(writer, run_now, resource="households", format="xlsx")
    assert job["download_expires_at"]
    # Another key of the same organization may fetch it; another organization's may not.
    colleague = _client(partner, READ)[0]
    assert colleague.get(job["download_url"]).status_code == 200
    stranger = _client(other_partner, READ)[0]
    assert stranger.get(job["download_url"]).status_code == 404
    assert stranger.get(f"{EXPORTS}{job['id']}/").status_code == 404
    tampered = writer.get(job["download_url"] + "x")
    assert tampered.status_code == 403
    later = time.time() + 3601
    with mock.patch("django.core.signing.time.time", return_value=later):
        expired = writer.get(job["download_url"])
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["code"] == "download_link_expired"
    # A fresh GET of the job gives a fresh link.
    fresh = writer.get(f"{EXPORTS}{job['id']}/").json()["download_url"]
    assert writer.get(fresh).status_code == 200


def test_a_queued_export_is_cancelled_at_once_and_a_running_one_between_pages(
    writer: APIClient, run_now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        _register(writer, number=f"1011741{n}")
    queued = writer.post(EXPORTS, {"resource": "households"}, format="json").json()
    assert queued["status"] == "queued"  # the task waits for the commit
    cancelled = writer.post(f"{EXPORTS}{queued['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled" and cancelled["download_url"] is None
    exporting.export_run(queued["id"])  # a late task leaves it cancelled
    assert ExportJob.objects.get(pk=queued["id"]).status == "cancelled"

    monkeypatch.setattr(exporting, "CHUNK", 1)
    real_advance = exporting.jobs.advance

    def advance_then_cancel(job: ExportJob, **kwargs: Any) -> None:
        real_advance(job, **kwargs)
        ExportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(exporting.jobs, "advance", advance_then_cancel)
    with run_now():
        running = writer.post(EXPORTS, {"resource": "households"}, format="json").json()
    job = ExportJob.objects.get(pk=running["id"])
    outcome = (job.status, job.done, job.total, bool(job.file))
    assert outcome == ("cancelled", 1, 3, False), job.error


def test_the_history_lists_the_callers_exports_only_in_a_fixed_number_of_queries(
    writer: APIClient, partner: Organization, other_partner: Organization
) -> None:
    stranger = _client(other_partner, READ)[0]
    theirs = stranger.post(EXPORTS, {"resource": "households"}, format="json").json()

    def count_for(n: int) -> int:
        ExportJob.objects.filter(organization=partner).delete()
        for _ in range(n):
            writer.post(EXPORTS, {"resource": "households", "format": "csv"}, format="json")
        with CaptureQueriesContext(connection) as queries:
            listed = writer.get(EXPORTS, {"page_size": 100})
        assert listed.status_code == 200
        results = listed.json()["results"]
        assert len(results) == n and theirs["id"] not in {r["id"] for r in results}
        return len(queries)

    assert count_for(1) == count_for(12)


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def staff(writer: APIClient) -> Iterator[Client]:
    user = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    yield client


def test_a_small_admin_export_downloads_at_once_with_the_changelists_filters(
    writer: APIClient, staff: Client
) -> None:
    pending = _register(writer, number="10117410")
    other = _register(writer, number="42345678", community="Otra")
    Household.objects.filter(pk=other["id"]).update(status="rejected")
    url = reverse("admin:farmers_household_changelist") + "?status__exact=pending_review"
    response = staff.post(
        url, {"action": "export_xlsx", "select_across": "1", "_selected_action": [pending["id"]]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="hogares_')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    assert sheet is not None
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [pending["code"]]
    assert not ExportJob.objects.exists()


def test_a_large_admin_export_runs_as_a_job_with_progress_cancel_and_history(
    writer: APIClient, staff: Client, settings: Any, run_now: Any
) -> None:
    settings.EXPORT_INLINE_MAX_ROWS = 1
    first = _register(writer, number="10117410")
    second = _register(writer, number="42345678")
    url = reverse("admin:farmers_household_changelist")
    with run_now():
        response = staff.post(
            url, {"action": "export_csv", "select_across": "1", "_selected_action": [first["id"]]}
        )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:registry_exportjob_change", args=[job.pk])
    assert job.from_admin and job.status == "succeeded" and job.total == 2
    page = staff.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="job-progress"' in body and "registry/job_progress.js" in body
    progress = staff.get(reverse("admin:registry_exportjob_progress", args=[job.pk])).json()
    assert progress["percent"] == 100 and progress["status"] == "succeeded"
    history = staff.get(reverse("admin:registry_exportjob_changelist"))
    assert history.status_code == 200 and "Descargar" in history.content.decode()
    # Labels, never codes, on both pages (and in the file below).
    slugs = known_slugs()
    assert codes_in(body, slugs) == [] and codes_in(history.content.decode(), slugs) == []
    link = page.context["download_url"]
    content = b"".join(staff.get(link).streaming_content)  # type: ignore[attr-defined]
    assert {row["Código"] for row in _csv_rows(content)} == {first["code"], second["code"]}
    assert codes_in(content.decode("utf-8-sig"), slugs) == []
    # Someone else (not a superuser) cannot see or download it.
    other = UserFactory.create(is_staff=True)
    other_client = Client()
    other_client.force_login(other)
    assert other_client.get(link).status_code in (302, 403, 404)


def test_the_admin_cancel_button_stops_a_queued_export(writer: APIClient, staff: Client) -> None:
    user = User.objects.get(is_superuser=True)
    job = exporting.export_start(
        actor=Actor.for_user(user),
        export=exporting.resource("households"),
        file_format="csv",
        from_admin=True,
    )
    response = staff.post(reverse("admin:registry_exportjob_cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"


@pytest.mark.parametrize(
    "resource", ["households", "visits", "title_files", "contracts", "deliveries", "alerts"]
)
def test_every_list_exports_with_spanish_headers(
    resource: str, staff: Client, run_now: Any
) -> None:
    export = exporting.resource(resource)
    user = User.objects.get(is_superuser=True)
    with run_now():
        job = exporting.export_start(actor=Actor.for_user(user), export=export, file_format="xlsx")
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    sheet = load_workbook(job.file.open("rb")).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert len(header) == len(export.columns)
    assert all(h and h[0].isupper() and "_" not in h for h in header)


def test_files_of_old_exports_are_deleted_and_the_jobs_kept(
    partner: Organization, writer: APIClient, run_now: Any, settings: Any
) -> None:
    """Exports hold personal data: their files go after JOB_FILE_RETENTION_DAYS (the daily
    beat task), the job stays in the history without its file; a recent one is untouched."""
    from pathlib import Path

    from registry.models.exports import ExportJob
    from registry.tasks import prune_export_files

    _register(writer, number="41234567")
    reader = _client(partner, READ)[0]
    old = _export(reader, run_now, resource="households", format="csv")
    recent = _export(reader, run_now, resource="households", format="csv")
    old_path = Path(ExportJob.objects.get(pk=old["id"]).file.path)
    assert old_path.exists()
    ExportJob.objects.filter(pk=old["id"]).update(
        finished_at=timezone.now() - timedelta(days=settings.JOB_FILE_RETENTION_DAYS + 1)
    )

    assert prune_export_files() == 1

    assert not old_path.exists()
    pruned = ExportJob.objects.get(pk=old["id"])
    assert pruned.file.name == "" and pruned.status == "succeeded"
    assert ExportJob.objects.get(pk=recent["id"]).file.name != ""
    assert prune_export_files() == 0
