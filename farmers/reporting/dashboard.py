"""The programme-staff dashboard: what the admin's ``dashboard/`` page shows, read set-based.

Everything comes from :mod:`farmers.reporting.indicators` (unsuppressed: programme staff may see the
families themselves) and from open alerts, narrowed to the person's area, in a fixed number of
queries whatever the number of households. Charts are drawn as inline SVG by
:mod:`farmers.reporting.charts`.

The map is schematic: the registry ships INEI's list of districts (``registry/data/
ubigeo_inei.csv``) but no boundaries or centroids, so each district with households is a tile in
its department's panel, shaded by its number of households.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import LIVE_ALERT_STATUSES, AlertKind
from registry.models import Alert, District

from ..choices import Stage
from . import charts, indicators, tenure_track
from .indicators import LADDER, IndicatorQuery

STAGE_COLORS: dict[str, str] = {
    Stage.ENROLLED: charts.GREY,
    Stage.COMMITTED: charts.ORANGE,
    Stage.COCA_FREE: charts.SKY,
    Stage.LICIT_PRODUCTION: charts.GREEN,
    Stage.MARKET_LINKED: charts.PURPLE,
    Stage.GRADUATED: charts.YELLOW,
    Stage.RELAPSED: charts.VERMILLION,
    Stage.EXCLUDED: charts.BLACK,
}
OVERDUE_KINDS = (AlertKind.TITLE_OVERDUE, AlertKind.DELIVERY_OVERDUE)


@dataclass(frozen=True)
class Figure:
    """A headline number with its label."""

    label: str
    value: str
    note: str = ""


def _month_labels(months: list[date]) -> list[str]:
    """Short month names; the year under the first month and under each January."""
    return [
        f"{dateformat.format(m, 'M')}\n{m.year}"
        if i == 0 or m.month == 1
        else dateformat.format(m, "M")
        for i, m in enumerate(months)
    ]


def _soles(value: Decimal) -> str:
    return f"S/ {value.quantize(Decimal('0.01')):,}"


def dashboard_context(*, actor: Actor, today: date | None = None) -> dict[str, Any]:
    """Figures, charts and tables of the dashboard for ``actor`` (about ten queries)."""
    today = today or timezone.localdate()
    base = IndicatorQuery(suppress=False, today=today)
    # 1. Households now, by district, programme and stage (one query feeds four views).
    now = indicators.households_now(
        actor=actor, query=replace(base, group_by=("district", "program", "stage"))
    )
    by_stage: dict[str, int] = defaultdict(int)
    by_district: dict[str, int] = defaultdict(int)
    for cell in now:
        by_stage[cell["stage"]] += cell["households"]
        by_district[cell["district"]] += cell["households"]
    total = sum(by_stage.values())

    # 2. Monthly stage at each month's end, and the month's relapses (12 months).
    months = indicators.month_range(base)
    period = replace(base, date_from=months[0], date_to=today)
    monthly = indicators.households_by_month(
        actor=actor, query=replace(period, group_by=("month", "stage"))
    )
    flows = indicators.flows(actor=actor, query=replace(period, group_by=("month",)))
    relapses_by_month: dict[str, int] = defaultdict(int)
    for cell in flows:
        if cell["to_stage"] == Stage.RELAPSED:
            relapses_by_month[cell["month"]] += cell["households"]

    # 3. Cost per result, by programme (all funding sources together, and by source).
    cost_cells = indicators.cost_per_household(
        actor=actor,
        query=replace(base, metric="cost_per_household", group_by=("program",)),
    )

    # 4. Open alerts: overdue titles and deliveries by district, and all open alerts.
    alert_rows = list(
        Alert.objects.filter(
            actor.area_q(district_path="district_id", program_path="program_id"),
            status__in=LIVE_ALERT_STATUSES,
        )
        .order_by()
        .values("district_id", "kind")
        .annotate(n=Count("pk"))
    )
    overdue: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in alert_rows:
        if row["kind"] in OVERDUE_KINDS:
            overdue[row["district_id"]][row["kind"]] += row["n"]

    # District names and departments for the map and the tables (one query).
    wanted = set(by_district) | set(overdue)
    districts = {
        d.ubigeo: d for d in District.objects.filter(ubigeo__in=wanted).select_related("department")
    }

    reached = sum(n for stage, n in by_stage.items() if indicators.RANK.get(stage, 0) >= 2) - sum(
        by_stage.get(s, 0) for s in indicators.RELAPSE_STAGES
    )
    figures = [
        Figure(_("Households"), charts.number(total)),
        Figure(
            _("Coca-free or beyond"),
            charts.number(reached),
            f"{reached / total:.0%}" if total else "",
        ),
        Figure(_("Relapses in 12 months"), charts.number(sum(relapses_by_month.values()))),
        Figure(_("Open alerts"), charts.number(sum(row["n"] for row in alert_rows))),
    ]
    return {
        "figures": figures,
        "funnel_chart": _funnel(by_stage),
        "tenure_chart": tenure_track.dashboard_chart(actor=actor, query=base),
        "stages_chart": _stages_over_time(months, monthly),
        "relapse_chart": _relapses(months, relapses_by_month),
        "map_chart": _map(by_district, districts),
        "overdue_chart": _overdue(overdue, districts),
        "overdue_rows": _overdue_rows(overdue, districts),
        "cost_charts": _costs(cost_cells),
        "cost_rows": [
            {**c, "stage_label": Stage(c["stage"]).label} for c in cost_cells if c["households"]
        ],
        "has_data": bool(total),
        "today": today,
    }


def _funnel(by_stage: dict[str, int]) -> SafeString:
    bars = []
    # Relapsed and excluded families count as enrolled: they come back only through a new
    # agreement and a new coca-free visit.
    rung = {stage: LADDER.index(stage) if stage in LADDER else 0 for stage in by_stage}
    for rank, stage in enumerate(LADDER):
        n = sum(v for s, v in by_stage.items() if rung[s] >= rank)
        bars.append(charts.Bar(str(Stage(stage).label), n, charts.number(n), STAGE_COLORS[stage]))
    for stage in (Stage.RELAPSED, Stage.EXCLUDED):
        n = by_stage.get(stage, 0)
        bars.append(charts.Bar(str(Stage(stage).label), n, charts.number(n), STAGE_COLORS[stage]))
    return charts.hbars(
        _("Stage funnel: households at each stage or beyond"),
        bars,
        empty_message=_("No households yet."),
    )


def _stages_over_time(months: list[date], monthly: list[dict[str, Any]]) -> SafeString:
    labels = [f"{m.year:04d}-{m.month:02d}" for m in months]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for cell in monthly:
        counts[cell["stage"]][cell["month"]] = cell["households"]
    series = [
        (str(Stage(stage).label), STAGE_COLORS[stage], [counts[stage].get(m, 0) for m in labels])
        for stage in Stage.values
        if stage in counts
    ]
    return charts.columns(
        _("Households by stage at the end of each month"),
        _month_labels(months),
        series,
        empty_message=_("No households yet."),
    )


def _relapses(months: list[date], relapses: dict[str, int]) -> SafeString:
    values = [relapses.get(f"{m.year:04d}-{m.month:02d}", 0) for m in months]
    return charts.columns(
        _("Relapses per month"),
        _month_labels(months),
        [(_("Relapses"), charts.VERMILLION, values)],
        empty_message=_("No relapses in the last 12 months."),
    )


def _map(by_district: dict[str, int], districts: dict[str, District]) -> SafeString:
    groups: dict[str, list[charts.Tile]] = defaultdict(list)
    for ubigeo, n in sorted(by_district.items(), key=lambda item: -item[1]):
        district = districts.get(ubigeo)
        department = district.department.name if district else "—"
        groups[department].append(charts.Tile(district.name if district else ubigeo, n))
    return charts.tile_map(
        _("Households by district"),
        sorted(groups.items()),
        empty_message=_("No households yet."),
        legend_title=_("Households per district"),
    )


def _overdue(overdue: dict[str, dict[str, int]], districts: dict[str, District]) -> SafeString:
    bars = []
    for ubigeo, kinds in sorted(overdue.items(), key=lambda item: -sum(item[1].values()))[:15]:
        titles = kinds.get(AlertKind.TITLE_OVERDUE, 0)
        deliveries = kinds.get(AlertKind.DELIVERY_OVERDUE, 0)
        name = districts[ubigeo].name if ubigeo in districts else ubigeo
        shown = _("%(t)s titles · %(d)s deliveries") % {"t": titles, "d": deliveries}
        bars.append(charts.Bar(name, titles + deliveries, shown, charts.ORANGE))
    return charts.hbars(
        _("Overdue titles and deliveries (open alerts)"),
        bars,
        empty_message=_("Nothing overdue."),
    )


def _overdue_rows(
    overdue: dict[str, dict[str, int]], districts: dict[str, District]
) -> list[dict[str, Any]]:
    rows = []
    for ubigeo, kinds in sorted(overdue.items()):
        district = districts.get(ubigeo)
        rows.append(
            {
                "ubigeo": ubigeo,
                "district": district.name if district else ubigeo,
                "titles": kinds.get(AlertKind.TITLE_OVERDUE, 0),
                "deliveries": kinds.get(AlertKind.DELIVERY_OVERDUE, 0),
            }
        )
    return rows


def _costs(cells: list[dict[str, Any]]) -> list[SafeString]:
    """One chart per programme: cost per household reaching each stage, all sources together."""
    per_program: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for cell in cells:
        households, spent = per_program[cell["program"]].get(cell["stage"], (0, Decimal(0)))
        per_program[cell["program"]][cell["stage"]] = (
            cell["households"],
            spent + Decimal(cell["total_cost_pen"]),
        )
    result = []
    for program, stages in sorted(per_program.items()):
        bars = []
        for stage in LADDER:
            if stage not in stages:
                continue
            households, spent = stages[stage]
            per_household = spent / households if households else Decimal(0)
            bars.append(
                charts.Bar(
                    str(Stage(stage).label),
                    float(per_household),
                    _soles(per_household),
                    STAGE_COLORS[stage],
                )
            )
        result.append(
            charts.hbars(
                _("Cost per household reaching each stage — %(program)s") % {"program": program},
                bars,
                empty_message=_("No support recorded yet."),
            )
        )
    return result
