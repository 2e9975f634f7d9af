"""Household imports as background jobs: the check (every row's errors, past row 500), the XLSX
error report, confirmation, cancel, resume after a crash, re-import, the set-based writes equal
to the service's, and the query budget per chunk."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from farmers.importing import import_households, pipeline, template_xlsx
from farmers.importing.columns import SPANISH_HEADERS
from farmers.importing.errors import error_workbook
from farmers.models import (
    Consent,
    DedupKey,
    Household,
    ImportJob,
    ImportPhase,
    Member,
    PossibleDuplicate,
)
from farmers.services import household_register
from farmers.services.imports import (
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_resume,
    import_job_run,
)
from registry.actors import Actor
from registry.choices import Role
from registry.models import (
    ChangeRecord,
    JobStatus,
    Membership,
    Organization,
    OutboxMessage,
    Program,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = list(SPANISH_HEADERS)


@pytest.fixture
def officer(partner: Organization) -> Any:
    user = UserFactory.create(username="tecnico")
    Membership.objects.create(user=user, organization=partner, role=Role.FIELD_OFFICER)
    return user


@pytest.fixture
def actor(officer: Any) -> Actor:
    return Actor.for_user(officer)


def person(ref: str, n: int, **values: Any) -> dict[str, Any]:
    """The head of household ``ref`` (a distinct DNI and name per ``n``)."""
    row = {
        "household_ref": ref,
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "given_names": f"Juana{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}",
        "surnames": "Quispe Huamán",
        "document_type": "dni",
        "document_number": f"{40000000 + n}",
        "sex": "f",
        "birth_date": "1980-05-01",
        "relationship": "head",
        "phone": "",
        "consent_signed_on": "2025-03-15",
        "consent_purposes": "registry,partner_sharing",
        "enrolled_on": "",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or list(SPANISH_HEADERS.values()))
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return buffer.getvalue().encode()


def upload(actor: Actor, data: bytes, name: str = "hogares.csv") -> ImportJob:
    return import_job_create(actor=actor, upload=SimpleUploadedFile(name, data), filename=name)


def families(count: int, bad: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [person(f"H-{n}", n, **(bad or {}).get(n, {})) for n in range(count)]


def checked(actor: Actor, rows: list[dict[str, Any]], **options: Any) -> ImportJob:
    job = upload(actor, csv_bytes(rows))
    import_job_run(job.pk, **options)
    job.refresh_from_db()
    return job


def confirmed(actor: Actor, job: ImportJob, **options: Any) -> ImportJob:
    import_job_confirm(actor=actor, job=job)
    import_job_run(job.pk, **options)
    job.refresh_from_db()
    return job


# --- the check ---------------------------------------------------------------------------------


def test_check_reports_every_error_even_after_row_500(actor: Actor) -> None:
    rows = families(650, bad={620: {"birth_date": "31/02/1980"}, 3: {"sex": "x"}})
    job = checked(actor, rows, chunk_size=100)
    assert job.status == JobStatus.SUCCEEDED and job.awaiting_confirmation
    assert job.summary["new"] == 648 and job.summary["with_errors"] == 2
    assert job.summary["rows"] == 650 and job.total == 650 and job.done == 650
    issues = {(i.row, i.column, i.code) for i in job.issues.all()}
    # row numbers as the spreadsheet shows them (header = 1)
    assert (622, "birth_date", "invalid") in issues
    assert (5, "sex", "invalid_choice") in issues
    assert not Household.objects.exists()  # a check writes nothing


def test_check_refuses_an_unusable_file_at_upload(actor: Actor) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        upload(actor, b"nombre,apellido\nx,y\n")
    assert caught.value.error_dict["file"][0].code == "missing_columns"


def test_rows_of_a_household_must_be_together(actor: Actor) -> None:
    rows = [person("A", 1), person("B", 2), person("A", 3, relationship="child")]
    job = checked(actor, rows)
    assert [(i.row, i.code) for i in job.issues.all()] == [(4, "not_together")]


def test_duplicate_id_in_file_and_in_registry(actor: Actor) -> None:
    job = checked(actor, [person("A", 1), person("B", 1)])
    assert [(i.row, i.column, i.code) for i in job.issues.all()] == [
        (3, "document_number", "duplicate")
    ]
    confirmed(actor, job)
    again = checked(actor, [person("C", 1)])
    issue = again.issues.get()
    assert issue.code == "duplicate" and "HH-" in issue.message


def test_the_import_trusts_the_check_for_ids_and_catches_one_registered_since(
    actor: Actor,
) -> None:
    job = checked(actor, families(6), chunk_size=3)
    assert job.summary["taken_ids"] == 0
    # the second chunk's ID is registered between the check and the import
    household_register(
        actor=actor,
        program="pirdais",
        district="080910",
        members=[
            {
                "given_names": "Rosa",
                "surnames": "Mamani Ccori",
                "document_type": "dni",
                "document_number": "40000004",
                "sex": "f",
                "birth_date": date(1975, 1, 1),
                "relationship": "head",
                "phone": "",
            }
        ],
        consent={"signed_on": date(2025, 1, 1), "purposes": ["registry"]},
    )
    job = confirmed(actor, job, chunk_size=3)
    assert job.status == JobStatus.SUCCEEDED
    assert job.summary["created"] == 5
    assert [(i.row, i.column, i.code) for i in job.issues.all()] == [
        (6, "document_number", "duplicate")
    ]
    assert Household.objects.filter(import_ref__startswith="H-").count() == 5


def test_the_import_looks_ids_up_again_when_the_check_found_some_taken(
    actor: Actor, monkeypatch: Any
) -> None:
    confirmed(actor, checked(actor, [person("A", 1)]))
    job = checked(actor, [person("B", 1), person("C", 2)])
    assert job.summary["taken_ids"] == 1
    look_ups: list[bool] = []
    real = pipeline._process_staged

    def spy(*args: Any, **kwargs: Any) -> bool:
        look_ups.append(kwargs["look_up_ids"])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_process_staged", spy)
    job = confirmed(actor, job)
    assert look_ups == [True] and job.summary["created"] == 1


def _count_cleaning(monkeypatch: Any) -> dict[str, int]:
    calls = {"payload": 0, "validate": 0}
    payload, validate = pipeline._payload, pipeline._validate

    def counted_payload(*args: Any) -> Any:
        calls["payload"] += 1
        return payload(*args)

    def counted_validate(*args: Any) -> None:
        calls["validate"] += 1
        validate(*args)

    monkeypatch.setattr(pipeline, "_payload", counted_payload)
    monkeypatch.setattr(pipeline, "_validate", counted_validate)
    return calls


def test_the_import_copies_the_checked_rows_without_cleaning_them_again(
    actor: Actor, monkeypatch: Any
) -> None:
    rows = families(9, bad={4: {"sex": ""}})
    job = checked(actor, rows, chunk_size=4)
    assert job.stages.count() == 3
    calls = _count_cleaning(monkeypatch)
    job = confirmed(actor, job, chunk_size=4)
    assert calls == {"payload": 0, "validate": 0}
    assert job.status == JobStatus.SUCCEEDED and job.summary["created"] == 8
    assert job.summary["imported"]["with_errors"] == 1
    assert [(i.row, i.column, i.code) for i in job.issues.all()] == [(6, "sex", "invalid_choice")]
    assert Member.objects.filter(household__import_ref__startswith="H-").count() == 8
    assert Consent.objects.filter(household__import_ref__startswith="H-").count() == 8
    assert not job.stages.exists()  # dropped once the import is done
    again = confirmed(actor, checked(actor, rows, chunk_size=4), chunk_size=4)
    assert again.summary["created"] == 0 and again.summary["already_imported"] == 8


def test_the_check_validates_ahead_but_not_the_households_already_imported(
    actor: Actor,
) -> None:
    # The helper thread validates every household of the next chunk before the job's thread
    # knows which ones an earlier import made: their validation errors are dropped.
    rows = families(4)
    confirmed(actor, checked(actor, rows[:3]))
    ctx = pipeline.Context(actor, today=date(2020, 1, 1))  # the consents are "future" then
    results: list[pipeline.ChunkResult] = []
    totals = pipeline.run(
        ctx,
        io.BytesIO(csv_bytes(rows)),
        "hogares.csv",
        write=False,
        on_chunk=lambda result, _chunk: results.append(result),
        chunk_size=2,
    )
    assert (totals.already_imported, totals.new, totals.with_errors) == (3, 0, 1)
    issues = [(i.household_ref, i.code) for r in results for i in r.issues]
    assert issues == [("H-3", "future_date")]


def test_the_staged_chunks_are_imported_whatever_the_import_chunk_size(
    actor: Actor, monkeypatch: Any
) -> None:
    job = checked(actor, families(6), chunk_size=3)
    calls = _count_cleaning(monkeypatch)
    job = confirmed(actor, job, chunk_size=2)  # the check's chunks are written as staged
    assert calls == {"payload": 0, "validate": 0} and job.summary["created"] == 6


def test_a_chunk_the_check_did_not_stage_today_is_checked_again_in_full(
    actor: Actor, monkeypatch: Any
) -> None:
    job = checked(actor, families(6), chunk_size=3)
    job.stages.filter(first_row__gt=2).update(checked_on=date(2020, 1, 1))  # a day's rules
    calls = _count_cleaning(monkeypatch)
    job = confirmed(actor, job, chunk_size=3)
    assert calls == {"payload": 3, "validate": 3} and job.summary["created"] == 6
    assert Household.objects.count() == 6


def test_a_programme_closed_since_the_check_is_checked_again_in_full(actor: Actor) -> None:
    job = checked(actor, families(3))
    Program.objects.filter(code="pirdais").update(is_active=False)
    job = confirmed(actor, job)
    assert job.summary["created"] == 0
    assert {i.code for i in job.issues.all()} == {"does_not_exist"}


# --- confirm, re-import, cancel, resume --------------------------------------------------------


def test_confirm_imports_without_a_new_upload_and_a_reimport_creates_nothing(
    actor: Actor,
) -> None:
    rows = families(30, bad={7: {"sex": ""}})
    job = confirmed(actor, checked(actor, rows, chunk_size=8), chunk_size=8)
    assert job.status == JobStatus.SUCCEEDED and job.phase == ImportPhase.IMPORT
    assert job.summary["created"] == 29 and job.resume_row == 31
    assert Household.objects.count() == 29 and Member.objects.count() == 29
    assert Consent.objects.count() == 29
    assert job.issues.filter(row=9).exists()
    again = checked(actor, rows)
    assert again.summary["new"] == 0 and again.summary["already_imported"] == 29
    again = confirmed(actor, again)
    assert again.summary["created"] == 0 and Household.objects.count() == 29


def test_cancel_a_checked_job_and_a_running_import(actor: Actor, monkeypatch: Any) -> None:
    job = checked(actor, families(5))
    import_job_cancel(actor=actor, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED

    job = checked(actor, families(30), chunk_size=10)
    import_job_confirm(actor=actor, job=job)
    from registry import jobs

    asked = iter([False, False, True])
    monkeypatch.setattr(jobs, "cancelled", lambda _job: next(asked, True))
    import_job_run(job.pk, chunk_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert Household.objects.count() == 20  # two chunks committed, then it stopped


def test_resume_after_a_crash_mid_chunk_without_duplicates(actor: Actor, monkeypatch: Any) -> None:
    rows = families(25)
    job = checked(actor, rows, chunk_size=10)
    import_job_confirm(actor=actor, job=job)
    real = pipeline.copy_rows
    calls = {"n": 0}

    def crash_in_second_chunk(model: Any, fields: Any, objects: Any, **kwargs: Any) -> None:
        real(model, fields, objects, **kwargs)
        if model is ChangeRecord:
            calls["n"] += 1
            if calls["n"] == 2:  # the second chunk's households and members are written
                raise RuntimeError("worker lost")

    monkeypatch.setattr(pipeline, "copy_rows", crash_in_second_chunk)
    with pytest.raises(RuntimeError):
        import_job_run(job.pk, chunk_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.resume_row == 11
    assert Household.objects.count() == 10  # the crashed chunk rolled back whole
    monkeypatch.setattr(pipeline, "copy_rows", real)
    import_job_resume(actor=actor, job=job)
    import_job_run(job.pk, chunk_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.summary["created"] == 25
    assert Household.objects.count() == 25
    assert Member.objects.values("document_index").distinct().count() == 25


def test_a_staged_import_resumes_after_a_crash_without_duplicates(
    actor: Actor, monkeypatch: Any
) -> None:
    job = checked(actor, families(25), chunk_size=10)
    import_job_confirm(actor=actor, job=job)
    real = pipeline.copy_rows

    def crash_on_second_history(model: Any, fields: Any, rows: Any, **kwargs: Any) -> None:
        real(model, fields, rows, **kwargs)
        if model is ChangeRecord and Household.objects.count() > 10:
            raise RuntimeError("worker lost")

    monkeypatch.setattr(pipeline, "copy_rows", crash_on_second_history)
    with pytest.raises(RuntimeError):
        import_job_run(job.pk, chunk_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.resume_row == 11
    assert Household.objects.count() == 10 and job.stages.count() == 3
    monkeypatch.setattr(pipeline, "copy_rows", real)
    calls = _count_cleaning(monkeypatch)
    import_job_resume(actor=actor, job=job)
    import_job_run(job.pk, chunk_size=10)
    job.refresh_from_db()
    assert calls == {"payload": 0, "validate": 0}
    assert job.status == JobStatus.SUCCEEDED and job.summary["created"] == 25
    assert Household.objects.count() == 25
    assert Member.objects.values("document_index").distinct().count() == 25


def test_a_household_code_taken_since_it_was_drawn_is_drawn_again(
    actor: Actor, monkeypatch: Any
) -> None:
    confirmed(actor, checked(actor, families(2)))
    taken = Household.objects.order_by("code")[0].code
    free = ["HH-0000000001", "HH-0000000002", "HH-0000000003"]
    assert pipeline._codes(3, free) == free  # none taken: kept, in order
    codes = pipeline._codes(3, [free[0], taken, free[1]])
    assert len(set(codes)) == 3 and taken not in codes and codes[:2] == free[:2]
    # In an import: the chunk's rows, drawn ahead with a taken code, are made again.
    draws = iter([[taken, "HH-00000000T1", "HH-00000000T2"]])
    real = pipeline._draw_codes
    monkeypatch.setattr(pipeline, "_draw_codes", lambda count: next(draws, None) or real(count))
    job = confirmed(actor, checked(actor, [person(f"N-{n}", 10 + n) for n in range(3)]))
    assert job.summary["created"] == 3
    created = Household.objects.filter(import_ref__startswith="N-")
    assert taken not in {h.code for h in created} and len({h.code for h in created}) == 3
    for household in created:
        record = ChangeRecord.objects.get(object_id=str(household.pk))
        assert record.object_repr.startswith(household.code)


def test_a_worker_redelivering_a_running_import_resumes(actor: Actor) -> None:
    job = checked(actor, families(12))
    import_job_confirm(actor=actor, job=job)
    import_job_run(job.pk, chunk_size=5)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, resume_row=6)
    import_job_run(job.pk, chunk_size=5)  # the task delivered again: nothing twice
    assert Household.objects.count() == 12


# --- the same rows as the service --------------------------------------------------------------


FIELDS_HOUSEHOLD = [
    "program_id",
    "district_id",
    "community",
    "status",
    "stage",
    "stage_since",
    "enrolled_on",
    "milestones",
    "head_name",
    "head_name_search",
    "names_search",
    "import_ref",
    "request_hash",
    "created_by_id",
    "created_by_key_id",
    "version",
]
FIELDS_MEMBER = [
    "given_names",
    "surnames",
    "document_type",
    "document_number",
    "document_index",
    "sex",
    "birth_date",
    "relationship",
    "phone",
    "phone_index",
    "is_head",
    "is_active",
    "is_live",
]


def _snapshot(household: Household) -> dict[str, Any]:
    members = sorted(
        ({f: getattr(m, f) for f in FIELDS_MEMBER} for m in household.members.all()),
        key=lambda m: m["given_names"],
    )
    consent = household.consents.get()
    record = ChangeRecord.objects.get(object_id=str(household.pk))
    return {
        "household": {f: getattr(household, f) for f in FIELDS_HOUSEHOLD},
        "members": members,
        "consent": {
            f: getattr(consent, f)
            for f in ["signed_on", "purposes", "notice_version", "language", "officer_id", "reason"]
        },
        "keys": sorted(DedupKey.objects.filter(household=household).values_list("key", flat=True)),
        "duplicates": sorted(
            (str(d.candidate_id), d.score, tuple(d.reasons))
            for d in PossibleDuplicate.objects.filter(household=household)
        ),
        "history": (record.action, record.changes, record.channel, record.created_by_id),
        "outbox": OutboxMessage.objects.filter(
            topic="transition.recompute", payload__household_ids__contains=[str(household.pk)]
        ).count()
        if connection.vendor == "postgresql"
        else sum(
            str(household.pk) in m.payload.get("household_ids", [])
            for m in OutboxMessage.objects.filter(topic="transition.recompute")
        ),
    }


def test_an_imported_household_equals_one_registered_through_the_service(
    actor: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    # someone similar already registered: both ways find the same possible duplicate
    neighbour, _created = household_register(
        actor=actor,
        program="pirdais",
        district="080910",
        members=[
            {
                "given_names": "Juana",
                "surnames": "Quispe Huaman",
                "document_type": "dni",
                "document_number": "11111111",
                "sex": "f",
                "birth_date": date(1980, 6, 1),
                "relationship": "head",
                "phone": "",
            }
        ],
        consent={"signed_on": date(2025, 1, 1), "purposes": ["registry"]},
    )
    rows = [
        person("F-1", 0, given_names="Juana", phone="987 654 321", enrolled_on="2024-08-01"),
        person(
            "F-1",
            1,
            given_names="Pedro",
            surnames="Mamani Ccori",
            sex="m",
            relationship="spouse",
            birth_date="20/11/1978",
            consent_signed_on="",
            consent_purposes="",
        ),
    ]
    with transaction.atomic():
        report = import_households(
            actor=actor, source=csv_bytes(rows), filename="a.csv", dry_run=False
        )
        assert report.households_created == 1
        by_service = _snapshot(Household.objects.get(import_ref="F-1"))
        transaction.set_rollback(True)
    assert not Household.objects.filter(import_ref="F-1").exists()
    with django_capture_on_commit_callbacks() as callbacks:
        job = confirmed(actor, checked(actor, rows))
    assert job.summary["created"] == 1
    # near matches are queued by a task once the chunk commits (its outbox message)
    message = OutboxMessage.objects.get(topic=pipeline.DUPLICATES_TOPIC)
    assert callbacks and pipeline.find_possible_duplicates(**message.payload) == 1
    by_job = _snapshot(Household.objects.get(import_ref="F-1"))
    assert by_job["household"] == by_service["household"]
    assert by_job == by_service
    assert by_job["duplicates"] and by_job["duplicates"][0][0] == str(neighbour.pk)
    assert by_job["outbox"] == 1


# --- the XLSX error report and the template ----------------------------------------------------


def test_error_report_xlsx_puts_the_errors_beside_the_cells(actor: Actor) -> None:
    rows = families(520, bad={510: {"birth_date": "ayer"}})
    job = checked(actor, rows, chunk_size=200)
    sheet = load_workbook(io.BytesIO(error_workbook(job))).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[0] == "Fila" and header[-1] == "Errores"
    assert "Fecha de nacimiento" in header
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(lines) == 1 and lines[0][0] == 512
    assert "dd/mm/aaaa" in lines[0][-1] or "AAAA" in lines[0][-1].upper()
    cell = sheet.cell(row=2, column=header.index("Fecha de nacimiento") + 1)
    assert cell.value == "ayer" and cell.comment is not None


def test_template_is_in_spanish_with_drop_downs_and_imports_as_is(actor: Actor) -> None:
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == list(SPANISH_HEADERS.values())
    validated = {
        str(v.sqref).split(":")[0].rstrip("0123456789")
        for v in sheet.data_validations.dataValidation
    }
    letters = {name: chr(65 + i) for i, name in enumerate(SPANISH_HEADERS)}
    for column in (
        "program",
        "district",
        "document_type",
        "sex",
        "relationship",
        "consent_purposes",
    ):
        assert letters[column] in validated, column
    assert sheet["I2"].value == "Femenino" and sheet["K3"].value == "Cónyuge o conviviente"
    data = io.BytesIO()
    workbook.save(data)
    job = upload(actor, data.getvalue(), "plantilla.xlsx")
    import_job_run(job.pk)
    job.refresh_from_db()
    assert list(job.issues.values_list("code", flat=True)) == []
    assert job.summary["new"] == 1


def test_english_headers_still_work(actor: Actor) -> None:
    job = upload(actor, csv_bytes([person("H", 1)], header=COLUMNS))
    import_job_run(job.pk)
    job.refresh_from_db()
    assert job.summary["new"] == 1


# --- queries per chunk -------------------------------------------------------------------------


def _queries(actor: Actor, count: int, offset: int) -> int:
    # born two years apart: no near matches, so the chunk writes the same kinds of rows
    rows = [
        person(f"Q{offset}-{n}", offset + n, birth_date=f"{1935 + 2 * n}-01-01")
        for n in range(count)
    ]
    ctx = pipeline.Context(actor)
    handle = io.BytesIO(csv_bytes(rows))
    with CaptureQueriesContext(connection) as queries:
        pipeline.run(ctx, handle, "q.csv", write=True, on_chunk=lambda r, c: None, chunk_size=1000)
    return len(queries)


def test_queries_per_chunk_do_not_grow_with_its_households(actor: Actor) -> None:
    _queries(actor, 1, 500)  # the actor's areas, read once per job
    small = _queries(actor, 3, 1000)
    large = _queries(actor, 30, 2000)
    assert small == large
    assert large <= 20


# --- the admin's job history and progress ------------------------------------------------------


def test_job_history_status_and_error_pages_in_the_admin(actor: Actor) -> None:
    from django.test import Client
    from django.urls import reverse

    root = UserFactory.create(username="raiz", is_staff=True, is_superuser=True)
    job = checked(Actor.for_user(root), families(3, bad={1: {"sex": "x"}}))
    client = Client()
    client.force_login(root)
    history = client.get(reverse("admin:farmers_importjob_changelist"))
    assert history.status_code == 200 and b"hogares.csv" in history.content
    status = client.get(reverse("admin:farmers_household_import_status", args=[job.pk])).json()
    assert status["status"] == "succeeded" and status["done"] == 3 and status["percent"] == 100
    page = client.get(reverse("admin:farmers_household_import_job", args=[job.pk]))
    assert "Femenino" in page.content.decode()  # the choice error names the labels
    download = client.get(reverse("admin:farmers_household_import_errors", args=[job.pk]))
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(download.content)).worksheets[0].max_row == 2
    # someone else's job is not found
    client.force_login(UserFactory.create(username="otra", is_staff=True))
    other = client.get(reverse("admin:farmers_household_import_job", args=[job.pk]))
    assert other.status_code in (403, 404)


def test_old_uploads_are_deleted_but_not_one_awaiting_confirmation(
    actor: Actor, settings: Any, tmp_path: Any
) -> None:
    """Uploads hold personal data: a finished import's file goes after
    JOB_FILE_RETENTION_DAYS, its job and row errors stay; a checked file still awaiting its
    confirmation is kept, so the confirmation still works."""
    from datetime import timedelta
    from pathlib import Path

    from django.utils import timezone

    from farmers.tasks import prune_import_files

    settings.MEDIA_ROOT = str(tmp_path)
    imported = confirmed(actor, checked(actor, families(3)))
    waiting = checked(actor, [person(f"W-{n}", n) for n in range(10, 12)])
    long_ago = timezone.now() - timedelta(days=settings.JOB_FILE_RETENTION_DAYS + 1)
    ImportJob.objects.filter(pk__in=[imported.pk, waiting.pk]).update(finished_at=long_ago)
    imported_path = Path(ImportJob.objects.get(pk=imported.pk).file.path)
    assert imported_path.exists()

    assert prune_import_files() == 1

    assert not imported_path.exists()
    assert ImportJob.objects.get(pk=imported.pk).file.name == ""
    assert ImportJob.objects.get(pk=waiting.pk).file.name != ""
    assert confirmed(actor, ImportJob.objects.get(pk=waiting.pk)).summary["created"] == 2


def test_a_households_keys_go_with_it_without_a_database_constraint(actor: Actor) -> None:
    # DedupKey.household has no database constraint (its check at commit was half the cost of
    # writing the keys): the ORM's cascade removes a deleted household's keys.
    rows = [person("K-1", 0), person("K-2", 1, surnames="Rojas Pari", birth_date="1990-02-02")]
    checked_job = confirmed(actor, checked(actor, rows))
    assert checked_job.summary["created"] == 2
    gone, kept = Household.objects.get(import_ref="K-1"), Household.objects.get(import_ref="K-2")
    assert DedupKey.objects.filter(household=gone).exists()
    # (A household with members or consents cannot be deleted: they are protected.)
    Member.objects.filter(household=gone).delete()
    Consent.objects.filter(household=gone).delete()
    Household.objects.filter(pk=gone.pk).delete()
    assert not DedupKey.objects.filter(household_id=gone.pk).exists()
    assert DedupKey.objects.filter(household=kept).exists()
