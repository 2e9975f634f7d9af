"""The error report of an import job as a workbook: the rows with errors as the file had them
(Spanish headers, the file's row number first), each cell in error marked red with its message
as a comment, and all the row's messages in an "Errores" column beside the cells. Fixed and
uploaded again, it imports just those rows (what was imported already is skipped)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from .cleaning import _text
from .columns import COLUMNS, SPANISH_HEADERS
from .pipeline import RowStream

ROW_HEADER = "Fila"
ERRORS_HEADER = "Errores"


def error_workbook(job: Any) -> bytes:
    """The rows of ``job``'s file with errors, as XLSX (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    issues: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row, column, message in job.issues.order_by("row", "id").values_list(
        "row", "column", "message"
    ):
        issues[row].append((column, message))
    names = [c.name for c in COLUMNS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("errores")
    bold = Font(bold=True)
    red = PatternFill("solid", fgColor="FFC7CE")
    header = [ROW_HEADER, *(SPANISH_HEADERS[n] for n in names), ERRORS_HEADER]
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    with job.file.open("rb") as handle:
        for row in RowStream(handle, job.filename):
            found = issues.get(row.number)
            if not found:
                continue
            by_column: dict[str, list[str]] = defaultdict(list)
            for column, message in found:
                by_column[column].append(message)
            line: list[Any] = [row.number]
            for name in names:
                cell = WriteOnlyCell(sheet, value=_cell_value(row.values.get(name)))
                if name in by_column:
                    cell.fill = red
                    cell.comment = Comment("\n".join(by_column[name]), "Registro")
                line.append(cell)
            line.append(
                "\n".join(
                    f"{SPANISH_HEADERS.get(column, column)}: {message}" if column else message
                    for column, message in found
                )
            )
            sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    return _text(value) if not hasattr(value, "isoformat") else value
