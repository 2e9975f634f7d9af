"""Household import from CSV and XLSX files (issue 3, point 9).

One row is one member; rows are grouped into households by ``household_ref``, the client's own
reference for the family. Each household goes through ``services.household_register`` with a
random id and the reference kept in ``Household.import_ref`` (unique per programme), so importing
the same file again finds the households it already made (``already_imported``) instead of
duplicating them; nobody can compute a household's id from its programme and reference. Every
household runs in its own savepoint: one bad family never stops the others. A dry run validates
every row exactly as the real run does (deduplication against the database included) and then
rolls everything back.

Columns (the header row names them; Spanish headers are accepted too, see ``COLUMNS``):

==================  ========  ===============================================================
column              required  content
==================  ========  ===============================================================
household_ref       yes       your reference for the household; rows sharing it are one family
program             yes       programme code, e.g. ``pirdais``
district            yes       INEI ubigeo of the district, 6 digits (``080910``)
community           no        community or populated centre
given_names         yes       member's given names
surnames            yes       member's surnames
document_type       no        ``dni`` (default when a number is given) or ``ce``
document_number     no        DNI (8 digits, optional check character) or CE; the head needs one
sex                 yes       ``f`` or ``m``
birth_date          yes       ``YYYY-MM-DD``, ``DD/MM/YYYY`` or an Excel date
relationship        yes       ``head``, ``spouse``, ``child``, ``parent``, ``sibling``,
                              ``grandchild``, ``other``; exactly one ``head`` per household
phone               no        Peruvian phone (``987654321``, ``+51 987 654 321``)
consent_signed_on   no        date the family signed the consent
consent_purposes    no        comma-separated: ``registry`` (needed), ``partner_sharing``,
                              ``research``, ``contact``
==================  ========  ===============================================================

Household columns (``program``, ``district``, ``community``, ``consent_*``) may be left blank on
the household's other rows; when repeated they must agree.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from registry.actors import Actor
from registry.choices import Scope
from registry.exceptions import Conflict, PermissionDenied, RegistryError
from registry.models import Program

from .choices import ConsentPurpose, DocumentType, Relationship, Sex
from .identity import normalize_document
from .models import Household, Member
from .services import household_register

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
PROGRESS_EVERY = 100
CHANNEL = "import"

# The namespace of import ids: never change it, or re-running old files would create duplicates.
# Before issue 13 imported households got uuid5(this, programme + ref) ids (guessable): kept only
# to recognise those households on a re-import (``imported_household``); new ids are random.
LEGACY_IMPORT_NAMESPACE = uuid.UUID("95de4783-c133-4fea-949f-fe1128914ff2")

ProgressCallback = Callable[[int, int], None]


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the import file: its English name, Spanish aliases and help text."""

    name: str
    required: bool
    help: str | Promise
    aliases: tuple[str, ...] = ()
    household_level: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "household_ref",
        True,
        gettext_lazy("Your reference for the household; rows sharing it are one family."),
        (
            "ref_hogar",
            "referencia_hogar",
            "referencia_del_hogar",
            "codigo_hogar",
            "cod_hogar",
            "id_hogar",
            "hogar",
        ),
    ),
    Column(
        "program",
        True,
        gettext_lazy("Programme code, e.g. pirdais."),
        ("programa", "codigo_programa"),
        household_level=True,
    ),
    Column(
        "district",
        True,
        gettext_lazy("INEI ubigeo of the district: 6 digits, e.g. 080910."),
        ("distrito", "ubigeo", "ubigeo_distrito"),
        household_level=True,
    ),
    Column(
        "community",
        False,
        gettext_lazy("Community or populated centre."),
        ("comunidad", "centro_poblado", "caserio", "localidad"),
        household_level=True,
    ),
    Column("given_names", True, gettext_lazy("Given names."), ("nombres", "nombre")),
    Column("surnames", True, gettext_lazy("Surnames."), ("apellidos",)),
    Column(
        "document_type",
        False,
        gettext_lazy("dni or ce (dni when left blank and a number is given)."),
        ("tipo_documento", "tipo_de_documento", "tipo_doc"),
    ),
    Column(
        "document_number",
        False,
        gettext_lazy(
            "DNI (8 digits, optionally with its check character) or CE; the head needs one."
        ),
        (
            "numero_documento",
            "numero_de_documento",
            "nro_documento",
            "num_documento",
            "n_documento",
            "no_documento",
            "documento",
            "dni",
        ),
    ),
    Column("sex", True, gettext_lazy("f or m."), ("sexo",)),
    Column(
        "birth_date",
        True,
        gettext_lazy("Date of birth: YYYY-MM-DD or DD/MM/YYYY."),
        ("fecha_nacimiento", "fecha_de_nacimiento"),
    ),
    Column(
        "relationship",
        True,
        gettext_lazy(
            "Relationship to the head: head, spouse, child, parent, sibling, grandchild, other. "
            "Exactly one head per household."
        ),
        ("parentesco", "relacion", "relacion_con_jefe"),
    ),
    Column("phone", False, gettext_lazy("Peruvian phone number."), ("telefono", "celular")),
    Column(
        "consent_signed_on",
        False,
        gettext_lazy("Date the family signed the consent: YYYY-MM-DD or DD/MM/YYYY."),
        ("fecha_consentimiento", "fecha_de_consentimiento", "consentimiento_fecha"),
        household_level=True,
    ),
    Column(
        "consent_purposes",
        False,
        gettext_lazy(
            "Comma-separated purposes: registry (needed), partner_sharing, research, contact."
        ),
        (
            "finalidades_consentimiento",
            "finalidades",
            "consentimiento_finalidades",
            "fines_consentimiento",
        ),
        household_level=True,
    ),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)


