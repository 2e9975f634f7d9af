"""Writing an import: rows grouped into households, each registered through
``services.household_register`` in its own savepoint, the service's errors put back on the file's
rows and columns (see the package docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.exceptions import Conflict, PermissionDenied, RegistryError
from registry.models import Program

from .. import policies
from ..choices import DocumentType
from ..identity import normalize_document
from ..models import Household, Member
from ..services import household_register
from .cleaning import (
    _coded,
    _date_key,
    _district,
    _document_number,
    _lower_text,
    _text,
    parse_date,
    split_purposes,
)
from .columns import choice_aliases
from .reading import SourceRow, Table, _is_blank, read_table
from .report import ImportOutcome, ImportReport, RowError, RowResult

PROGRESS_EVERY = 100
CHANNEL = "import"

# The namespace of import ids: never change it, or re-running old files would create duplicates.
# Before issue 13 imported households got uuid5(this, programme + ref) ids (guessable): kept only
# to recognise those households on a re-import (``imported_household``); new ids are random.
LEGACY_IMPORT_NAMESPACE = uuid.UUID("95de4783-c133-4fea-949f-fe1128914ff2")

ProgressCallback = Callable[[int, int], None]


def imported_household(program: str, household_ref: str) -> Household | None:
    """The household an earlier import made for (programme, household_ref), or ``None``.

    Found by ``import_ref``; households imported before that field existed were given
    ``uuid5(programme, ref)`` ids: such a one is found by that id once and gets its reference
    recorded, so re-importing an old file stays idempotent.
    """
    ref = household_ref.strip()[:100]
    found = Household.objects.filter(program__code=program, import_ref=ref).first()
    if found is not None:
        return found
    legacy = uuid.uuid5(LEGACY_IMPORT_NAMESPACE, f"{program}\x1f{household_ref}")
    found = Household.objects.filter(pk=legacy, program__code=program, import_ref="").first()
    if found is not None:
        found.import_ref = ref
        found.save(update_fields=["import_ref"])
    return found


class _Abandon(Exception):
    """Roll back a household that the service accepted although a cell could not be read."""


class _Household:
    """The rows of one household and the errors found in them, keyed by file row number."""

    def __init__(self, ref: str, rows: list[SourceRow]) -> None:
        self.ref = ref
        self.rows = rows
        self.errors: dict[int, list[RowError]] = {row.number: [] for row in rows}

    def add(self, row: SourceRow, column: str, code: str, message: str) -> None:
        taken = {(e.column, e.code) for e in self.errors[row.number]}
        if (column, code) not in taken:
            self.errors[row.number].append(RowError(column, code, message))

    def cells_with_errors(self) -> set[tuple[int, str]]:
        return {(number, e.column) for number, errors in self.errors.items() for e in errors}

    @property
    def failed(self) -> bool:
        return any(self.errors.values())

    def value(self, column: str, normal: Callable[[Any], str] = _text) -> tuple[str, SourceRow]:
        """A household-level value: the first non-blank one; rows that differ are errors."""
        chosen, source = "", self.rows[0]
        for row in self.rows:
            text = normal(row.values.get(column))
            if not text:
                continue
            if not chosen:
                chosen, source = text, row
            elif text != chosen:
                self.add(
                    row,
                    column,
                    "inconsistent",
                    _("Differs from row %(row)s of the same household (“%(value)s”).")
                    % {"row": source.number, "value": chosen},
                )
        return chosen, source


class _Importer:
    """Runs the households of a table through ``household_register``."""

    def __init__(self, actor: Actor, *, today: date | None) -> None:
        self.actor = actor
        self.today = today
        self._programs: dict[str, str] = {}

    def program_code(self, text: str) -> str:
        """The programme's code as stored (codes are matched without regard to case)."""
        if text not in self._programs:
            code = (
                Program.objects.filter(code__iexact=text).values_list("code", flat=True).first()
                if text
                else None
            )
            self._programs[text] = code or text
        return self._programs[text]

    def date_cell(self, household: _Household, row: SourceRow, column: str) -> date | None:
        try:
            return parse_date(row.values.get(column))
        except ValueError:
            household.add(row, column, "invalid", _("Enter a date as YYYY-MM-DD or DD/MM/YYYY."))
            return None

    def register(self, household: _Household) -> tuple[Household | None, bool]:
        """Validate and register one household in its own savepoint; errors go on its rows."""
        rows = household.rows
        program_text, program_row = household.value("program", _lower_text)
        district, district_row = household.value("district", _district)
        community, community_row = household.value("community")
        signed_text, signed_row = household.value("consent_signed_on", _date_key)
        purposes_text, purposes_row = household.value("consent_purposes")
        enrolled_text, enrolled_row = household.value("enrolled_on", _date_key)
        if not program_text:
            household.add(program_row, "program", "required", _("This field is required."))
        if not district:
            household.add(district_row, "district", "required", _("This field is required."))
        program = self.program_code(program_text)

        members: list[dict[str, Any]] = []
        for row in rows:
            cells = row.values
            number_cell = cells.get("document_number")
            document_type = _coded(cells.get("document_type"), choice_aliases("document_type"))
            if not document_type and not _is_blank(number_cell):
                document_type = DocumentType.DNI
            members.append(
                {
                    "given_names": _text(cells.get("given_names")),
                    "surnames": _text(cells.get("surnames")),
                    "document_type": document_type,
                    "document_number": _document_number(number_cell, document_type),
                    "sex": _coded(cells.get("sex"), choice_aliases("sex")),
                    "birth_date": self.date_cell(household, row, "birth_date"),
                    "relationship": _coded(
                        cells.get("relationship"), choice_aliases("relationship")
                    ),
                    "phone": _text(cells.get("phone")),
                }
            )
        consent: dict[str, Any] | None = None
        if signed_text or purposes_text:
            purposes = split_purposes(purposes_text, choice_aliases("consent_purposes"))
            consent = {
                "signed_on": self.date_cell(household, signed_row, "consent_signed_on"),
                "purposes": purposes,
            }

        enrolled_on = (
            self.date_cell(household, enrolled_row, "enrolled_on") if enrolled_text else None
        )

        places = {
            "program": (program_row, "program"),
            "district": (district_row, "district"),
            "community": (community_row, "community"),
            "consent": (signed_row, "consent_signed_on"),
            "consent.signed_on": (signed_row, "consent_signed_on"),
            "consent.purposes": (purposes_row, "consent_purposes"),
            "enrolled_on": (enrolled_row, "enrolled_on"),
            "id": (rows[0], "household_ref"),
        }
        unreadable = household.failed
        household_id = uuid.uuid4()  # random: never derived from the programme and reference
        try:
            with transaction.atomic():
                earlier = imported_household(program, household.ref) if program else None
                if earlier is not None:
                    household_id = earlier.pk
                registered, created = household_register(
                    actor=self.actor,
                    program=program,
                    district=district,
                    community=community,
                    members=members,
                    consent=consent,
                    id=household_id,
                    import_ref=household.ref,
                    enrolled_on=enrolled_on,
                    channel=CHANNEL,
                    today=self.today,
                )
                if unreadable:
                    raise _Abandon
        except _Abandon:
            return None, False
        except ValidationError as exc:
            self._map_validation(household, exc, places)
            return None, False
        except Conflict as exc:
            self._map_conflict(household, exc, members, household_id)
            return None, False
        except RegistryError as exc:
            household.add(rows[0], "", exc.code, exc.detail)
            return None, False
        except IntegrityError:
            household.add(
                rows[0],
                "",
                "conflict",
                _("Someone registered one of these people at the same time: run the import again."),
            )
            return None, False
        return registered, created

    def _map_validation(
        self,
        household: _Household,
        exc: ValidationError,
        places: dict[str, tuple[SourceRow, str]],
    ) -> None:
        """Put the service's ``members.N.field`` / ``consent.x`` errors on file rows and columns."""
        rows = household.rows
        unreadable = household.cells_with_errors()
        errors = exc.error_dict if hasattr(exc, "error_dict") else {"": exc.error_list}
        for path, problems in errors.items():
            parts = path.split(".")
            for problem in problems:
                code = problem.code or "invalid"
                if parts[0] == "members" and len(parts) == 3 and parts[1].isdigit():
                    row, column = rows[int(parts[1])], parts[2]
                elif path == "members":
                    # no head or two heads: the relationship column; too many rows: the ref
                    row, column = rows[0], "relationship" if code == "one_head" else "household_ref"
                else:
                    row, column = places.get(path, (rows[0], path))
                if (row.number, column) in unreadable:
                    continue  # the cell could not be read: that is the error to fix first
                household.add(row, column, code, " ".join(problem.messages))

    def _map_conflict(
        self,
        household: _Household,
        exc: Conflict,
        members: list[dict[str, Any]],
        household_id: uuid.UUID,
    ) -> None:
        """A 409: a duplicate ID goes on the rows whose document is already registered."""
        rows = household.rows
        if exc.code == "idempotency_conflict":
            household.add(
                rows[0],
                "household_ref",
                exc.code,
                _(
                    "Household %(ref)s was already imported with different data. Change the "
                    "registered household, or give this one a new household_ref."
                )
                % {"ref": household.ref},
            )
            return
        found = False
        if exc.code == "duplicate":
            for row, member in zip(rows, members, strict=True):
                if not member["document_number"]:
                    continue
                try:
                    number = normalize_document(member["document_type"], member["document_number"])
                except ValidationError:
                    continue
                taken = (
                    Member.objects.filter(
                        is_live=True,
                        document_type=member["document_type"],
                        document_index=blind_index(PURPOSE_DOCUMENT, number),
                    )
                    .exclude(household_id=household_id)
                    .exists()
                )
                if taken:
                    found = True
                    household.add(row, "document_number", exc.code, exc.detail)
        if not found:
            household.add(rows[0], "", exc.code, exc.detail)


