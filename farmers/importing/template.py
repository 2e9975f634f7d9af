"""The template workbook offered for download: the columns and two example rows, as CSV or as
XLSX with a help sheet describing each column."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from .cleaning import _text
from .columns import COLUMN_NAMES, COLUMNS

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
        "enrolled_on": date(2024, 8, 1),
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
        "enrolled_on": None,
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