def _slug(text: Any) -> str:
    """``"Fecha de Nacimiento"`` → ``"fecha_de_nacimiento"``: accents, case and punctuation go."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").casefold())
    plain = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


_HEADER_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    for _alias in (_column.name, *_column.aliases):
        _HEADER_ALIASES[_slug(_alias)] = _column.name

# Spanish spellings of coded values; anything else is passed on for the service to refuse.
_SEX_ALIASES: dict[str, str] = {
    "f": Sex.FEMALE,
    "mujer": Sex.FEMALE,
    "femenino": Sex.FEMALE,
    "female": Sex.FEMALE,
    "m": Sex.MALE,
    "hombre": Sex.MALE,
    "varon": Sex.MALE,
    "masculino": Sex.MALE,
    "male": Sex.MALE,
}
_RELATIONSHIP_ALIASES: dict[str, str] = {
    **{value: value for value in Relationship.values},
    "jefe": Relationship.HEAD,
    "jefa": Relationship.HEAD,
    "jefe_de_hogar": Relationship.HEAD,
    "jefa_de_hogar": Relationship.HEAD,
    "titular": Relationship.HEAD,
    "conyuge": Relationship.SPOUSE,
    "esposo": Relationship.SPOUSE,
    "esposa": Relationship.SPOUSE,
    "pareja": Relationship.SPOUSE,
    "conviviente": Relationship.SPOUSE,
    "hijo": Relationship.CHILD,
    "hija": Relationship.CHILD,
    "padre": Relationship.PARENT,
    "madre": Relationship.PARENT,
    "hermano": Relationship.SIBLING,
    "hermana": Relationship.SIBLING,
    "nieto": Relationship.GRANDCHILD,
    "nieta": Relationship.GRANDCHILD,
    "otro": Relationship.OTHER,
    "otra": Relationship.OTHER,
}
_DOCUMENT_ALIASES: dict[str, str] = {
    "dni": DocumentType.DNI,
    "ce": DocumentType.CE,
    "c_e": DocumentType.CE,
    "carne_de_extranjeria": DocumentType.CE,
    "carne_extranjeria": DocumentType.CE,
}
_PURPOSE_ALIASES: dict[str, str] = {value: value for value in ConsentPurpose.values}


# --- reading files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One non-blank row of the file: its number as a spreadsheet shows it (header = 1) and its
    cells by column name (str, int, float, date, datetime or None)."""

    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """The rows of an import file and the header columns that were not recognised."""

    rows: list[SourceRow]
    ignored_columns: list[str] = field(default_factory=list)


