"""The set-based household import behind the import jobs (``farmers.services.imports``).

The file is read as a stream (CSV rows or an XLSX sheet in read-only mode) and cut into chunks
of households (``IMPORT_CHUNK_HOUSEHOLDS``); memory stays flat whatever the file's size. A
household's rows must follow one another. Each chunk is:

1. cleaned in Python with the registration service's own rules (``_clean_members``,
   ``_clean_consent``, the area check), no query per household;
2. checked against the database with a few set queries: households an earlier import made
   (``import_ref`` per programme: a re-import creates nothing), IDs already live elsewhere
   (by blind index), and, when writing, near matches (blocking keys ranked in one query, the
   candidates' members read as values, never as objects);
3. when writing, inserted in one transaction with ``COPY`` (``bulk_create`` on SQLite): the
   households, members (encrypted, with their blind indexes), consents, dedup keys, possible
   duplicates, history and one outbox message for the stage recompute — the same rows as
   ``services.household_register`` writes one household at a time. The job's progress and
   ``resume_row`` are written in the same transaction, so a crash loses at most the chunk in
   flight, and running the job again resumes after the last committed chunk without
   duplicates (the ``import_ref`` check skips anything already written).
"""

from __future__ import annotations

import contextlib
import csv
import io
import operator
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

import orjson
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from registry import outbox
from registry.actors import Actor
from registry.bulk import copy_rows, copy_text
from registry.choices import ChangeAction, Scope
from registry.crypto import PURPOSE_DOCUMENT, PURPOSE_PHONE, blind_index_many, encrypt_many
from registry.history import mask_personal
from registry.idempotency import request_hash
from registry.ids import new_ids
from registry.models import ChangeRecord, District, Program

from ..choices import LIVE_STATUSES, DocumentType, Relationship
from ..identity import Person, near_match, search_keys
from ..models import MEMBER_FIELDS, Consent, DedupKey, Household, Member, PossibleDuplicate
from ..services.cleaning import _clean_consent, _clean_members
from ..services.dedup import MAX_DUPLICATE_CANDIDATES, _member_keys
from ..services.registration import _new_codes, _set_head_name
from ..transition import recompute_on_commit
from .cleaning import (
    _coded,
    _date_key,
    _district,
    _document_number,
    _lower_text,
    _text,
    split_purposes,
)
from .columns import CHOICE_COLUMNS, _slug, choice_aliases, header_map
from .reading import SourceRow, _is_blank, _is_blank_row
from .writing import CHANNEL, LEGACY_IMPORT_NAMESPACE, _Household, _Importer

# --- reading -------------------------------------------------------------------------------


def _file_error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def max_rows() -> int:
    """The most member rows one import file may hold (setting ``IMPORT_MAX_ROWS``)."""
    return int(settings.IMPORT_MAX_ROWS)


def max_bytes() -> int:
    """The largest import file accepted (setting ``IMPORT_MAX_BYTES``)."""
    return int(settings.IMPORT_MAX_BYTES)


