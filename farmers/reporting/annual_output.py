"""The annual results report as data (the API's JSON) and as a workbook (XLSX, Spanish sheets):
labels, never codes, in the workbook; no personal data in either (only the report's cells)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from registry import display

from .annual import SPLITS, Labels, Report, Section, all_sections
from .annual_snapshots import cached, data_key, keep
from .suppression import THRESHOLD

NUMBER_FORMATS = {
    "count": "#,##0",
    "set": "#,##0",
    "ha": "#,##0.00",
    "kg": "#,##0.00",
    "pen": "#,##0.00",
    "days": "#,##0.0",
}
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def report_data(report: Report, labels: Labels | None = None) -> dict[str, Any]:
    """The report as the API's JSON: filters, period and, per section, its figures and cells
    (each with its area, group and key, their labels, its values and ``suppressed``). A report
    computed from stored rows keeps its JSON in the cache, per language and day."""
    key = None
    if report.cache_key is not None and labels is None:
        key = data_key(report.cache_key, report.generated_on)
        found = cached(key)
        if found is not None:
            return dict(found)
    data = _report_data(report, labels or Labels(report))
    if key is not None:
        keep(key, data)
    return data


def _report_data(report: Report, labels: Labels) -> dict[str, Any]:
    query = report.query
    sections = []
    for section in all_sections():
        if section.name not in report.cells:
            continue
        sections.append(
            {
                "name": section.name,
                "title": str(section.title),
                "key_title": str(section.key_title),
                "figures": [
                    {"name": f.name, "label": str(f.label), "kind": f.kind} for f in section.figures
                ],
                "cells": [
                    {
                        "level": cell["level"],
                        "area": cell["area"],
                        "area_label": labels(cell["level"], cell["area"]),
                        "split": cell["split"],
                        "group": cell["group"],
                        "group_label": labels(cell["split"], cell["group"]),
                        "key": cell["key"],
                        "key_label": labels.key(section, cell["key"]),
                        "values": {f.name: _json_value(cell[f.name]) for f in section.figures},
                        "suppressed": cell["suppressed"],
                    }
                    for cell in report.cells[section.name]
                ],
            }
        )
    return {
        "period_from": report.period_from,
        "period_to": report.period_to,
        "generated_on": report.generated_on,
        "figures_as_of": report.figures_as_of,
        "filters": {
            "program": query.program,
            "funder": query.funder,
            "department": query.department,
            "province": query.province,
            "district": query.district,
            "vraem": query.vraem,
        },
        "suppression_threshold": THRESHOLD,
        "sections": sections,
    }


def _sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique sheet title (at most 31 characters, none of ``[]:*?/\\``)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Hoja"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _write_section(
    workbook: Workbook, section: Section, report: Report, labels: Labels, used: set[str]
) -> None:
    sheet = workbook.create_sheet(_sheet_title(str(section.sheet or section.title), used))
    headers = [
        _("Level"),
        _("Area"),
        _("Disaggregation"),
        _("Group"),
        str(section.key_title),
        *[str(f.label) for f in section.figures],
        _("Reserved cell (fewer than %(n)s families)") % {"n": THRESHOLD},
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    split_labels = dict(SPLITS)
    for cell in report.cells[section.name]:
        row: list[Any] = [
            labels("level", cell["level"]),
            labels(cell["level"], cell["area"]),
            str(split_labels[cell["split"]]),
            labels(cell["split"], cell["group"]),
            labels.key(section, cell["key"]),
        ]
        for figure in section.figures:
            value = cell[figure.name]
            row.append(float(value) if isinstance(value, Decimal) else value)
        row.append(_("Yes") if cell["suppressed"] else _("No"))
        sheet.append(row)
    for index, figure in enumerate(section.figures, start=6):
        letter = get_column_letter(index)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = NUMBER_FORMATS.get(figure.kind, "General")
        sheet.column_dimensions[letter].width = 18
    for index, width in enumerate((16, 28, 22, 26, 30), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def figures_as_of(report: Report) -> tuple[str, str]:
    """The summary line saying when the figures were computed (stored or for this request)."""
    if report.figures_as_of is None:
        return _("Figures as of"), _("computed for this page")
    return _("Figures as of"), _(
        "%(moment)s (stored figures, refreshed nightly after the sweep)"
    ) % {"moment": display.moment(report.figures_as_of)}


def report_workbook(report: Report) -> bytes:
    """The report as an XLSX workbook, in Spanish: a summary sheet, then one sheet per section
    with Spanish headers, labels (never codes) and numbers as numbers."""
    with translation.override("es"):
        labels = Labels(report)
        workbook = Workbook()
        summary = workbook.active
        used: set[str] = set()
        summary.title = _sheet_title(_("Summary"), used)
        query = report.query
        lines = [
            (_("Annual results report"), ""),
            (_("Period"), f"{display.day(report.period_from)} – {display.day(report.period_to)}"),
            (_("Drawn on"), display.day(report.generated_on)),
            figures_as_of(report),
            (_("Programme"), query.program or _("All")),
            (_("Funding source"), query.funder or _("All")),
            (
                _("Small cells"),
                _(
                    "Cells counting fewer than %(n)s families are reserved (left empty), and so "
                    "are enough others that none can be recovered from the totals."
                )
                % {"n": THRESHOLD},
            ),
        ]
        for line in lines:
            summary.append(list(line))
        summary["A1"].font = Font(bold=True, size=14)
        summary.column_dimensions["A"].width = 24
        summary.column_dimensions["B"].width = 90
        for section in all_sections():
            if section.name in report.cells:
                _write_section(workbook, section, report, labels, used)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
