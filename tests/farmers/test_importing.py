"""Household import from CSV and XLSX: dry run, import, idempotent re-run, per-row errors, the
management command, the template and the admin upload."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from farmers import importing
from farmers.importing import COLUMN_NAMES, import_households, imported_household, reading, writing
from farmers.importing.columns import SPANISH_HEADERS
from farmers.models import Consent, Household, Member
from farmers.services import household_register
from registry.actors import Actor
from registry.choices import Role
from registry.exceptions import PermissionDenied
from registry.models import ChangeRecord, Membership, Organization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Row = dict[str, Any]


# --- fixtures and file builders ------------------------------------------------------------


@pytest.fixture
def officer(partner: Organization) -> Any:
    """A field officer of the implementer working in Pichari and Kimbiri (programme pirdais)."""
    user = UserFactory.create(username="tecnico")
    Membership.objects.create(user=user, organization=partner, role=Role.FIELD_OFFICER)
    return user


@pytest.fixture
def actor(officer: Any) -> Actor:
    return Actor.for_user(officer)


@pytest.fixture
def root(program: Any) -> Any:
    return UserFactory.create(username="root", is_staff=True, is_superuser=True)


def member_row(ref: str = "H-1", **values: Any) -> Row:
    row: Row = {
        "household_ref": ref,
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "given_names": "Juana",
        "surnames": "Quispe Huamán",
        "document_type": "dni",
        "document_number": "10117410",
        "sex": "f",
        "birth_date": "1980-05-01",
        "relationship": "head",
        "phone": "987 654 321",
        "consent_signed_on": "2025-03-15",
        "consent_purposes": "registry,partner_sharing",
    }
    row.update(values)
    return row


def sample_rows() -> list[Row]:
    """H-1: a head and a spouse in Pichari (file rows 2 and 3); H-2: a head in Kimbiri (row 4)."""
    return [
        member_row(),
        member_row(
            given_names="Pedro",
            surnames="Mamani Ccori",
            document_number="42345678",
            sex="m",
            birth_date="1978-11-20",
            relationship="spouse",
            phone="",
            consent_signed_on="",
            consent_purposes="",
        ),
        member_row(
            "H-2",
            district="080907",
            community="Palestina",
            given_names="Rosa",
            surnames="Huamán Ccoyllo",
            document_number="40123456",
            birth_date="15/08/1990",
            phone="",
        ),
    ]


def csv_bytes(
    rows: list[Row],
    *,
    delimiter: str = ",",
    bom: bool = False,
    header: list[str] | None = None,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header or COLUMN_NAMES)
    for row in rows:
        writer.writerow([row.get(name, "") for name in COLUMN_NAMES])
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(rows: list[Row]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        sheet.append([row.get(name) for name in COLUMN_NAMES])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(actor: Actor, rows: list[Row], *, dry_run: bool = False) -> importing.ImportReport:
    return import_households(
        actor=actor, source=csv_bytes(rows), filename="hogares.csv", dry_run=dry_run
    )


def outcomes(report: importing.ImportReport) -> list[tuple[int, str, str]]:
    return [(r.row, r.household_ref, r.outcome) for r in report.rows]


def errors(report: importing.ImportReport) -> set[tuple[int, str, str]]:
    return {(r.row, e.column, e.code) for r in report.rows for e in r.errors}


# --- service: dry run, import, idempotency ---------------------------------------------------


def test_dry_run_reports_outcomes_and_writes_nothing(actor: Actor) -> None:
    report = run(actor, sample_rows(), dry_run=True)
    assert report.dry_run
    assert outcomes(report) == [
        (2, "H-1", "created"),
        (3, "H-1", "created"),
        (4, "H-2", "created"),
    ]
    assert (report.households_created, report.households_with_errors) == (2, 0)
    assert not report.has_errors
    assert all(r.household_code == "" for r in report.rows)
    assert not Household.objects.exists()
    assert not Member.objects.exists()
    assert not ChangeRecord.objects.exists()


def test_import_creates_households_with_members_and_consent(actor: Actor, officer: Any) -> None:
    report = run(actor, sample_rows())
    assert outcomes(report) == [
        (2, "H-1", "created"),
        (3, "H-1", "created"),
        (4, "H-2", "created"),
    ]
    household = Household.objects.get(program__code="pirdais", import_ref="H-1")
    assert (household.district_id, household.community, household.program.code) == (
        "080910",
        "Natividad",
        "pirdais",
    )
    assert household.created_by == officer
    assert household.head_name == "Juana Quispe Huamán"
    assert report.rows[0].household_code == household.code
    assert report.rows[0].household_id == str(household.pk)
    members = {m.document_number: m for m in household.members.all()}
    assert set(members) == {"10117410", "42345678"}
    assert members["10117410"].is_head and members["10117410"].phone == "+51987654321"
    assert members["42345678"].relationship == "spouse"
    consent = Consent.objects.get(household=household)
    assert (consent.signed_on, consent.purposes) == (
        date(2025, 3, 15),
        ["partner_sharing", "registry"],
    )
    second = Household.objects.get(program__code="pirdais", import_ref="H-2")
    assert second.members.get().birth_date == date(1990, 8, 15)
    assert ChangeRecord.objects.filter(object_id=str(household.pk), channel="import").exists()


def test_rerun_is_idempotent(actor: Actor) -> None:
    run(actor, sample_rows())
    counts = (Household.objects.count(), Member.objects.count(), Consent.objects.count())
    again = run(actor, sample_rows())
    assert [o for _r, _ref, o in outcomes(again)] == ["already_imported"] * 3
    assert (again.households_created, again.households_already_imported) == (0, 2)
    assert not again.has_errors
    assert (Household.objects.count(), Member.objects.count(), Consent.objects.count()) == counts
    dry = run(actor, sample_rows(), dry_run=True)
    assert [o for _r, _ref, o in outcomes(dry)] == ["already_imported"] * 3


def test_a_household_changed_since_its_import_is_reported(actor: Actor) -> None:
    run(actor, sample_rows())
    rows = sample_rows()
    rows[0]["community"] = rows[1]["community"] = "Otra"
    report = run(actor, rows)
    assert (2, "household_ref", "idempotency_conflict") in errors(report)
    assert outcomes(report)[2] == (4, "H-2", "already_imported")
    assert Household.objects.count() == 2


def test_progress_is_reported(actor: Actor) -> None:
    calls: list[tuple[int, int]] = []
    import_households(
        actor=actor,
        source=csv_bytes(sample_rows()),
        filename="h.csv",
        dry_run=True,
        progress=lambda done, total: calls.append((done, total)),
        progress_every=1,
    )
    assert calls == [(1, 2), (2, 2)]


# --- file formats ----------------------------------------------------------------------------


def test_xlsx_round_trip_with_real_dates_and_numeric_cells(actor: Actor) -> None:
    rows = sample_rows()
    rows[0].update(birth_date=date(1980, 5, 1), district=80910, phone=987654321)
    rows[1].update(birth_date=date(1978, 11, 20), district=80910)
    # A number cell loses a DNI's leading zero: the import puts it back.
    rows[2].update(document_number=1234567, birth_date=date(1990, 8, 15), district=80907)
    data = xlsx_bytes(rows)
    dry = import_households(actor=actor, source=data, filename="hogares.xlsx", dry_run=True)
    assert [o for _r, _ref, o in outcomes(dry)] == ["created"] * 3
    assert not Household.objects.exists()
    report = import_households(actor=actor, source=data, filename="hogares.xlsx", dry_run=False)
    assert outcomes(report) == outcomes(dry)
    by_id = {m.document_number: m for m in Member.objects.all()}
    assert by_id["01234567"].household.district_id == "080907"
    assert by_id["10117410"].phone == "+51987654321"
    again = import_households(actor=actor, source=data, filename="hogares.xlsx", dry_run=False)
    assert [o for _r, _ref, o in outcomes(again)] == ["already_imported"] * 3


def test_semicolon_csv_with_bom_spanish_headers_and_values(actor: Actor) -> None:
    header = [
        "Ref. hogar",
        "Programa",
        "Ubigeo",
        "Comunidad",
        "Nombres",
        "Apellidos",
        "Tipo de documento",
        "Número de documento",
        "Sexo",
        "Fecha de nacimiento",
        "Parentesco",
        "Teléfono",
        "Fecha consentimiento",
        "Finalidades",
    ]
    rows = sample_rows()[:2]
    rows[0].update(sex="F", relationship="Jefa de hogar", birth_date="01/05/1980")
    rows[0]["program"] = "PIRDAIS"  # codes match whatever the case
    rows[0]["consent_purposes"] = "registry, partner_sharing"
    rows[1].update(sex="M", relationship="Cónyuge", birth_date="20/11/1978")
    data = csv_bytes(rows, delimiter=";", bom=True, header=header)
    assert data.startswith(b"\xef\xbb\xbf")
    report = import_households(actor=actor, source=data, filename="hogares.csv", dry_run=False)
    assert not report.has_errors, report.rows
    household = Household.objects.get()
    assert household.import_ref == "H-1"
    assert {(m.sex, m.relationship) for m in household.members.all()} == {
        ("f", "head"),
        ("m", "spouse"),
    }
    assert household.consents.get().purposes == ["partner_sharing", "registry"]


def test_unknown_columns_are_ignored_and_listed(actor: Actor) -> None:
    header = [*COLUMN_NAMES, "observaciones"]
    report = import_households(
        actor=actor,
        source=csv_bytes(sample_rows(), header=header),
        filename="h.csv",
        dry_run=True,
    )
    assert report.ignored_columns == ["observaciones"]
    assert not report.has_errors


def _too_many_rows(monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, str]:
    monkeypatch.setattr(reading, "MAX_ROWS", 2)
    return csv_bytes(sample_rows()), "h.csv"


def _too_large(monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, str]:
    monkeypatch.setattr(reading, "MAX_BYTES", 100)
    return csv_bytes(sample_rows()), "h.csv"


FileCase = Callable[[pytest.MonkeyPatch], tuple[bytes, str]]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda mp: (b"household_ref,program\nH-1,pirdais\n", "h.csv"), "missing_columns"),
        (lambda mp: (b"", "h.csv"), "empty_file"),
        (lambda mp: (",".join(COLUMN_NAMES).encode() + b"\n", "h.csv"), "no_rows"),
        (lambda mp: (b"\xd0\xcf\x11\xe0 old excel", "h.xls"), "unsupported_format"),
        (lambda mp: (b"PK\x03\x04 not really a zip", "h.xlsx"), "invalid_file"),
        (lambda mp: (b"%PDF-1.4", "h.pdf"), "unsupported_format"),
        (_too_many_rows, "too_many_rows"),
        (_too_large, "file_too_large"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_error(
    actor: Actor, monkeypatch: pytest.MonkeyPatch, make: FileCase, code: str
) -> None:
    data, filename = make(monkeypatch)
    with pytest.raises(ValidationError) as caught:
        import_households(actor=actor, source=data, filename=filename, dry_run=True)
    assert caught.value.code == code
    assert caught.value.messages[0]


# --- per-row errors --------------------------------------------------------------------------


def _set(index: int, **values: Any) -> Callable[[list[Row]], None]:
    def change(rows: list[Row]) -> None:
        rows[index].update(values)

    return change


def _set_household(**values: Any) -> Callable[[list[Row]], None]:
    def change(rows: list[Row]) -> None:
        for row in rows[:2]:
            row.update(values)

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(0, document_number="101174103"), (2, "document_number", "invalid_checksum")),
        (_set(0, document_number="1011741"), (2, "document_number", "invalid_length")),
        (_set(1, birth_date="31/02/1980"), (3, "birth_date", "invalid")),
        (_set(1, birth_date="el año pasado"), (3, "birth_date", "invalid")),
        (_set(1, birth_date="2999-01-01"), (3, "birth_date", "future_date")),
        (_set(1, sex="x"), (3, "sex", "invalid_choice")),
        (_set(1, phone="12345"), (3, "phone", "invalid_phone")),
        (_set(1, given_names=""), (3, "given_names", "required")),
        (_set(0, relationship="child"), (2, "relationship", "one_head")),
        (_set(1, relationship="head"), (2, "relationship", "one_head")),
        (_set(0, document_number="", document_type=""), (2, "document_number", "required")),
        (_set(1, document_number="10117410"), (3, "document_number", "duplicate_in_request")),
        (_set(0, consent_purposes="partner_sharing"), (2, "consent_purposes", "registry_required")),
        (_set(0, consent_signed_on="2999-01-01"), (2, "consent_signed_on", "future_date")),
        # No consent at all (issue 19): refused like on every other channel.
        (
            _set(0, consent_signed_on="", consent_purposes=""),
            (2, "consent_signed_on", "consent_required"),
        ),
        (_set(1, community="Otra"), (3, "community", "inconsistent")),
        (_set_household(district="999999"), (2, "district", "does_not_exist")),
        (_set_household(district=""), (2, "district", "required")),
        (_set_household(program="nada"), (2, "program", "does_not_exist")),
        # Sivia (Ayacucho) is outside the officer's districts.
        (_set_household(district="050407"), (2, "district", "out_of_area")),
    ],
)
def test_row_errors_point_at_the_row_and_column(
    actor: Actor, change: Callable[[list[Row]], None], expected: tuple[int, str, str]
) -> None:
    rows = sample_rows()
    change(rows)
    dry = run(actor, rows, dry_run=True)
    assert expected in errors(dry), dry.rows
    report = run(actor, rows)
    assert errors(report) == errors(dry)
    assert [o for _r, _ref, o in outcomes(report)] == ["error", "error", "created"]
    # Both rows of the failed household say why (its own error, or "household_not_imported").
    assert {r.row for r in report.rows if r.errors} == {2, 3}
    assert report.has_errors and report.households_with_errors == 1
    assert list(Household.objects.values_list("import_ref", flat=True)) == ["H-2"]


def test_a_row_without_household_ref_is_an_error(actor: Actor) -> None:
    rows = sample_rows()
    rows[2]["household_ref"] = ""
    report = run(actor, rows)
    assert (4, "household_ref", "required") in errors(report)
    assert report.households_created == 1


def test_an_id_already_registered_is_a_row_error(actor: Actor, root: Any) -> None:
    existing, _created = household_register(
        actor=Actor.for_user(root),
        program="pirdais",
        district="080910",
        members=[
            {
                "given_names": "Pedro",
                "surnames": "Mamani Ccori",
                "document_type": "dni",
                "document_number": "42345678",
                "sex": "m",
                "birth_date": date(1978, 11, 20),
                "relationship": "head",
            }
        ],
        consent={"signed_on": date(2025, 1, 2), "purposes": ["registry"]},
    )
    for dry_run in (True, False):
        report = run(actor, sample_rows(), dry_run=dry_run)
        assert errors(report) == {
            (3, "document_number", "duplicate"),
            (2, "household_ref", "household_not_imported"),
        }
        message = next(e.message for r in report.rows for e in r.errors if e.code == "duplicate")
        assert existing.code in message
        assert [o for _r, _ref, o in outcomes(report)] == ["error", "error", "created"]
    assert Household.objects.count() == 2


def test_the_same_id_in_two_households_of_the_file(actor: Actor) -> None:
    rows = sample_rows()
    rows[2]["document_number"] = "10117410"
    for dry_run in (True, False):
        report = run(actor, rows, dry_run=dry_run)
        assert errors(report) == {(4, "document_number", "duplicate")}
        assert [o for _r, _ref, o in outcomes(report)] == ["created", "created", "error"]


def test_rows_of_a_household_may_be_apart_and_leave_household_columns_blank(
    actor: Actor,
) -> None:
    rows = sample_rows()
    spouse = rows.pop(1)
    spouse.update(program="", district="", community="")
    rows.append(spouse)
    report = run(actor, rows)
    assert outcomes(report) == [(2, "H-1", "created"), (3, "H-2", "created"), (4, "H-1", "created")]
    assert Household.objects.get(program__code="pirdais", import_ref="H-1").members.count() == 2


def test_an_actor_who_may_not_register_is_refused(program: Any) -> None:
    nobody = Actor.for_user(UserFactory.create(username="nadie"))
    with pytest.raises(PermissionDenied):
        run(nobody, sample_rows(), dry_run=True)


# --- management command ----------------------------------------------------------------------


def _write(tmp_path: Path, rows: list[Row], name: str = "hogares.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows))
    return path


def _call(*args: str) -> tuple[str, str]:
    """Run the command with messages in English (the tests match English texts)."""
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        try:
            call_command("import_households", *args, stdout=out, stderr=err)
        except CommandError as exc:
            raise CommandError(str(exc)) from exc
    return out.getvalue(), err.getvalue()


def test_command_imports_then_reports_already_imported(
    tmp_path: Path, officer: Any, actor: Actor
) -> None:
    path = _write(tmp_path, sample_rows(), "hogares.xlsx")
    out, _err = _call(str(path), "--actor", officer.username, "--dry-run")
    assert "Dry run" in out and "2 would be created" in out
    assert not Household.objects.exists()
    report_path = tmp_path / "informe.csv"
    out, _err = _call(str(path), "--actor", officer.username, "--report", str(report_path))
    assert "3 / 3 rows" in out  # progress of the check, then of the import
    assert "2 created, 0 already imported, 0 with errors" in out
    assert Household.objects.count() == 2
    with report_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert lines == []  # the report lists the rows' errors: none
    out, _err = _call(str(path), "--actor", officer.username)
    assert "0 created, 2 already imported" in out
    assert Household.objects.count() == 2


def test_command_dry_run_with_errors_exits_non_zero_and_writes_the_report(
    tmp_path: Path, officer: Any
) -> None:
    rows = sample_rows()
    rows[0]["document_number"] = "101174103"
    rows[2]["birth_date"] = "1990-13-01"
    path = _write(tmp_path, rows)
    report_path = tmp_path / "informe.csv"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_households",
            str(path),
            "--actor",
            officer.username,
            "--dry-run",
            "--report",
            str(report_path),
            stdout=out,
            stderr=err,
        )
    assert caught.value.returncode == 1
    assert "3 rows have errors" in str(caught.value)
    assert "row 2, document_number" in err.getvalue()
    assert "row 4, birth_date" in err.getvalue()
    assert not Household.objects.exists()
    with report_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert {(line["row"], line["column"], line["code"]) for line in lines} == {
        ("2", "document_number", "invalid_checksum"),
        ("3", "household_ref", "household_not_imported"),
        ("4", "birth_date", "invalid"),
    }


def test_command_real_run_with_errors_imports_the_rest_and_exits_non_zero(
    tmp_path: Path, officer: Any
) -> None:
    rows = sample_rows()
    rows[2]["sex"] = "x"
    with pytest.raises(CommandError):
        _call(str(_write(tmp_path, rows)), "--actor", officer.username)
    assert Household.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give the FILE"),
        (["{file}"], "--actor"),
        (["{file}", "--actor", "fantasma"], "Unknown user"),
        (["{tmp}/no-such.csv", "--actor", "tecnico"], "No such file"),
        (["{file}", "--template", "{tmp}/t.xlsx"], "not both"),
        (["--template", "{tmp}/t.ods"], ".xlsx or .csv"),
        (["{file}", "--actor", "tecnico", "--report", "{tmp}/nope/r.csv"], "does not exist"),
        (["{bad}", "--actor", "tecnico"], "Missing columns"),
    ],
)
def test_command_bad_arguments(tmp_path: Path, officer: Any, args: list[str], message: str) -> None:
    file = _write(tmp_path, sample_rows())
    bad = tmp_path / "bad.csv"
    bad.write_text("household_ref\nH-1\n")
    values = {"file": str(file), "tmp": str(tmp_path), "bad": str(bad)}
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        _call(*[arg.format(**values) for arg in args])


def test_command_refuses_a_user_without_a_role(tmp_path: Path, program: Any) -> None:
    UserFactory.create(username="nadie")
    with pytest.raises(CommandError, match="may not register"):
        _call(str(_write(tmp_path, sample_rows())), "--actor", "nadie")


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_command_writes_a_template_that_imports_cleanly(
    tmp_path: Path, actor: Actor, suffix: str
) -> None:
    out_path = tmp_path / f"plantilla.{suffix}"
    out, _err = _call("--template", str(out_path))
    assert "Template written" in out
    data = out_path.read_bytes()
    table = importing.read_table(data, out_path.name)
    assert [row.number for row in table.rows] == [2, 3]
    assert table.rows[0].values["district"] in ("080910",)
    report = import_households(actor=actor, source=data, filename=out_path.name, dry_run=True)
    assert outcomes(report) == [(2, "H-0001", "created"), (3, "H-0001", "created")]
    if suffix == "xlsx":
        workbook = load_workbook(io.BytesIO(data))
        spanish = [SPANISH_HEADERS[name] for name in COLUMN_NAMES]
        assert [c.value for c in workbook.worksheets[0][1]] == spanish
        # the help sheet after the data sheet, the drop-downs' lists hidden last
        assert [w.sheet_state for w in workbook.worksheets] == ["visible", "visible", "hidden"]
    else:
        header = ",".join(SPANISH_HEADERS[name] for name in COLUMN_NAMES)
        assert data.startswith(b"\xef\xbb\xbf" + header.encode())


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(root: Any) -> Client:
    client = Client()
    client.force_login(root)
    return client


IMPORT_URL = "admin:farmers_household_import"


def _upload(rows: list[Row], name: str = "hogares.csv") -> SimpleUploadedFile:
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows)
    return SimpleUploadedFile(name, data)


def test_changelist_links_to_the_import(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:farmers_household_changelist"))
    assert response.status_code == 200
    assert reverse(IMPORT_URL).encode() in response.content


def test_import_page_offers_the_templates(admin_client: Client) -> None:
    response = admin_client.get(reverse(IMPORT_URL))
    assert response.status_code == 200
    for fmt in ("xlsx", "csv"):
        url = reverse("admin:farmers_household_import_template", args=[fmt])
        assert url.encode() in response.content
        download = admin_client.get(url)
        assert download.status_code == 200
        assert download["Content-Disposition"] == f'attachment; filename="plantilla_hogares.{fmt}"'
        table = importing.read_table(download.content, f"t.{fmt}")
        assert len(table.rows) == 2
    url = reverse("admin:farmers_household_import_template", args=["ods"])
    assert admin_client.get(url).status_code == 404


def _job_page(client: Client, response: Any) -> Any:
    assert response.status_code == 302, response.content
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page


def test_admin_check_then_import(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    rows = sample_rows()
    rows[2]["document_number"] = "101174103"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse(IMPORT_URL), {"file": _upload(rows, "hogares.xlsx")})
    page = _job_page(admin_client, response)
    job = page.context["job"]
    assert job.awaiting_confirmation
    assert (page.context["summary"]["new"], page.context["summary"]["with_errors"]) == (1, 1)
    assert "invalid_checksum" in {issue.code for issue, _column in page.context["issue_rows"]}
    assert b"import-confirm" in page.content
    assert not Household.objects.exists()

    confirm_url = reverse("admin:farmers_household_import_confirm", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(confirm_url)
    page = _job_page(admin_client, response)
    assert page.context["summary"]["created"] == 1
    assert Household.objects.count() == 1


def test_admin_upload_of_an_unusable_file_shows_a_form_error(admin_client: Client) -> None:
    response = admin_client.post(
        reverse(IMPORT_URL), {"file": SimpleUploadedFile("h.csv", b"household_ref\nH-1\n")}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_admin_import_needs_the_add_household_permission(
    officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    officer.is_staff = True
    officer.save()
    client = Client()
    client.force_login(officer)
    template_url = reverse("admin:farmers_household_import_template", args=["csv"])
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    assert client.get(template_url).status_code == 403
    officer.user_permissions.add(Permission.objects.get(codename="add_household"))
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    assert client.get(template_url).status_code == 200
    # The officer's own area applies: Sivia is outside it.
    rows = sample_rows()
    rows[2]["district"] = "050407"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(IMPORT_URL), {"file": _upload(rows)})
    page = _job_page(client, response)
    codes = {(i.row, i.column, i.code) for i, _column in page.context["issue_rows"]}
    assert (4, "district", "out_of_area") in codes
    assert page.context["summary"]["new"] == 1


def test_imported_ids_cannot_be_computed_from_programme_and_reference(actor: Actor) -> None:
    """Issue 13: imported households had ``uuid5(namespace, programme + ref)`` ids, so anyone
    who knew the namespace (it is in the source) could compute them. Ids are random now; the
    reference lives in its own field, and a re-import still finds the households."""
    import uuid

    run(actor, sample_rows())
    household = Household.objects.get(program__code="pirdais", import_ref="H-1")
    assert household.pk.version == 4
    legacy = uuid.uuid5(uuid.UUID("95de4783-c133-4fea-949f-fe1128914ff2"), "pirdais\x1fH-1")
    assert household.pk != legacy
    assert imported_household("pirdais", "H-1") == household
    again = run(actor, sample_rows())
    assert {o for _r, _ref, o in outcomes(again)} == {"already_imported"}
    assert Household.objects.get(import_ref="H-1").pk == household.pk


def test_households_imported_before_the_reference_field_are_found_again(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A household an older import made (``uuid5`` id, no ``import_ref``) is recognised on a
    re-import of the same file, not duplicated, and gets its reference recorded."""
    import uuid

    legacy_ns = uuid.UUID("95de4783-c133-4fea-949f-fe1128914ff2")
    real = writing.household_register

    def as_the_old_import_did(**kwargs: Any) -> Any:
        kwargs["id"] = uuid.uuid5(legacy_ns, f"{kwargs['program']}\x1f{kwargs['import_ref']}")
        kwargs["import_ref"] = ""
        return real(**kwargs)

    monkeypatch.setattr(writing, "household_register", as_the_old_import_did)
    run(actor, sample_rows())
    monkeypatch.undo()
    assert set(Household.objects.values_list("import_ref", flat=True)) == {""}
    again = run(actor, sample_rows())
    assert {o for _r, _ref, o in outcomes(again)} == {"already_imported"}
    assert Household.objects.count() == 2
    assert Household.objects.get(import_ref="H-1").pk == uuid.uuid5(legacy_ns, "pirdais\x1fH-1")