def _file_error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _read_limited(source: bytes | IO[bytes]) -> bytes:
    """The file's bytes, refusing files over ``MAX_BYTES``."""
    too_large = _file_error(
        _("The file is larger than %(max)s MB: split it into smaller files.")
        % {"max": MAX_BYTES // (1024 * 1024)},
        "file_too_large",
    )
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > MAX_BYTES:
            raise too_large
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise too_large
    if not data.strip():
        raise _file_error(_("The file is empty."), "empty_file")
    return data


def _decode(data: bytes) -> str:
    """UTF-8 with or without BOM; Windows-1252 (what Excel writes as "CSV") as a fallback."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error(_("Save the CSV file as UTF-8 text."), "invalid_encoding")


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _file_error(
            _("The CSV file cannot be read: %(error)s.") % {"error": exc}, "invalid_file"
        ) from exc


def _xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise _file_error(
            _("The file is not a valid Excel workbook (.xlsx)."), "invalid_file"
        ) from exc
    try:
        if not workbook.worksheets:
            raise _file_error(_("The workbook has no sheet."), "empty_file")
        return _build_table(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _build_table(raw_rows: Iterable[Sequence[Any]]) -> Table:
    """Map the header to column names, then keep the non-blank rows (at most ``MAX_ROWS``)."""
    columns: list[str | None] = []
    ignored: list[str] = []
    rows: list[SourceRow] = []
    header_found = False
    for number, raw in enumerate(raw_rows, start=1):
        cells = list(raw)
        if all(_is_blank(cell) for cell in cells):
            continue
        if not header_found:
            header_found = True
            seen: dict[str, str] = {}
            for cell in cells:
                label = "" if cell is None else str(cell).strip()
                name = _HEADER_ALIASES.get(_slug(label))
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
            missing = [name for name in REQUIRED_COLUMNS if name not in seen]
            if missing:
                raise _file_error(
                    _("Missing columns: %(columns)s. Download the template to see the format.")
                    % {"columns": ", ".join(missing)},
                    "missing_columns",
                )
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_error(
                _("The file has more than %(max)s rows: split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}"},
                "too_many_rows",
            )
        values = {
            name: cells[index]
            for index, name in enumerate(columns)
            if name is not None and index < len(cells)
        }
        rows.append(SourceRow(number=number, values=values))
    if not header_found:
        raise _file_error(_("The file is empty."), "empty_file")
    if not rows:
        raise _file_error(_("The file has a header but no rows."), "no_rows")
    return Table(rows=rows, ignored_columns=ignored)


def read_table(source: bytes | IO[bytes], filename: str) -> Table:
    """Read a CSV (comma, semicolon or tab; UTF-8 with or without BOM) or an XLSX file (first
    sheet). Raises ``ValidationError`` (no field) with a clear message when the file is unusable.
    """
    data = _read_limited(source)
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or (
        not name.endswith((".csv", ".txt")) and data.startswith(b"PK\x03\x04")
    ):
        return _xlsx_table(data)
    if name.endswith(".xls"):
        raise _file_error(
            _("Old Excel files (.xls) are not supported: save it as .xlsx or .csv."),
            "unsupported_format",
        )
    if name.endswith((".csv", ".txt")) or not name:
        return _build_table(_csv_rows(data))
    raise _file_error(
        _("Upload a .csv or .xlsx file."),
        "unsupported_format",
    )


# --- cell values -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as text: whole-number floats lose their ``.0``; whitespace collapses."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _lower_text(value: Any) -> str:
    return _text(value).lower()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _district(value: Any) -> str:
    """Ubigeos lose their leading zero in spreadsheets (``80910``): put it back."""
    text = _text(value)
    if text.isdigit() and len(text) == 5:
        return text.zfill(6)
    return text


def _document_number(value: Any, document_type: str) -> str:
    """A number cell holding a DNI lost its leading zeros: put them back (text cells are kept)."""
    text = _text(value)
    if _is_number(value) and document_type == DocumentType.DNI and text.isdigit():
        return text.zfill(8)
    return text


def _coded(value: Any, aliases: dict[str, str]) -> str:
    text = _text(value)
    return str(aliases.get(_slug(text), text))


_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")
_DMY_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: Any) -> date | None:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or a real spreadsheet date; ``None`` when blank.

    Raises ``ValueError`` for anything else (including impossible dates like 30/02/1980).
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    if match := _ISO_DATE_RE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return date(year, month, day)
    if match := _DMY_DATE_RE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    raise ValueError(text)


def _date_key(value: Any) -> str:
    try:
        parsed = parse_date(value)
    except ValueError:
        return _text(value)
    return parsed.isoformat() if parsed else ""


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


# --- the report ------------------------------------------------------------------------------


class ImportOutcome(models.TextChoices):
    """What happened to a row."""

    CREATED = "created", pgettext_lazy("import outcome", "Created")
    ALREADY_IMPORTED = "already_imported", pgettext_lazy("import outcome", "Already imported")
    ERROR = "error", pgettext_lazy("import outcome", "Error")


@dataclass(frozen=True)
class RowError:
    """A problem with one cell (``column``) of a row, or with the whole row (``column=""``)."""

    column: str
    code: str
    message: str


@dataclass
class RowResult:
    """One row of the file in the report."""

    row: int
    household_ref: str
    outcome: str = ImportOutcome.ERROR
    household_code: str = ""
    household_id: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        """The outcome in the current language."""
        return str(ImportOutcome(self.outcome).label)


REPORT_HEADER = ("row", "household_ref", "outcome", "household_code", "column", "code", "message")


@dataclass
class ImportReport:
    """The per-row result of an import (or of a dry run) and its totals."""

    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    households_created: int = 0
    households_already_imported: int = 0
    households_with_errors: int = 0

    @property
    def households(self) -> int:
        """Households found in the file (rows without a household_ref not counted)."""
        return (
            self.households_created + self.households_already_imported + self.households_with_errors
        )

    @property
    def rows_with_errors(self) -> int:
        """Rows whose outcome is an error."""
        return sum(1 for row in self.rows if row.outcome == ImportOutcome.ERROR)

    @property
    def has_errors(self) -> bool:
        """Whether any row failed."""
        return self.rows_with_errors > 0

    def write_csv(self, stream: IO[str]) -> None:
        """Write the report: one line per error, or one line for a row without errors."""
        writer = csv.writer(stream)
        writer.writerow(REPORT_HEADER)
        for row in self.rows:
            head = [row.row, row.household_ref, row.outcome, row.household_code]
            if not row.errors:
                writer.writerow([*head, "", "", ""])
            for error in row.errors:
                writer.writerow([*head, error.column, error.code, error.message])


# --- importing -------------------------------------------------------------------------------


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
        if not program_text:
            household.add(program_row, "program", "required", _("This field is required."))
        if not district:
            household.add(district_row, "district", "required", _("This field is required."))
        program = self.program_code(program_text)

        members: list[dict[str, Any]] = []
        for row in rows:
            cells = row.values
            number_cell = cells.get("document_number")
            document_type = _coded(cells.get("document_type"), _DOCUMENT_ALIASES)
            if not document_type and not _is_blank(number_cell):
                document_type = DocumentType.DNI
            members.append(
                {
                    "given_names": _text(cells.get("given_names")),
                    "surnames": _text(cells.get("surnames")),
                    "document_type": document_type,
                    "document_number": _document_number(number_cell, document_type),
                    "sex": _coded(cells.get("sex"), _SEX_ALIASES),
                    "birth_date": self.date_cell(household, row, "birth_date"),
                    "relationship": _coded(cells.get("relationship"), _RELATIONSHIP_ALIASES),
                    "phone": _text(cells.get("phone")),
                }
            )
        consent: dict[str, Any] | None = None
        if signed_text or purposes_text:
            purposes = [
                _PURPOSE_ALIASES.get(_slug(part), part.strip())
                for part in re.split(r"[,;|]", purposes_text)
                if part.strip()
            ]
            consent = {
                "signed_on": self.date_cell(household, signed_row, "consent_signed_on"),
                "purposes": purposes,
            }

        places = {
            "program": (program_row, "program"),
            "district": (district_row, "district"),
            "community": (community_row, "community"),
            "consent.signed_on": (signed_row, "consent_signed_on"),
            "consent.purposes": (purposes_row, "consent_purposes"),
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
                        is_live=True, document_type=member["document_type"], document_number=number
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
    if not actor.has_scope(Scope.HOUSEHOLDS_WRITE):
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


# --- the template ----------------------------------------------------------------------------

TEMPLATE_EXAMPLE: tuple[dict[str, Any], ...] = (
    {
        "household_ref": "H-0001",
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "given_names": "Juana",
        "surnames": "Quispe Huamán",
        "document_type": "dni",
        "document_number": "10117410",
        "sex": "f",
        "birth_date": date(1980, 5, 1),
        "relationship": "head",
        "phone": "987654321",
        "consent_signed_on": date(2025, 3, 15),
        "consent_purposes": "registry,partner_sharing",
    },
    {
        "household_ref": "H-0001",
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "given_names": "Pedro",
        "surnames": "Mamani Ccori",
        "document_type": "dni",
        "document_number": "42345678",
        "sex": "m",
        "birth_date": date(1978, 11, 20),
        "relationship": "spouse",
        "phone": "",
        "consent_signed_on": None,
        "consent_purposes": "",
    },
)
TEMPLATE_FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
_TEXT_COLUMNS = ("household_ref", "program", "district", "document_number", "phone")


def template_csv() -> bytes:
    """The CSV template: header and two example rows, UTF-8 with a BOM (Excel reads accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMN_NAMES)
    for example in TEMPLATE_EXAMPLE:
        writer.writerow([_text(example[name]) for name in COLUMN_NAMES])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The XLSX template: the sheet to fill (first) and a help sheet describing each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "hogares"
    sheet.append(list(COLUMN_NAMES))
    for example in TEMPLATE_EXAMPLE:
        sheet.append([example[name] if example[name] is not None else "" for name in COLUMN_NAMES])
    for index, name in enumerate(COLUMN_NAMES, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(name) + 4)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        for row in range(2, len(TEMPLATE_EXAMPLE) + 2):
            cell = sheet.cell(row=row, column=index)
            if name in _TEXT_COLUMNS:
                cell.number_format = "@"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
        if name in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(str(_("Help"))[:31])
    help_sheet.append([str(_("Column")), str(_("Required")), str(_("Level")), str(_("Content"))])
    for column in COLUMNS:
        help_sheet.append(
            [
                column.name,
                _("yes") if column.required else _("no"),
                _("household") if column.household_level else _("member"),
                str(column.help),
            ]
        )
    help_sheet.append([])
    help_sheet.append(
        [
            _(
                "One row per member. Household columns may be left blank on the household's "
                "other rows; when repeated they must agree."
            )
        ]
    )
    help_sheet.column_dimensions["A"].width = 22
    help_sheet.column_dimensions["D"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_bytes(fmt: str) -> bytes:
    """The template in ``fmt`` (``xlsx`` or ``csv``)."""
    if fmt == "xlsx":
        return template_xlsx()
    if fmt == "csv":
        return template_csv()
    raise ValueError(fmt)


__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportOutcome",
    "ImportReport",
    "RowError",
    "RowResult",
    "SourceRow",
    "Table",
    "import_households",
    "imported_household",
    "parse_date",
    "read_table",
    "template_bytes",
    "template_csv",
    "template_xlsx",
]