def _group(table: Table, report: ImportReport) -> list[_Household]:
    """Households in order of first appearance; rows without a household_ref are errors."""
    groups: dict[str, list[SourceRow]] = {}
    for row in table.rows:
        ref = _text(row.values.get("household_ref"))
        if not ref:
            report.rows.append(
                RowResult(
                    row=row.number,
                    household_ref="",
                    errors=[RowError("household_ref", "required", _("This field is required."))],
                )
            )
            continue
        groups.setdefault(ref, []).append(row)
    return [_Household(ref, rows) for ref, rows in groups.items()]


def import_households(
    *,
    actor: Actor,
    source: Table | bytes | IO[bytes],
    filename: str = "",
    dry_run: bool,
    progress: ProgressCallback | None = None,
    progress_every: int = PROGRESS_EVERY,
    today: date | None = None,
) -> ImportReport:
    """Import households from a file (or an already read ``Table``); see the module docstring.

    Returns the per-row report. A dry run validates exactly as the real run and rolls it all
    back. ``progress(done, total)`` is called every ``progress_every`` households and at the end.
    Raises ``ValidationError`` when the file itself is unusable and ``PermissionDenied`` when the
    actor may not register households.
    """
    if not policies.may_register(actor):
        raise PermissionDenied(_("Your role may not register households."), code="missing_scope")
    table = source if isinstance(source, Table) else read_table(source, filename)
    report = ImportReport(dry_run=dry_run, ignored_columns=list(table.ignored_columns))
    households = _group(table, report)
    importer = _Importer(actor, today=today)
    total = len(households)
    outer: AbstractContextManager[Any] = transaction.atomic() if dry_run else nullcontext()
    with outer:
        for done, household in enumerate(households, start=1):
            registered, created = importer.register(household)
            if household.failed or registered is None:
                report.households_with_errors += 1
                outcome = ImportOutcome.ERROR
            elif created:
                report.households_created += 1
                outcome = ImportOutcome.CREATED
            else:
                report.households_already_imported += 1
                outcome = ImportOutcome.ALREADY_IMPORTED
            failed_rows = [n for n, errors in household.errors.items() if errors]
            saved = registered if outcome != ImportOutcome.ERROR and not dry_run else None
            for row in household.rows:
                errors = household.errors[row.number]
                if outcome == ImportOutcome.ERROR and not errors:
                    errors = [
                        RowError(
                            "household_ref",
                            "household_not_imported",
                            _("Not imported: row(s) %(rows)s of this household have errors.")
                            % {"rows": ", ".join(str(n) for n in failed_rows)},
                        )
                    ]
                report.rows.append(
                    RowResult(
                        row=row.number,
                        household_ref=household.ref,
                        outcome=outcome,
                        household_code=saved.code if saved is not None else "",
                        household_id=str(saved.pk) if saved is not None else "",
                        errors=errors,
                    )
                )
            if progress is not None and (done % max(progress_every, 1) == 0 or done == total):
                progress(done, total)
        if dry_run:
            transaction.set_rollback(True)
    report.rows.sort(key=lambda r: r.row)
    return report
