"""The annual results report as a printable admin page: the filter choices, each section's
tables (by key, by area, by the head's sex, age band and community) and its charts drawn on the
server (:mod:`farmers.reporting.charts`). Labels, never codes; dd/mm/aaaa; decimal comma."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from registry import display
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.models import Department, District, Organization, Program, Province

from . import charts
from .annual import SPLITS, TOTAL, Labels, Report, Section, all_sections
from .annual_output import figures_as_of
from .suppression import THRESHOLD

# The key each section's "by area" and "by the head" tables show.
HEADLINE = {"families": "served", "titles": "issued"}
PALETTE = [charts.BLUE, charts.ORANGE, charts.GREEN, charts.PURPLE, charts.SKY, charts.VERMILLION]


@dataclass
class Table:
    """A table of the page: a caption, column headers and rows of (label, texts)."""

    caption: str
    headers: list[str]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class PageSection:
    """A section as the page shows it."""

    name: str
    title: str
    tables: list[Table]
    chart: SafeString | None = None


def _text(value: Any, kind: str, suppressed: bool) -> str:
    if suppressed:
        return _("reserved")
    if value is None:
        return display.EMPTY
    if kind in ("count", "set"):
        return display.number(value, 0)
    if kind == "days":
        return display.number(value, 1)
    return display.number(value, 2)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _cells(report: Report, section: Section, **match: str) -> list[dict[str, Any]]:
    return [c for c in report.cells[section.name] if all(c[k] == v for k, v in match.items())]


def _headline(section: Section) -> str:
    return HEADLINE.get(section.name, TOTAL)


def _chart(report: Report, section: Section, labels: Labels) -> SafeString | None:
    """A bar chart of the section's keys for the whole area (suppressed bars left out)."""
    figure = next((f for f in section.figures if f.kind in ("ha", "pen", "kg")), None)
    if section.name == "families":
        figure = section.figures[0]
    if figure is None:
        return None
    cells = _cells(report, section, level="total", split="all")
    if section.name == "families":
        cells = [c for c in cells if c["key"].startswith("stage:")]
    else:
        cells = [c for c in cells if c["key"] != TOTAL]
    bars = [
        charts.Bar(
            labels.key(section, c["key"]),
            float(c[figure.name]),
            _text(c[figure.name], figure.kind, False),
            PALETTE[n % len(PALETTE)],
        )
        for n, c in enumerate(cells)
        if not c["suppressed"] and c[figure.name]
    ]
    title = f"{section.title}: {figure.label}"
    return charts.hbars(
        title, bars, empty_message=_("Nothing to draw: no figure, or all reserved.")
    )


def page_sections(report: Report, *, level: str = "department") -> list[PageSection]:
    """Each section's tables and chart: its keys for the whole area, its headline key by area
    (``level`` and the VRAEM zone) and by the head's sex, age band and community."""
    labels = Labels(report)
    out = []
    split_labels = dict(SPLITS)
    for section in all_sections():
        if section.name not in report.cells:
            continue
        headers = [str(f.label) for f in section.figures]
        tables = []
        keys = Table(str(section.title), [str(section.key_title), *headers])
        for cell in _cells(report, section, level="total", split="all"):
            keys.rows.append(
                (
                    labels.key(section, cell["key"]),
                    [_text(cell[f.name], f.kind, cell["suppressed"]) for f in section.figures],
                )
            )
        tables.append(keys)
        headline = _headline(section)
        for lvl in dict.fromkeys((level, "vraem")):
            table = Table(
                _("By %(level)s") % {"level": _lower_first(labels("level", lvl))},
                [labels("level", lvl), *headers],
            )
            for cell in _cells(report, section, level=lvl, split="all"):
                if cell["key"] == headline or (
                    section.name == "cost_per_result" and cell["key"] == "families"
                ):
                    table.rows.append(
                        (
                            labels(lvl, cell["area"]),
                            [
                                _text(cell[f.name], f.kind, cell["suppressed"])
                                for f in section.figures
                            ],
                        )
                    )
            if table.rows:
                tables.append(table)
        for split, split_label in split_labels.items():
            if split == "all":
                continue
            table = Table(str(split_label), [str(split_label), *headers])
            for cell in _cells(report, section, level="total", split=split, key=headline):
                table.rows.append(
                    (
                        labels(split, cell["group"]),
                        [_text(cell[f.name], f.kind, cell["suppressed"]) for f in section.figures],
                    )
                )
            if table.rows:
                tables.append(table)
        out.append(
            PageSection(section.name, str(section.title), tables, _chart(report, section, labels))
        )
    return out


def filter_choices(actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices: programmes, funders, and the departments, provinces and
    districts where the actor's area holds households (names shown, codes sent)."""
    from ..models import Household
    from .annual import scope_q
    from .indicators import IndicatorQuery

    households = Household.objects.filter(
        scope_q(actor, IndicatorQuery()), district_id=OuterRef("pk")
    )
    district_rows = list(
        District.objects.filter(Exists(households)).values_list(
            "ubigeo", "name", "province_id", "department_id"
        )
    )
    return {
        "program": list(Program.objects.order_by("name").values_list("code", "name")),
        "funder": list(
            Organization.objects.filter(kind=OrganizationKind.FUNDER)
            .order_by("name")
            .values_list("code", "name")
        ),
        "department": list(
            Department.objects.filter(code__in={d[3] for d in district_rows})
            .order_by("name")
            .values_list("code", "name")
        ),
        "province": list(
            Province.objects.filter(code__in={d[2] for d in district_rows})
            .order_by("name")
            .values_list("code", "name")
        ),
        "district": sorted(((d[0], d[1]) for d in district_rows), key=lambda d: d[1]),
    }


def summary_lines(report: Report) -> list[tuple[str, str]]:
    """The report's heading lines: period, date drawn, filters by name, the small-cell rule."""
    query = report.query
    names = {}
    if query.program:
        names["program"] = (
            Program.objects.filter(code=query.program).values_list("name", flat=True).first()
        )
    if query.funder:
        names["funder"] = (
            Organization.objects.filter(code=query.funder).values_list("name", flat=True).first()
        )
    lines = [
        (_("Period"), f"{display.day(report.period_from)} – {display.day(report.period_to)}"),
        (_("Drawn on"), display.day(report.generated_on)),
        figures_as_of(report),
        (_("Programme"), names.get("program") or _("All")),
        (_("Funding source"), names.get("funder") or _("All")),
    ]
    if query.vraem is not None:
        lines.append((_("VRAEM zone"), _("VRAEM") if query.vraem else _("Outside the VRAEM")))
    lines.append(
        (
            _("Small cells"),
            _(
                "“reserved”: fewer than %(n)s families, or a cell that would let one be recovered "
                "from the totals."
            )
            % {"n": THRESHOLD},
        )
    )
    return lines