def check_size(size: int | None) -> None:
    """Refuse a file over ``IMPORT_MAX_BYTES`` (an empty one too)."""
    if size is not None and size > max_bytes():
        raise _file_error(
            _("The file is larger than %(max)s MB: split it into smaller files.")
            % {"max": max_bytes() // (1024 * 1024)},
            "file_too_large",
        )
    if size == 0:
        raise _file_error(_("The file is empty."), "empty_file")


def _csv_cells(handle: IO[bytes]) -> Iterator[list[str]]:
    head = handle.read(64 * 1024)
    handle.seek(0)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = "cp1252"
    text = head.decode(encoding, errors="ignore")
    first_line = text.lstrip("\ufeff\r\n").split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    stream = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        yield from csv.reader(stream, delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise _file_error(_("Save the CSV file as UTF-8 text."), "invalid_encoding") from exc
    except csv.Error as exc:
        raise _file_error(
            _("The CSV file cannot be read: %(error)s.") % {"error": exc}, "invalid_file"
        ) from exc
    finally:
        with contextlib.suppress(ValueError):  # the caller closed the file first
            stream.detach()


def _xlsx_cells(handle: IO[bytes]) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise _file_error(
            _("The file is not a valid Excel workbook (.xlsx)."), "invalid_file"
        ) from exc
    try:
        if not workbook.worksheets:
            raise _file_error(_("The workbook has no sheet."), "empty_file")
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _cells(handle: IO[bytes], filename: str) -> Iterator[Sequence[Any]]:
    name = filename.lower()
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if name.endswith((".xlsx", ".xlsm")) or (
        not name.endswith((".csv", ".txt")) and magic == b"PK\x03\x04"
    ):
        return _xlsx_cells(handle)
    if name.endswith(".xls"):
        raise _file_error(
            _("Old Excel files (.xls) are not supported: save it as .xlsx or .csv."),
            "unsupported_format",
        )
    if name.endswith((".csv", ".txt")) or not name:
        return _csv_cells(handle)
    raise _file_error(_("Upload a .csv or .xlsx file."), "unsupported_format")


@dataclass
class Header:
    """The file's columns: the name of each position (``None``: ignored) and the labels
    ignored, as the file spells them."""

    columns: list[str | None]
    labels: list[str]
    ignored: list[str]


def _header(cells: Sequence[Any]) -> Header:
    aliases, required = header_map()
    columns: list[str | None] = []
    labels: list[str] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for cell in cells:
        label = "" if cell is None else str(cell).strip()
        labels.append(label)
        name = aliases.get(_slug(label))
        if name is None:
            columns.append(None)
            if label:
                ignored.append(label)
            continue
        if name in seen:
            raise _file_error(
                _("The columns “%(first)s” and “%(second)s” both mean %(name)s.")
                % {"first": seen[name], "second": label, "name": name},
                "duplicate_column",
            )
        seen[name] = label
        columns.append(name)
    missing = [name for name in required if name not in seen]
    if missing:
        raise _file_error(
            _("Missing columns: %(columns)s. Download the template to see the format.")
            % {"columns": ", ".join(missing)},
            "missing_columns",
        )
    return Header(columns=columns, labels=labels, ignored=ignored)


class RowStream:
    """The non-blank rows of an import file, read lazily; ``header`` once the first is read.
    Raises ``ValidationError`` for an unusable file or one over ``IMPORT_MAX_ROWS`` rows."""

    def __init__(self, handle: IO[bytes], filename: str) -> None:
        self._cells = iter(_cells(handle, filename))
        self.header: Header | None = None
        for number, raw in enumerate(self._cells, start=1):
            if _is_blank_row(raw):
                continue
            self.header = _header(list(raw))
            self._first = number
            break
        if self.header is None:
            raise _file_error(_("The file is empty."), "empty_file")

    def __iter__(self) -> Iterator[SourceRow]:
        assert self.header is not None
        columns = self.header.columns
        limit = max_rows()
        count = 0
        for number, raw in enumerate(self._cells, start=self._first + 1):
            if _is_blank_row(raw):
                continue
            count += 1
            if count > limit:
                raise _file_error(
                    _("The file has more than %(max)s rows: split it into smaller files.")
                    % {"max": f"{limit:,}".replace(",", ".")},
                    "too_many_rows",
                )
            yield SourceRow(
                number=number,
                values={
                    name: raw[index]
                    for index, name in enumerate(columns)
                    if name is not None and index < len(raw)
                },
            )
        if count == 0:
            raise _file_error(_("The file has a header but no rows."), "no_rows")


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """An error of one row (``column`` empty: the whole row)."""

    row: int
    household_ref: str
    column: str
    code: str
    message: str


@dataclass
class Totals:
    """The counts of a check or an import (stored in ``ImportJob.summary``)."""

    rows: int = 0
    households: int = 0
    new: int = 0
    already_imported: int = 0
    with_errors: int = 0
    rows_with_errors: int = 0
    # Rows whose ID the check found registered in the database: none, and the import trusts
    # the check instead of looking the IDs up again (the unique index still guards them).
    taken_ids: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, other: Totals) -> None:
        """Add the counts of a chunk."""
        for name in ("rows", "households", "new", "already_imported", "with_errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rows_with_errors += other.rows_with_errors
        self.taken_ids += other.taken_ids

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Totals:
        """From the JSON form (unknown keys ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Chunk:
    """Consecutive households of the file and the rows that could not be grouped."""

    households: list[_Household]
    orphans: list[Issue]
    last_row: int

    @property
    def rows(self) -> int:
        """Rows in the chunk."""
        return sum(len(h.rows) for h in self.households) + len(self.orphans)

    @property
    def first_row(self) -> int:
        """The chunk's first file row."""
        firsts = [o.row for o in self.orphans[:1]]
        if self.households:
            firsts.append(self.households[0].rows[0].number)
        return min(firsts) if firsts else self.last_row


def chunks(rows: RowStream, size: int) -> Iterator[Chunk]:
    """Households of ``size`` per chunk; a household's rows must be consecutive (a reference
    seen again further down is an error on that row)."""
    finished: dict[str, int] = {}  # ref → first row, for households already closed
    households: list[_Household] = []
    orphans: list[Issue] = []
    current: _Household | None = None
    last_row = 0
    for row in rows:
        last_row = row.number
        ref = _text(row.values.get("household_ref"))[:100]
        if not ref:
            orphans.append(
                Issue(row.number, "", "household_ref", "required", _("This field is required."))
            )
            continue
        if current is not None and current.ref == ref:
            current.rows.append(row)
            current.errors[row.number] = []
            continue
        if ref in finished:
            orphans.append(
                Issue(
                    row.number,
                    ref,
                    "household_ref",
                    "not_together",
                    _(
                        "The rows of household %(ref)s must follow one another: it started at "
                        "row %(row)s."
                    )
                    % {"ref": ref, "row": finished[ref]},
                )
            )
            continue
        if current is not None:
            finished[current.ref] = current.rows[0].number
            households.append(current)
            if len(households) >= size:
                yield Chunk(households, orphans, households[-1].rows[-1].number)
                households, orphans = [], []
        current = _Household(ref, [row])
    if current is not None:
        households.append(current)
    if households or orphans:
        yield Chunk(households, orphans, last_row)


# --- one chunk -----------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A household cleaned for registration (``household_register``'s own steps)."""

    source: _Household
    program_text: str
    program: Program | None
    district: str
    community: str
    members: list[dict[str, Any]]
    cleaned: list[dict[str, Any]]
    consent: dict[str, Any] | None
    enrolled_on: date | None
    digest: str
    places: dict[str, tuple[SourceRow, str]]
    existing: uuid.UUID | None = None
    document_indexes: list[str] = field(default_factory=list)
    # The household's row errors once validated (``_clean``); ``None``: not validated (the
    # payload already failed).
    validated: dict[int, list[Any]] | None = None


class Context:
    """What a job knows across chunks: the actor, the programmes and districts (loaded once),
    the IDs given earlier in the file (``{blind index: (row, ref)}``)."""

    def __init__(self, actor: Actor, *, today: date | None = None) -> None:
        self.actor = actor
        self.today = today
        self.importer = _Importer(actor, today=today)
        self.programs = {p.code.lower(): p for p in Program.objects.all()}
        self.districts = set(District.objects.values_list("ubigeo", flat=True))
        self.seen_documents: dict[str, tuple[int, str]] = {}
        # False: the file's check found no ID already registered, so the import does not look
        # them up again (a registration since then breaks the unique index: the chunk is then
        # checked again in full).
        self.look_up_ids = True
        # Seconds spent per step over the whole run (the benchmark prints them); the helper
        # thread's steps overlap the job thread's.
        self.timings: defaultdict[str, float] = defaultdict(float)
        self._timings_lock = threading.Lock()

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the time spent in the block to ``timings[step]``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._timings_lock:
                self.timings[step] += time.perf_counter() - started


def _payload(ctx: Context, household: _Household) -> _Prepared:
    """The household's registration payload, built exactly as the row-by-row import built it
    (the same request digest), and cleaned by the service's own rules."""
    rows = household.rows
    importer = ctx.importer
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
    program = ctx.programs.get(program_text)
    program_code = program.code if program is not None else program_text
    document_aliases = choice_aliases("document_type")
    sex_aliases = choice_aliases("sex")
    relationship_aliases = choice_aliases("relationship")
    purpose_aliases = choice_aliases("consent_purposes")
    members: list[dict[str, Any]] = []
    for row in rows:
        cells = row.values
        number_cell = cells.get("document_number")
        document_type = _coded(cells.get("document_type"), document_aliases)
        if not document_type and not _is_blank(number_cell):
            document_type = DocumentType.DNI
        members.append(
            {
                "given_names": _text(cells.get("given_names")),
                "surnames": _text(cells.get("surnames")),
                "document_type": document_type,
                "document_number": _document_number(number_cell, document_type),
                "sex": _coded(cells.get("sex"), sex_aliases),
                "birth_date": importer.date_cell(household, row, "birth_date"),
                "relationship": _coded(cells.get("relationship"), relationship_aliases),
                "phone": _text(cells.get("phone")),
            }
        )
    consent: dict[str, Any] | None = None
    if signed_text or purposes_text:
        consent = {
            "signed_on": importer.date_cell(household, signed_row, "consent_signed_on"),
            "purposes": split_purposes(purposes_text, purpose_aliases),
        }
    enrolled_on = (
        importer.date_cell(household, enrolled_row, "enrolled_on") if enrolled_text else None
    )
    payload: dict[str, Any] = {
        "program": program_code,
        "district": district,
        "community": community,
        "members": members,
        "consent": consent,
    }
    if enrolled_on is not None:
        payload["enrolled_on"] = enrolled_on
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
    return _Prepared(
        source=household,
        program_text=program_text,
        program=program if program is not None and program.is_active else None,
        district=district,
        community=community,
        members=members,
        cleaned=[],
        consent=consent,
        enrolled_on=enrolled_on,
        digest=request_hash(payload),
        places=places,
    )


def _validate(ctx: Context, prepared: _Prepared, today: date | None = None) -> None:
    """``household_register``'s validation (no query): errors go on the household's rows.
    ``today``: the day the dates are checked against (``ctx.today``, or the local date)."""
    household = prepared.source
    today = today or ctx.today or timezone.localdate()
    errors: dict[str, list[ValidationError]] = {}
    if prepared.program is None:
        errors["program"] = [
            ValidationError(
                _("Unknown programme code: %(code)s.") % {"code": prepared.program_text},
                code="does_not_exist",
            )
        ]
    if prepared.district not in ctx.districts:
        errors["district"] = [
            ValidationError(
                _("Unknown district ubigeo: %(code)s.") % {"code": prepared.district},
                code="does_not_exist",
            )
        ]
    try:
        prepared.cleaned = _clean_members(prepared.members, today=today)
    except ValidationError as exc:
        for attr, messages in exc.error_dict.items():
            errors.setdefault(attr, []).extend(messages)
    consent_data = (
        _clean_consent(prepared.consent, errors, today=today) if prepared.consent else None
    )
    if consent_data is None:
        errors.setdefault("consent", []).append(
            ValidationError(
                _("A registration needs the family's signed consent (date and purposes)."),
                code="consent_required",
            )
        )
    prepared.consent = consent_data
    if prepared.enrolled_on is not None and prepared.enrolled_on > today:
        errors.setdefault("enrolled_on", []).append(
            ValidationError(_("The date cannot be in the future."), code="future_date")
        )
    if (
        not errors
        and prepared.program is not None
        and not ctx.actor.covers(
            district=prepared.district, program=prepared.program.pk, scope=Scope.HOUSEHOLDS_WRITE
        )
    ):
        errors["district"] = [
            ValidationError(
                _("This district and programme are outside your assigned area."),
                code="out_of_area",
            )
        ]
    if errors:
        ctx.importer._map_validation(household, ValidationError(errors), prepared.places)


def _find_existing(ctx: Context, prepared: list[_Prepared]) -> None:
    """Households an earlier import made (by programme and reference; the legacy ``uuid5``
    ids too), a query per programme: the same data is "already imported", other data a
    conflict."""
    by_ref = [p for p in prepared if p.program is not None]
    if not by_ref:
        return
    legacy = {
        uuid.uuid5(LEGACY_IMPORT_NAMESPACE, f"{p.program.code}\x1f{p.source.ref}"): p
        for p in by_ref
        if p.program is not None
    }
    refs_by_program: dict[int, set[str]] = defaultdict(set)
    for p in by_ref:
        if p.program is not None:
            refs_by_program[p.program.pk].add(p.source.ref)
    columns = ("pk", "program_id", "import_ref", "request_hash", "district_id")
    # One query per programme through the (programme, reference) unique index, one for the
    # legacy ids: an OR of the two would scan the programme's households.
    found = [
        row
        for program_id, refs in refs_by_program.items()
        for row in Household.objects.filter(program_id=program_id, import_ref__any_of=refs)
        .exclude(import_ref="")
        .order_by()
        .values_list(*columns)
    ]
    found += list(
        Household.objects.filter(pk__any_of=list(legacy), import_ref="")
        .order_by()
        .values_list(*columns)
    )
    wanted = {(p.program.pk, p.source.ref): p for p in by_ref if p.program is not None}
    for pk, program_id, ref, digest, district_id in found:
        match = wanted.get((program_id, ref)) if ref else legacy.get(pk)
        if match is None:
            continue
        visible = ctx.actor.covers(
            district=district_id, program=program_id, scope=Scope.HOUSEHOLDS_WRITE
        )
        if digest == match.digest and visible:
            match.existing = pk
            continue
        match.existing = pk
        household = match.source
        household.add(
            household.rows[0],
            "household_ref",
            "idempotency_conflict",
            _(
                "Household %(ref)s was already imported with different data. Change the "
                "registered household, or give this one a new household_ref."
            )
            % {"ref": household.ref},
        )


def _check_documents(
    ctx: Context, prepared: list[_Prepared], *, remember: bool, look_up: bool = True
) -> int:
    """IDs already live in another household (one query by blind index, unless not
    ``look_up``) or given earlier in the file: a ``duplicate`` error on the row. Returns how
    many rows had an ID already registered."""
    candidates = [p for p in prepared if p.existing is None and not p.source.failed]
    for p in candidates:
        if len(p.document_indexes) != len(p.cleaned):  # not derived ahead by ``_clean``
            p.document_indexes = blind_index_many(
                [m["document_number"] for m in p.cleaned], PURPOSE_DOCUMENT
            )
    wanted = {i for p in candidates for i in p.document_indexes if i}
    taken: dict[str, tuple[str, str, int]] = {}
    found = 0
    if wanted and look_up:
        # Two index probes (members by blind index, then their households by id): a join
        # would let the planner scan the households table.
        holders = dict(
            Member.objects.filter(is_live=True, document_index__any_of=wanted)
            .order_by()
            .values_list("document_index", "household_id")
        )
        households = {
            pk: (code, district_id, program_id)
            for pk, code, district_id, program_id in Household.objects.filter(
                pk__any_of=set(holders.values())
            )
            .order_by()
            .values_list("pk", "code", "district_id", "program_id")
        }
        taken = {index: households[pk] for index, pk in holders.items() if pk in households}
    for p in candidates:
        household = p.source
        for row, member, index in zip(household.rows, p.cleaned, p.document_indexes, strict=True):
            if not index:
                continue
            if index in taken:
                found += 1
                code, district_id, program_id = taken[index]
                if ctx.actor.covers(district=district_id, program=program_id):
                    message = _(
                        "The ID %(number)s is already registered in household %(code)s."
                    ) % {"number": member["document_number"], "code": code}
                else:
                    message = _("The ID %(number)s is already registered in another household.") % {
                        "number": member["document_number"]
                    }
                household.add(row, "document_number", "duplicate", message)
            elif index in ctx.seen_documents and ctx.seen_documents[index][1] != household.ref:
                earlier_row, earlier_ref = ctx.seen_documents[index]
                household.add(
                    row,
                    "document_number",
                    "duplicate",
                    _("The same ID is given in row %(row)s (household %(ref)s).")
                    % {"row": earlier_row, "ref": earlier_ref},
                )
        if remember and not household.failed:
            for row, index in zip(household.rows, p.document_indexes, strict=True):
                if index:
                    ctx.seen_documents.setdefault(index, (row.number, household.ref))
    return found


def _said(error: Any) -> str:
    """An error's message for people: a value outside a choice column names the labels the
    template's drop-down offers, not the codes."""
    if error.code == "invalid_choice" and error.column in CHOICE_COLUMNS:
        labels = [str(label) for label in CHOICE_COLUMNS[error.column].labels]
        return _("Use one of: %(valid)s.") % {"valid": "; ".join(labels)}
    return str(error.message)


def _issues(chunk: Chunk, totals: Totals) -> list[Issue]:
    """Every row's errors (a failed household's clean rows say why they were not imported)."""
    issues = list(chunk.orphans)
    totals.rows_with_errors += len(chunk.orphans)
    for household in chunk.households:
        if not household.failed:
            continue
        failed_rows = [n for n, errors in household.errors.items() if errors]
        for row in household.rows:
            errors = household.errors[row.number]
            totals.rows_with_errors += 1
            if not errors:
                issues.append(
                    Issue(
                        row.number,
                        household.ref,
                        "household_ref",
                        "household_not_imported",
                        _("Not imported: row(s) %(rows)s of this household have errors.")
                        % {"rows": ", ".join(str(n) for n in failed_rows)},
                    )
                )
            for error in errors:
                issues.append(
                    Issue(row.number, household.ref, error.column, error.code, _said(error))
                )
    return issues


@dataclass
class ChunkResult:
    """What one chunk found (and, when writing, wrote)."""

    totals: Totals
    issues: list[Issue]
    created_ids: list[uuid.UUID]
    # The chunk's new households, cleaned and valid (what the check stages for the import).
    fresh: list[Ready] = field(default_factory=list)


def _clean(ctx: Context, chunk: Chunk, today: date | None = None) -> list[_Prepared]:
    """The chunk's households cleaned ahead (``_payload``, then ``_validate`` unless the payload
    failed), before knowing which an earlier import made: the validation's errors are kept
    aside (``_Prepared.validated``), for ``process_chunk`` to put back only on the households
    not already imported. No query: the check runs it in the helper thread for the next chunk
    while the job's thread looks the current one up (``today`` then comes from the job's
    thread, whose time zone is the job's)."""
    today = today or ctx.today or timezone.localdate()  # once per chunk, not per member
    with ctx.timed("clean"):
        prepared = [_payload(ctx, h) for h in chunk.households]
        for p in prepared:
            household = p.source
            if household.failed:
                continue
            before = {number: list(errors) for number, errors in household.errors.items()}
            _validate(ctx, p, today)
            p.validated = household.errors
            household.errors = before
            if not any(p.validated.values()):
                p.document_indexes = blind_index_many(
                    [m["document_number"] for m in p.cleaned], PURPOSE_DOCUMENT
                )
    return prepared


def process_chunk(
    ctx: Context,
    chunk: Chunk,
    *,
    write: bool,
    look_up_ids: bool = True,
    prepared: list[_Prepared] | None = None,
) -> ChunkResult:
    """Check one chunk (and write it when ``write``: call inside the chunk's transaction).
    ``look_up_ids=False`` trusts the file's check for IDs registered in the database;
    ``prepared``: the chunk already cleaned by ``_clean``."""
    if prepared is None:
        prepared = _clean(ctx, chunk)
    with ctx.timed("find existing"):
        _find_existing(ctx, prepared)
    for p in prepared:
        if p.existing is None and p.validated is not None:
            p.source.errors = p.validated  # the validation's errors (none when it passed)
    with ctx.timed("check IDs"):
        taken_ids = _check_documents(ctx, prepared, remember=True, look_up=look_up_ids)
    totals = Totals(rows=chunk.rows, households=len(prepared), taken_ids=taken_ids)
    fresh: list[_Prepared] = []
    for p in prepared:
        if p.source.failed:
            totals.with_errors += 1
        elif p.existing is not None:
            totals.already_imported += 1
        else:
            totals.new += 1
            fresh.append(p)
    issues = _issues(chunk, totals)
    ready = [_ready(p) for p in fresh]
    created = _write(ctx, ready) if write and ready else []
    return ChunkResult(totals=totals, issues=issues, created_ids=created, fresh=ready)


# --- the check's result, kept for the import -----------------------------------------------


@dataclass
class Ready:
    """A new household cleaned and validated: all the import needs to write it."""

    ref: str
    program: Program
    district: str
    community: str
    enrolled_on: date | None
    consent: dict[str, Any]
    digest: str
    rows: list[int]  # the members' file rows
    members: list[dict[str, Any]]
    document_indexes: list[str]


def _ready(p: _Prepared) -> Ready:
    assert p.program is not None and p.consent is not None
    return Ready(
        ref=p.source.ref,
        program=p.program,
        district=p.district,
        community=p.community,
        enrolled_on=p.enrolled_on,
        consent=p.consent,
        digest=p.digest,
        rows=[row.number for row in p.source.rows],
        members=p.cleaned,
        document_indexes=p.document_indexes,
    )


# A member's cleaned values, in the staged chunk's order.
_MEMBER_KEYS = MEMBER_FIELDS
_member_values = operator.itemgetter(*_MEMBER_KEYS)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def dump_stage(result: ChunkResult) -> str:
    """A checked chunk as JSON text: its totals, its rows' errors and its new households
    (``orjson``: dates as ISO strings; ten times faster than ``json`` on a chunk's 8,000
    members, and the check and the import each handle every chunk once)."""
    return orjson.dumps(
        {
            "totals": result.totals.as_dict(),
            "issues": [
                [i.row, i.household_ref, i.column, i.code, i.message] for i in result.issues
            ],
            "households": [
                [
                    r.ref,
                    r.program.pk,
                    r.district,
                    r.community,
                    r.enrolled_on,
                    r.consent,
                    r.digest,
                    r.rows,
                    [_member_values(m) for m in r.members],
                    r.document_indexes,
                ]
                for r in result.fresh
            ],
        },
    ).decode()


def load_stage(ctx: Context, text: str) -> ChunkResult | None:
    """A chunk staged by the check (``dump_stage``), or ``None`` when a programme or district
    it names is no longer usable (the import then checks the chunk again in full)."""
    data = orjson.loads(text)
    programs = {p.pk: p for p in ctx.programs.values() if p.is_active}
    fresh: list[Ready] = []
    for (
        ref,
        program_id,
        district,
        community,
        enrolled,
        consent,
        digest,
        rows,
        people,
        indexes,
    ) in data["households"]:
        program = programs.get(program_id)
        if program is None or district not in ctx.districts:
            return None
        members = []
        for values in people:
            member = dict(zip(_MEMBER_KEYS, values, strict=True))
            member["birth_date"] = _day(member["birth_date"])
            member["id"] = None
            member["is_active"] = True
            members.append(member)
        fresh.append(
            Ready(
                ref=ref,
                program=program,
                district=district,
                community=community,
                enrolled_on=_day(enrolled),
                consent={**consent, "signed_on": _day(consent["signed_on"])},
                digest=digest,
                rows=rows,
                members=members,
                document_indexes=indexes,
            )
        )
    return ChunkResult(
        totals=Totals.from_dict(data["totals"]),
        issues=[Issue(*values) for values in data["issues"]],
        created_ids=[],
        fresh=fresh,
    )


def _prepare_staged(
    ctx: Context, text: str, writing: Writing, language: str | None
) -> tuple[ChunkResult, Rows | None] | None:
    """A staged chunk read back (``load_stage``) and its ``COPY`` rows built (``_build``), or
    ``None`` when it must be checked again in full. No query: the import runs it in the helper
    thread for the next chunk while the job's thread writes the current one."""
    with translation.override(language):
        with ctx.timed("load stage"):
            staged = load_stage(ctx, text)
        if staged is None:
            return None
        if not staged.fresh:
            return staged, None
        with ctx.timed("build rows"):
            return staged, _build(ctx, staged.fresh, writing)


def _process_staged(
    ctx: Context, staged: ChunkResult, rows: Rows | None, writing: Writing, *, look_up_ids: bool
) -> bool:
    """Write a chunk the check staged, without cleaning it again: only what can have changed
    since the check is looked at (IDs registered meanwhile, when the check found some; a
    household or an ID written meanwhile otherwise breaks a unique index, and the chunk is then
    checked again in full). Returns ``False`` when the chunk must be checked again in full."""
    fresh = staged.fresh
    for r in fresh:
        for row, index in zip(r.rows, r.document_indexes, strict=True):
            if index:
                ctx.seen_documents.setdefault(index, (row, r.ref))
    if look_up_ids:
        with ctx.timed("check IDs"):
            wanted = {i for r in fresh for i in r.document_indexes if i}
            if (
                wanted
                and Member.objects.filter(is_live=True, document_index__any_of=wanted).exists()
            ):
                return False
    staged.created_ids = _copy(ctx, rows, writing) if rows is not None else []
    return True


# --- writing -------------------------------------------------------------------------------


_CONSENT_FIELDS = ("signed_on", "purposes", "notice_version", "language")

# A member's COPY row as ``_build`` makes it (identifiers in clear; on PostgreSQL encrypted, and
# followed by the document's and the phone's blind indexes).
_MEMBER_FIELDS = [
    "id",
    "household",
    *MEMBER_FIELDS,
    "is_head",
    "is_active",
    "is_live",
    "created_at",
]
_DOCUMENT = _MEMBER_FIELDS.index("document_number")
_PHONE = _MEMBER_FIELDS.index("phone")
_MEMBER_COLUMNS_ENCRYPTED = [*_MEMBER_FIELDS, "document_index", "phone_index"]
_by_document_index = operator.itemgetter(_MEMBER_COLUMNS_ENCRYPTED.index("document_index"))
_by_key = operator.itemgetter(1)


def _encrypt_members(members: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The members (rows of ``_MEMBER_FIELDS``) as ``bulk_create`` would write them on
    PostgreSQL (identifiers encrypted, blind indexes derived), in bulk with one keyring."""
    documents = [m[_DOCUMENT] for m in members]
    phones = [m[_PHONE] for m in members]
    return [
        (
            *m[:_DOCUMENT],
            document,
            *m[_DOCUMENT + 1 : _PHONE],
            phone,
            *m[_PHONE + 1 :],
            document_index,
            phone_index,
        )
        for m, document, document_index, phone, phone_index in zip(
            members,
            encrypt_many(documents, PURPOSE_DOCUMENT),
            blind_index_many(documents, PURPOSE_DOCUMENT),
            encrypt_many(phones, PURPOSE_PHONE),
            blind_index_many(phones, PURPOSE_PHONE),
            strict=True,
        )
    ]


# A new household's own values, in the order ``_build`` gives them.
_HOUSEHOLD_OWN = (
    "id",
    "program",
    "district",
    "community",
    "import_ref",
    "enrolled_on",
    "request_hash",
    "code",
    "head_name",
    "head_name_search",
    "head_sex",
    "head_birth_date",
    "names_search",
)


def _household_fields() -> list[Any]:
    """The household columns ``copy_instances`` writes (every concrete field)."""
    return list(Household._meta.concrete_fields)


class _Head:
    """The head-of-household columns, set by the service's ``_set_head_name``."""

    head_name = ""
    head_name_search = ""
    head_sex = ""
    head_birth_date: date | None = None
    names_search = ""


def _draw_codes(count: int) -> list[str]:
    """``count`` distinct new household codes, not yet checked against the database."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.update(_new_codes(count - len(codes)))
    return list(codes)


def _codes(count: int, drawn: Sequence[str] = ()) -> list[str]:
    """``count`` new household codes, none already taken (one query, drawn again on a clash);
    ``drawn``: distinct codes drawn ahead (``_build``, in the helper thread), checked here and
    kept in their order when none is taken."""
    codes = list(drawn) or _draw_codes(count)
    while True:
        # One array parameter instead of 2,000 (binding them cost more than the probes).
        taken = set(
            Household.objects.filter(code__any_of=codes).order_by().values_list("code", flat=True)
        )
        if not taken:
            return codes
        kept = [code for code in codes if code not in taken]
        fresh = set(_draw_codes(count)) - set(kept)
        codes = kept + list(fresh)[: count - len(kept)]


@dataclass
class Writing:
    """What building a chunk's rows needs from the database, read once per job in the job's
    thread (``_build`` itself reads nothing, so it may run in the helper thread)."""

    content_type_id: int
    encrypt: bool  # PostgreSQL: the members' identifiers encrypted here, for COPY

    @classmethod
    def read(cls) -> Writing:
        """Read it (the content type; the database's vendor)."""
        return cls(
            content_type_id=ContentType.objects.get_for_model(Household).pk,
            encrypt=connection.vendor == "postgresql",
        )


@dataclass
class Rows:
    """A chunk's ``COPY`` rows, built in Python without a query (``_build``); the household
    codes are drawn and set when the rows are written (``_copy``)."""

    households: list[list[Any]]
    heads: list[str]  # each household's head name (its history's ``object_repr``)
    members: list[tuple[Any, ...]]
    consents: list[tuple[Any, ...]]
    records: list[list[Any]]
    keys: list[tuple[str, str]]  # (household id as text, key)
    ids: list[uuid.UUID]
    code_at: int
    codes: list[str]  # drawn, not yet checked against the database
    # On PostgreSQL, every table's rows already in ``COPY``'s text format (the households and
    # their history with the codes drawn): the job's thread only sends them.
    text: dict[str, bytes] = field(default_factory=dict)

    def set_codes(self, codes: Sequence[str]) -> None:
        """Put the household codes in the households' rows and their history's."""
        for row, record, code, head in zip(
            self.households, self.records, codes, self.heads, strict=True
        ):
            row[self.code_at] = code
            record[2] = f"{code} · {head}"[:200]  # ``str(household)``
        self.codes = list(codes)

    def make_text(self) -> None:
        """Every table's rows in ``COPY``'s text format (``text``)."""
        tables: dict[str, Sequence[Sequence[Any]]] = {
            "households": self.households,
            "members": self.members,
            "consents": self.consents,
            "records": self.records,
            "keys": self.keys,
        }
        self.text = {table: copy_text(values) for table, values in tables.items()}


def _build(ctx: Context, fresh: list[Ready], writing: Writing) -> Rows:
    """The chunk's new households as ``household_register`` would write them, as ``COPY``
    rows (tuples, no model instance per row; the head's name and profile set by the service's
    own helper). No query: it may run in the helper thread while the job's thread writes the
    chunk before (``run``)."""
    actor = ctx.actor
    stamp = actor.stamp()
    now = timezone.now()
    households: list[list[Any]] = []
    heads: list[str] = []
    members: list[tuple[Any, ...]] = []
    consents: list[tuple[Any, ...]] = []
    keys: list[tuple[str, str]] = []
    records: list[list[Any]] = []
    officer = actor.user.pk if actor.user is not None else None
    stamp_ids = (officer, actor.api_key.pk if actor.api_key is not None else None)
    # Every household of the chunk as ``copy_instances`` would write it: one model instance
    # gives the columns and the values shared by all (status, stage, milestones, version…);
    # each row then takes its own values (``_HOUSEHOLD_OWN``).
    template = Household(
        program=fresh[0].program if fresh else None,
        **stamp,
        created_at=now,
        updated_at=now,
    )
    fields = _household_fields()
    shared = [f.pre_save(template, True) for f in fields]
    at = {f.name: i for i, f in enumerate(fields)}
    own = [at[name] for name in _HOUSEHOLD_OWN]
    live = template.status in LIVE_STATUSES
    head_relationship = Relationship.HEAD.value
    # Time-ordered ids (``registry.ids``), households and members each in file order: they
    # go to the end of their indexes.
    new_keys = iter(new_ids(len(fresh) + sum(len(r.members) for r in fresh)))
    for r in fresh:
        head = _Head()
        _set_head_name(head, r.members)  # type: ignore[arg-type]
        pk = next(new_keys)
        # The id as text in the rows that refer to it (its members, consent and a dozen keys):
        # ``COPY`` then takes it as it is instead of converting the UUID once per row.
        pk_text = str(pk)
        row = list(shared)
        for index, value in zip(
            own,
            (
                pk,
                r.program.pk,
                r.district,
                " ".join(r.community.split())[:150],
                r.ref.strip()[:100],
                r.enrolled_on or r.consent.get("signed_on"),
                r.digest,
                "",  # the code, drawn when written
                head.head_name,
                head.head_name_search,
                head.head_sex,
                head.head_birth_date,
                head.names_search,
            ),
            strict=True,
        ):
            row[index] = value
        households.append(row)
        heads.append(head.head_name)
        household_keys: set[str] = set()
        for m in r.members:
            members.append(
                (
                    next(new_keys),
                    pk_text,
                    m["given_names"],
                    m["surnames"],
                    m["document_type"],
                    m["document_number"],
                    m["sex"],
                    m["birth_date"],
                    m["relationship"],
                    m["phone"],
                    m["relationship"] == head_relationship,
                    True,
                    live,
                    now,
                )
            )
            household_keys |= _member_keys(m, r.district)
        keys.extend((pk_text, key) for key in sorted(household_keys))
        consents.append((pk_text, officer, now, *(r.consent[name] for name in _CONSENT_FIELDS)))
        records.append(
            [
                writing.content_type_id,
                str(pk),
                "",  # ``str(household)``, once the code is drawn
                ChangeAction.CREATE.value,
                mask_personal(
                    {
                        "program": r.program.code,
                        "district": r.district,
                        "members": [f"{m['given_names']} {m['surnames']}" for m in r.members],
                    }
                ),
                *stamp_ids,
                CHANNEL,
                now,
            ]
        )
    if writing.encrypt:
        members = _encrypt_members(members)
        # In the order of their random indexes (the members' document, the keys themselves):
        # PostgreSQL then walks each index once from left to right instead of jumping about.
        members.sort(key=_by_document_index)
        keys.sort(key=_by_key)
    rows = Rows(
        households=households,
        heads=heads,
        members=members,
        consents=consents,
        records=records,
        keys=keys,
        ids=[row[own[0]] for row in households],
        code_at=own[_HOUSEHOLD_OWN.index("code")],
        codes=[],
    )
    rows.set_codes(_draw_codes(len(households)))
    if writing.encrypt:  # PostgreSQL: ``COPY`` text made here, off the job's thread
        rows.make_text()
    return rows


_RECORD_FIELDS = [
    "content_type",
    "object_id",
    "object_repr",
    "action",
    "changes",
    "created_by",
    "created_by_key",
    "channel",
    "at",
]


def _copy(ctx: Context, rows: Rows, writing: Writing) -> list[uuid.UUID]:
    """Write a chunk's rows (``_build``) with ``COPY``: the households with their new codes,
    members, consents, history and dedup keys; the stage recompute and the near-match search
    are queued for when the chunk commits."""
    with ctx.timed("codes"):
        codes = _codes(len(rows.households), rows.codes)
    if codes != rows.codes:  # a drawn code was taken meanwhile: rows made again
        rows.set_codes(codes)
        if rows.text:
            rows.make_text()

    def write(model: Any, fields: Sequence[str], table: str, values: list[Any]) -> None:
        copy_rows(model, fields, values, text=rows.text.get(table))

    with ctx.timed("write households"):
        write(Household, [f.name for f in _household_fields()], "households", rows.households)
    with ctx.timed("write members"):
        members = _MEMBER_COLUMNS_ENCRYPTED if writing.encrypt else _MEMBER_FIELDS
        write(Member, members, "members", rows.members)
    with ctx.timed("write consents and history"):
        consents = ["household", "officer", "created_at", *_CONSENT_FIELDS]
        write(Consent, consents, "consents", rows.consents)
        write(ChangeRecord, _RECORD_FIELDS, "records", rows.records)
    with ctx.timed("write dedup keys"):
        write(DedupKey, ["household", "key"], "keys", rows.keys)
    ids = rows.ids
    recompute_on_commit(ids)
    # Near matches are queued for review once the chunk commits (a task, set-based).
    outbox.publish_on_commit(DUPLICATES_TOPIC, {"household_ids": [str(pk) for pk in ids]})
    return ids


def _write(ctx: Context, fresh: list[Ready]) -> list[uuid.UUID]:
    """Insert the chunk's new households as ``household_register`` would, set-based: the rows
    built (``_build``), then written by ``COPY`` (``_copy``)."""
    writing = Writing.read()
    with ctx.timed("build rows"):
        rows = _build(ctx, fresh, writing)
    return _copy(ctx, rows, writing)


# --- near matches (after each chunk commits) ----------------------------------------------

#: The outbox topic of an imported chunk's near-match search; payload ``{"household_ids"}``.
DUPLICATES_TOPIC = "farmers.import_duplicates"
DUPLICATES_TASK = "farmers.tasks.find_import_duplicates"

# Each new household's (at most 25) registered households sharing most blocking keys, the
# chunk's later households left out (registering one by one, a household sees only those
# registered before it).
_RANK_SQL = """
SELECT idx, household_id, shared FROM (
    SELECT m.idx, d.household_id, count(*) AS shared,
           row_number() OVER (PARTITION BY m.idx ORDER BY count(*) DESC) AS rank
    FROM unnest(%s::int[], %s::text[]) AS m(idx, key)
    JOIN farmers_dedupkey d ON d.key = m.key
    LEFT JOIN unnest(%s::uuid[]) WITH ORDINALITY AS c(id, pos) ON c.id = d.household_id
    WHERE c.pos IS NULL OR c.pos - 1 < m.idx
    GROUP BY m.idx, d.household_id
) ranked
WHERE rank <= %s
"""

_Person = Person  # given names, surnames, birth date, phone blind index


def _ranked_candidates(
    ids: list[uuid.UUID], keys_of: list[set[str]]
) -> list[list[tuple[uuid.UUID, str]]]:
    """For each household of ``ids`` (in registration order), the households sharing most
    blocking keys with it, most shared first, with their district: one query on PostgreSQL,
    counted here elsewhere."""
    found: list[list[tuple[uuid.UUID, str, int]]] = [[] for _keys in keys_of]
    if connection.vendor == "postgresql":
        # Ranked on the keys alone (an index probe per key), like the service; the candidates'
        # district and status come after, by id.
        indexes = [i for i, keys in enumerate(keys_of) for _key in keys]
        flat = [key for keys in keys_of for key in keys]
        ranked: list[tuple[int, uuid.UUID, int]] = []
        with connection.cursor() as cursor:
            cursor.execute(_RANK_SQL, [indexes, flat, ids, MAX_DUPLICATE_CANDIDATES])
            ranked = cursor.fetchall()
        live = dict(
            Household.objects.filter(
                pk__any_of={pk for _i, pk, _n in ranked}, status__in=LIVE_STATUSES
            )
            .order_by()
            .values_list("pk", "district_id")
        )
        for idx, household_id, count in ranked:
            if household_id in live:
                found[idx].append((household_id, live[household_id], count))
    else:
        position = {pk: i for i, pk in enumerate(ids)}
        all_keys = sorted(set().union(*keys_of)) if keys_of else []
        holders: dict[str, list[uuid.UUID]] = defaultdict(list)
        districts: dict[uuid.UUID, str] = {}
        for start in range(0, len(all_keys), 500):
            for key, household_id, district in DedupKey.objects.filter(
                key__in=all_keys[start : start + 500], household__status__in=LIVE_STATUSES
            ).values_list("key", "household_id", "household__district_id"):
                holders[key].append(household_id)
                districts[household_id] = district
        for i, keys in enumerate(keys_of):
            shared: Counter[uuid.UUID] = Counter()
            for key in keys:
                shared.update(pk for pk in holders.get(key, ()) if position.get(pk, -1) < i)
            found[i] = [
                (pk, districts[pk], n) for pk, n in shared.most_common(MAX_DUPLICATE_CANDIDATES)
            ]
    for candidates in found:
        candidates.sort(key=lambda c: -c[2])
    return [[(pk, district) for pk, district, _n in candidates] for candidates in found]


def find_possible_duplicates(household_ids: Sequence[Any]) -> int:
    """Queue the near matches of imported households for review, as ``household_register``
    does one at a time (``services.dedup._find_possible_duplicates``), for a whole chunk: the
    candidates ranked in one query, and only those that can match read (a pair needs the same
    district, or the same phone and then a shared ``ph:`` key), their active members as values
    (names, birth date, phone blind index), never as objects. Idempotent (run by a task after
    the chunk commits); returns how many pairs it found."""
    ids = [uuid.UUID(str(pk)) for pk in household_ids]
    districts = dict(
        Household.objects.filter(pk__any_of=ids, status__in=LIVE_STATUSES).values_list(
            "pk", "district_id"
        )
    )
    ids = [pk for pk in ids if pk in districts]
    if not ids:
        return 0
    keys: dict[uuid.UUID, set[str]] = defaultdict(set)
    for household_id, key in DedupKey.objects.filter(household_id__any_of=ids).values_list(
        "household_id", "key"
    ):
        keys[household_id].add(key)
    keys_of = [keys[pk] for pk in ids]
    ranked = _ranked_candidates(ids, [search_keys(k) for k in keys_of])
    ours = set(ids)
    wanted = set(ids)
    for pk, candidates, household_keys in zip(ids, ranked, keys_of, strict=True):
        phones = any(k.startswith("ph:") for k in household_keys)
        for candidate, district in candidates:
            if candidate not in ours and (district == districts[pk] or phones):
                wanted.add(candidate)
    people: dict[uuid.UUID, list[_Person]] = defaultdict(list)
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        # The candidates are live (ranked among live households): no join needed.
        rows = (
            Member.objects.filter(
                household_id__any_of=ordered[start : start + 5000], is_active=True
            )
            .order_by()
            .values_list("household_id", "given_names", "surnames", "birth_date", "phone_index")
        )
        for household_id, given, surnames, birth, phone_index in rows:
            people[household_id].append((given, surnames, birth, phone_index))
    found: list[PossibleDuplicate] = []
    for pk, candidates in zip(ids, ranked, strict=True):
        mine = people.get(pk) or []
        for candidate_id, district in candidates:
            theirs = people.get(candidate_id)
            if not theirs or not mine:
                continue
            duplicate = _compare(districts[pk], mine, district, theirs)
            if duplicate is not None:
                score, reasons = duplicate
                found.append(
                    PossibleDuplicate(
                        household_id=pk, candidate_id=candidate_id, score=score, reasons=reasons
                    )
                )
    PossibleDuplicate.objects.bulk_create(found, ignore_conflicts=True)
    return len(found)


def _compare(
    district: str, mine: list[_Person], their_district: str, theirs: list[_Person]
) -> tuple[Decimal, list[str]] | None:
    """The near-match rule (``farmers.identity.near_match``) between two households' members,
    phones compared by their blind indexes."""
    return near_match(mine, theirs, same_district=their_district == district)


# --- a whole file --------------------------------------------------------------------------

ChunkCallback = Callable[[ChunkResult, Chunk], None]

_SWITCH_INTERVAL = 0.0005  # seconds, while a file runs (``run``)


def run(
    ctx: Context,
    handle: IO[bytes],
    filename: str,
    *,
    write: bool,
    after_row: int = 0,
    on_chunk: ChunkCallback,
    chunk_size: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    staged: Callable[[Chunk], str | None] | None = None,
    stages: Sequence[StagedChunk] = (),
) -> Totals:
    """Check (or import, when ``write``) the file chunk by chunk; ``on_chunk`` is called after
    each (inside its transaction when writing). Chunks ending at or before ``after_row`` were
    committed by an earlier run and are skipped; ``should_stop()`` is asked before each chunk.
    When writing, ``staged(chunk)`` gives the chunk as the check stored it (``dump_stage``),
    or ``None``: a staged chunk is written without cleaning its rows again. ``stages``: every
    chunk the check staged, in file order: they are written without reading the file at all,
    until one cannot be (a programme closed, an ID registered meanwhile), from which the file is
    read again chunk by chunk.

    Python and PostgreSQL work at the same time (two cores): a helper thread prepares the
    next chunk (the check: cleans it; the import: reads the staged chunk back and builds its
    ``COPY`` rows) while this thread runs the current chunk's queries, ``COPY`` and commit.
    The helper never touches the database: every query, the transaction of each chunk, the
    progress and the cancel check stay in this thread, in file order."""
    stream = RowStream(handle, filename)
    assert stream.header is not None
    totals = Totals(ignored_columns=list(stream.header.ignored))
    size = chunk_size or int(settings.IMPORT_CHUNK_HOUSEHOLDS)
    source = chunks(stream, size)
    # What the helper reads of the actor and the language, settled here, in the job's thread.
    ctx.actor.areas  # noqa: B018 - read once, by this thread's database connection
    language = translation.get_language()
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-helper")
    # This thread waits on PostgreSQL often (each COPY buffer, each query): it gets the GIL
    # back from the helper sooner with a shorter switch interval (5 ms by default).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_INTERVAL)
    try:
        if write:
            resume = (
                _import_stages(ctx, stages, helper, totals, after_row, on_chunk, should_stop)
                if stages
                else after_row
            )
            if resume is not None:
                _run_import(ctx, source, helper, totals, resume, on_chunk, should_stop, staged)
        else:
            _run_check(ctx, source, helper, totals, after_row, on_chunk, language)
    finally:
        helper.shutdown(wait=True, cancel_futures=True)
        sys.setswitchinterval(interval)
    return totals


def _next_chunk(ctx: Context, source: Iterator[Chunk], after_row: int) -> Chunk | None:
    """The file's next chunk not committed by an earlier run."""
    while True:
        with ctx.timed("read"):
            chunk = next(source, None)
        if chunk is None or chunk.last_row > after_row:
            return chunk


def _run_check(
    ctx: Context,
    source: Iterator[Chunk],
    helper: ThreadPoolExecutor,
    totals: Totals,
    after_row: int,
    on_chunk: ChunkCallback,
    language: str | None,
) -> None:
    def clean_ahead(today: date) -> tuple[Chunk, list[_Prepared]] | None:
        # In the helper: the next chunk read and cleaned (no query).
        with translation.override(language):
            chunk = _next_chunk(ctx, source, after_row)
            return (chunk, _clean(ctx, chunk, today)) if chunk is not None else None

    following = helper.submit(clean_ahead, ctx.today or timezone.localdate())
    while True:
        with ctx.timed("wait for the helper"):
            ahead = following.result()
        if ahead is None:
            break
        chunk, prepared = ahead
        following = helper.submit(clean_ahead, ctx.today or timezone.localdate())
        result = process_chunk(ctx, chunk, write=False, prepared=prepared)
        with ctx.timed("progress"):
            on_chunk(result, chunk)
        totals.add(result.totals)


@dataclass(frozen=True)
class StagedChunk:
    """A chunk as the check staged it: its first and last file rows, and ``read()`` giving its
    text (``dump_stage``; ``None`` when it is gone)."""

    first_row: int
    last_row: int
    read: Callable[[], str | None]


class _NotAsStaged(Exception):
    """A staged chunk that cannot be written as the check left it."""


def _import_stages(
    ctx: Context,
    stages: Sequence[StagedChunk],
    helper: ThreadPoolExecutor,
    totals: Totals,
    after_row: int,
    on_chunk: ChunkCallback,
    should_stop: Callable[[], bool] | None,
) -> int | None:
    """Write the staged chunks after ``after_row`` without reading the file (each chunk's text
    read here, its rows built by the helper while this thread writes the chunk before). Returns
    ``None`` when done (or stopped), else the last row committed: the chunk after it could not
    be written as staged, and the file is read again from there (``_run_import``)."""
    writing = Writing.read()
    language = translation.get_language()
    pending = [stage for stage in stages if stage.last_row > after_row]

    def build(stage: StagedChunk) -> Future[tuple[ChunkResult, Rows | None] | None] | None:
        with ctx.timed("load stage"):
            text = stage.read()
        if text is None:
            return None
        return helper.submit(_prepare_staged, ctx, text, writing, language)

    following = build(pending[0]) if pending else None
    for index, stage in enumerate(pending):
        if should_stop is not None and should_stop():
            return None
        building = following
        following = build(pending[index + 1]) if index + 1 < len(pending) else None
        with ctx.timed("wait for the helper"):
            built = building.result() if building is not None else None
        if built is None:
            return after_row
        staged, rows = built
        try:
            with ctx.timed("commit"), transaction.atomic():
                if not _process_staged(ctx, staged, rows, writing, look_up_ids=ctx.look_up_ids):
                    raise _NotAsStaged
                with ctx.timed("progress"):
                    on_chunk(staged, Chunk([], [], stage.last_row))
        except (_NotAsStaged, IntegrityError):
            return after_row
        totals.add(staged.totals)
        after_row = stage.last_row
    return None


def _run_import(
    ctx: Context,
    source: Iterator[Chunk],
    helper: ThreadPoolExecutor,
    totals: Totals,
    after_row: int,
    on_chunk: ChunkCallback,
    should_stop: Callable[[], bool] | None,
    staged: Callable[[Chunk], str | None] | None,
) -> None:
    writing = Writing.read()
    language = translation.get_language()

    def ahead() -> tuple[Chunk, Future[tuple[ChunkResult, Rows | None] | None] | None] | None:
        # The next chunk, and its staged rows being built by the helper.
        chunk = _next_chunk(ctx, source, after_row)
        if chunk is None:
            return None
        text = None
        if staged is not None:
            with ctx.timed("load stage"):
                text = staged(chunk)
        if text is None:
            return chunk, None
        return chunk, helper.submit(_prepare_staged, ctx, text, writing, language)

    following = ahead()
    while following is not None:
        chunk, building = following
        if should_stop is not None and should_stop():
            break
        following = ahead()
        built = None
        if building is not None:
            with ctx.timed("wait for the helper"):
                built = building.result()
        for attempt in range(3):
            try:
                with ctx.timed("commit"), transaction.atomic():
                    if (
                        attempt == 0
                        and built is not None
                        and _process_staged(
                            ctx, built[0], built[1], writing, look_up_ids=ctx.look_up_ids
                        )
                    ):
                        result = built[0]
                    else:
                        result = process_chunk(
                            ctx, chunk, write=True, look_up_ids=ctx.look_up_ids or attempt > 0
                        )
                    with ctx.timed("progress"):
                        on_chunk(result, chunk)
                break
            except IntegrityError:
                # Someone registered one of these IDs meanwhile: check the chunk again, in
                # full.
                if attempt == 2:
                    raise
                for household in chunk.households:
                    household.errors = {row.number: [] for row in household.rows}
        totals.add(result.totals)
