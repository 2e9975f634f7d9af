"""Reading an import file: CSV (comma, semicolon or tab; UTF-8 or Windows-1252) or XLSX (first
sheet) into a :class:`Table` of rows keyed by column name, within the size and row limits."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .columns import _HEADER_ALIASES, REQUIRED_COLUMNS, Column, _slug, header_aliases

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024


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


Names = tuple[dict[str, str], tuple[str, ...]]


def _xlsx_table(data: bytes, names: Names) -> Table:
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
        return _build_table(workbook.worksheets[0].iter_rows(values_only=True), names)
    finally:
        workbook.close()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_blank_row(cells: Sequence[Any]) -> bool:
    """Whether every cell is blank (a loop that stops at the first filled cell: called for
    each of a file's rows)."""
    for value in cells:
        if value is not None and (not isinstance(value, str) or value.strip()):
            return False
    return True


def _build_table(raw_rows: Iterable[Sequence[Any]], names: Names) -> Table:
    """Map the header to column names (``names``: header aliases and required columns), then
    keep the non-blank rows (at most ``MAX_ROWS``)."""
    aliases, required = names
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


def read_table(
    source: bytes | IO[bytes], filename: str, columns: tuple[Column, ...] | None = None
) -> Table:
    """Read a CSV (comma, semicolon or tab; UTF-8 with or without BOM) or an XLSX file (first
    sheet), whose header names the household import's columns (or ``columns``: another import
    of the same machinery). Raises ``ValidationError`` (no field) with a clear message when the
    file is unusable.
    """
    if columns is not None:
        names = (header_aliases(columns), tuple(c.name for c in columns if c.required))
    else:
        names = (_HEADER_ALIASES, REQUIRED_COLUMNS)
    data = _read_limited(source)
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or (
        not name.endswith((".csv", ".txt")) and data.startswith(b"PK\x03\x04")
    ):
        return _xlsx_table(data, names)
    if name.endswith(".xls"):
        raise _file_error(
            _("Old Excel files (.xls) are not supported: save it as .xlsx or .csv."),
            "unsupported_format",
        )
    if name.endswith((".csv", ".txt")) or not name:
        return _build_table(_csv_rows(data), names)
    raise _file_error(
        _("Upload a .csv or .xlsx file."),
        "unsupported_format",
    )
