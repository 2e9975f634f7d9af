"""The template offered for download, in Spanish: the columns and two example rows, as CSV or
as XLSX with a drop-down on every choice column (data validation) and a help sheet."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from .cleaning import _text
from .columns import CHOICE_COLUMNS, COLUMN_NAMES, COLUMNS, SPANISH_HEADERS, spanish_labels

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
LISTS_SHEET = "listas"


def _spanish_example(example: dict[str, Any]) -> dict[str, Any]:
    """An example row with its coded values as the Spanish labels the drop-downs offer."""
    with translation.override("es"):
        shown = dict(example)
        for name in ("document_type", "sex", "relationship"):
            if example[name]:
                choices = CHOICE_COLUMNS[name]
                shown[name] = str(choices(example[name]).label)
        if example["consent_purposes"]:
            purposes = CHOICE_COLUMNS["consent_purposes"]
            shown["consent_purposes"] = "; ".join(
                str(purposes(code).label) for code in example["consent_purposes"].split(",")
            )
    return shown


def template_csv() -> bytes:
    """The CSV template: Spanish header and two example rows, UTF-8 with a BOM (Excel reads
    accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([SPANISH_HEADERS[name] for name in COLUMN_NAMES])
    for example in TEMPLATE_EXAMPLE:
        shown = _spanish_example(example)
        writer.writerow([_text(shown[name]) for name in COLUMN_NAMES])
    return buffer.getvalue().encode("utf-8-sig")


def _choice_lists() -> dict[str, list[str]]:
    """The values of each drop-down: programme codes, districts (ubigeo · name) and the
    Spanish labels of the coded columns."""
    from registry.models import District, Program

    lists = {
        "program": list(
            Program.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
        ),
        "district": [
            f"{ubigeo} · {name}"
            for ubigeo, name in District.objects.order_by("ubigeo").values_list("ubigeo", "name")
        ],
    }
    for name in ("document_type", "sex", "relationship", "consent_purposes"):
        lists[name] = spanish_labels(name)
    return lists


def template_xlsx(rows: int = 2000) -> bytes:
    """The XLSX template in Spanish: the sheet to fill (first), with a drop-down on every
    choice column for its first ``rows`` rows, a help sheet describing each column, and the
    drop-downs' values on a hidden sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "hogares"
    sheet.append([SPANISH_HEADERS[name] for name in COLUMN_NAMES])
    for example in TEMPLATE_EXAMPLE:
        shown = _spanish_example(example)
        sheet.append([shown[name] if shown[name] is not None else "" for name in COLUMN_NAMES])
    lists_sheet = workbook.create_sheet(LISTS_SHEET)
    lists_sheet.sheet_state = "hidden"
    lists = _choice_lists()
    with translation.override("es"):
        for list_index, (name, values) in enumerate(lists.items(), start=1):
            letter = get_column_letter(list_index)
            lists_sheet.cell(row=1, column=list_index, value=SPANISH_HEADERS[name])
            for offset, value in enumerate(values, start=2):
                lists_sheet.cell(row=offset, column=list_index, value=value)
            column = get_column_letter(COLUMN_NAMES.index(name) + 1)
            several = name == "consent_purposes"
            validation = DataValidation(
                type="list",
                formula1=f"{LISTS_SHEET}!${letter}$2:${letter}${max(len(values), 1) + 1}",
                allow_blank=True,
                showErrorMessage=not several,
                errorTitle=str(_("Value not in the list")),
                error=str(_("Choose a value from the list.")),
                promptTitle=SPANISH_HEADERS[name],
                prompt=str(
                    _("Choose from the list; several separated by semicolons.")
                    if several
                    else _("Choose from the list.")
                ),
                showInputMessage=True,
            )
            validation.add(f"{column}2:{column}{rows + 1}")
            sheet.add_data_validation(validation)
    for index, name in enumerate(COLUMN_NAMES, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(16, len(SPANISH_HEADERS[name]) + 4)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        for row in range(2, len(TEMPLATE_EXAMPLE) + 2):
            cell = sheet.cell(row=row, column=index)
            if name in _TEXT_COLUMNS:
                cell.number_format = "@"
            elif isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
        if name in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    with translation.override("es"):
        help_sheet = workbook.create_sheet(str(_("Help"))[:31], 1)
        help_sheet.append(
            [str(_("Column")), str(_("Required")), str(_("Level")), str(_("Content"))]
        )
        for column_spec in COLUMNS:
            help_sheet.append(
                [
                    SPANISH_HEADERS[column_spec.name],
                    str(_("yes") if column_spec.required else _("no")),
                    str(_("household") if column_spec.household_level else _("member")),
                    str(column_spec.help),
                ]
            )
        help_sheet.append([])
        help_sheet.append(
            [
                str(
                    _(
                        "One row per member. Household columns may be left blank on the "
                        "household's other rows; when repeated they must agree."
                    )
                )
            ]
        )
    help_sheet.column_dimensions["A"].width = 30
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
