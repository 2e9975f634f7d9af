"""The programme-staff dashboard: what the admin's ``dashboard/`` page shows.

Every figure comes from the summary tables (``farmers.models.summaries``, kept by the services'
transactions: :mod:`farmers.reporting.summaries`), never from the ledger, narrowed to the
person's area and to the page's filters (period in months, programme, funding source,
department, province, district, VRAEM zone), in a fixed number of queries over tables whose size
does not grow with the number of households. Overdue titles and deliveries (open alerts) are
counted from the alerts table, the live overdue ones only (an index-only scan of a partial
index). Figures, bars and districts link to the admin list of the households behind them.
Charts are inline SVG (:mod:`farmers.reporting.charts`); the map is a choropleth of district
outlines (:func:`registry.maps.district_choropleth`).

The apps above farmers add their own cards (land titles, sales) with
:func:`register_dashboard_section` from their ``AppConfig.ready()``: each builds a
:class:`Panel` from its own summary tables, in a fixed number of queries, with the page's
filters (:class:`SectionInput`) and links to its own admin lists; farmers imports neither.

Definitions (``docs/indicators.md``): households are reviewed (active) ones, in their current
district and programme; "at a month's end" replays registrations and ledger moves by month;
rungs reached in the period are households whose first arrival on a rung of the ladder (or
beyond) fell in it; spend is active support given in the period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import LIVE_ALERT_STATUSES, AlertKind, Scope
from registry.maps import Region, district_choropleth
from registry.models import Alert, District, Organization, Program

from ..choices import HouseholdStatus, Stage
from ..models import (
    DashboardHouseholds,
    DashboardReach,
    DashboardRelapses,
    DashboardSpend,
    DashboardStageMonth,
)
from . import charts
from .summaries import LADDER, RANK

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
REACHED_COCA_FREE = [s for s, r in RANK.items() if r >= RANK[Stage.COCA_FREE]]
MAX_MONTHS = 60


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class DashboardFilters:
    """What the dashboard is narrowed to: a period of whole months and an area."""

    month_from: date
    month_to: date
    program: Program | None = None
    funder: Organization | None = None
    department: str | None = None
    province: str | None = None
    district: str | None = None
    vraem: bool | None = None

    @classmethod
    def default(cls, today: date | None = None) -> DashboardFilters:
        """The twelve months up to this one, everywhere."""
        end = (today or timezone.localdate()).replace(day=1)
        return cls(month_from=month_of(month_index(end) - 11), month_to=end)

    def months(self) -> list[date]:
        """First days of the period's months (at most the last ``MAX_MONTHS``)."""
        last = month_index(self.month_to)
        first = max(month_index(self.month_from), last - MAX_MONTHS + 1)
        return [month_of(i) for i in range(first, last + 1)]

    def area(self, actor: Actor) -> Q:
        """The summary cells in the actor's area (where it may read indicators), filtered."""
        q = actor.area_q(
            district_path="district_id", program_path="program_id", scope=Scope.INDICATORS_READ
        )
        if self.program is not None:
            q &= Q(program_id=self.program.pk)
        if self.funder is not None:
            q &= Q(program__funder_id=self.funder.pk)
        if self.department:
            q &= Q(district__department_id=self.department)
        if self.province:
            q &= Q(district__province_id=self.province)
        if self.district:
            q &= Q(district_id=self.district)
        if self.vraem is not None:
            q &= Q(district__is_vraem=self.vraem)
        return q


@dataclass(frozen=True)
class Figure:
    """A headline number with its label and the list of households behind it."""

    label: str
    value: str
    note: str = ""
    href: str = ""


def area_params(f: DashboardFilters) -> dict[str, str]:
    """The page's area filters as admin-list lookups on a record's ``district`` and ``program``
    (households, title files, contracts, deliveries: ``registry.admin_toolkit.AREA_LOOKUPS``)."""
    params: dict[str, str] = {}
    if f.program is not None:
        params["program__id__exact"] = str(f.program.pk)
    if f.funder is not None:
        params["program__funder__exact"] = str(f.funder.pk)
    if f.department:
        params["district__department__exact"] = f.department
    if f.province:
        params["district__province__exact"] = f.province
    if f.district:
        params["district__exact"] = f.district
    if f.vraem is not None:
        params["district__is_vraem__exact"] = "1" if f.vraem else "0"
    return params


@dataclass
class Links:
    """Links to the admin list of households, with the page's area filters."""

    filters: DashboardFilters
    base: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base = {"status__exact": HouseholdStatus.ACTIVE, **area_params(self.filters)}

    def households(self, **params: str) -> str:
        url = reverse("admin:farmers_household_changelist")
        return f"{url}?{urlencode({**self.base, **params})}"

    def period(self) -> dict[str, str]:
        return {"from": self.filters.month_from.isoformat(), "to": self.last_day().isoformat()}

    def last_day(self) -> date:
        return month_of(month_index(self.filters.month_to) + 1) - timedelta(days=1)


@dataclass(frozen=True)
class SectionInput:
    """What a registered section builds its card from: the person, the filters, the summary
    cells in the person's area narrowed by the filters (``area``, a ``Q`` over ``district_id``
    and ``program_id``) and the period's months."""

    actor: Actor
    filters: DashboardFilters
    area: Q
    months: list[date]
    today: date

    def period(self) -> tuple[date, date]:
        """The period's first and last day."""
        return self.months[0], month_of(month_index(self.months[-1]) + 1) - timedelta(days=1)

    def month_labels(self) -> list[str]:
        return _month_labels(self.months)

    def link(self, route: str, **params: str) -> str:
        """The admin list ``route`` (e.g. ``admin:titles_titleapplication_changelist``) narrowed
        to the page's area and to ``params``."""
        return f"{reverse(route)}?{urlencode({**area_params(self.filters), **params})}"


@dataclass(frozen=True)
class Cell:
    """One cell of a section's table: its text, the admin list behind it, numeric or not."""

    text: str
    href: str = ""
    num: bool = False


@dataclass(frozen=True)
class Panel:
    """A registered section's card: a title, a note, headline figures, charts and a table."""

    key: str
    title: str
    figures: list[Figure]
    charts: list[SafeString]
    note: str = ""
    headers: list[Cell] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


SectionBuilder = Callable[[SectionInput], Panel]
SECTIONS: dict[str, tuple[int, SectionBuilder]] = {}


def register_dashboard_section(name: str, build: SectionBuilder, *, order: int = 100) -> None:
    """Add a card to the dashboard (from an app's ``AppConfig.ready()``): ``build`` reads the
    app's summary tables in a fixed number of queries, whatever the number of records."""
    SECTIONS[name] = (order, build)


def _month_labels(months: list[date]) -> list[str]:
    """Short month names; the year under the first month and under each January."""
    return [
        f"{dateformat.format(m, 'M')}\n{m.year}"
        if i == 0 or m.month == 1
        else dateformat.format(m, "M")
        for i, m in enumerate(months)
    ]


def soles(value: Decimal) -> str:
    """An amount in soles as shown on the dashboard (S/ 1,234.50)."""
    return _soles(value)


def _soles(value: Decimal) -> str:
    return f"S/ {value.quantize(Decimal('0.01')):,}"


def dashboard_context(
    *, actor: Actor, filters: DashboardFilters | None = None, today: date | None = None
) -> dict[str, Any]:
    """Figures, charts and tables of the dashboard for ``actor`` and ``filters`` (nine queries
    over the summary tables and alerts, plus each registered section's own, whatever the number
    of households and records)."""
    today = today or timezone.localdate()
    filters = filters or DashboardFilters.default(today)
    area = filters.area(actor)
    links = Links(filters)
    months = filters.months()
    first, last = months[0], months[-1]

    # 1. Households now, by district, programme, stage and tenure.
    now_rows = list(
        DashboardHouseholds.objects.filter(area)
        .order_by()
        .values("district_id", "program_id", "stage", "tenure")
        .annotate(n=Sum("households"))
    )
    by_stage: dict[str, int] = defaultdict(int)
    by_district: dict[str, int] = defaultdict(int)
    by_program: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # live, with tenure
    for row in now_rows:
        n = row["n"] or 0
        by_stage[row["stage"]] += n
        by_district[row["district_id"]] += n
        by_program[row["program_id"]][0] += n
        if row["tenure"]:
            by_program[row["program_id"]][1] += n
    total = sum(by_stage.values())

    # 2. Moves into and out of each stage by month, up to the period's end.
    moves = list(
        DashboardStageMonth.objects.filter(area, month__lte=last)
        .order_by()
        .values("program_id", "month", "stage")
        .annotate(entered=Sum("entered"), left=Sum("left"))
    )
    at_end: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    registered: dict[int, int] = defaultdict(int)
    delta: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for row in moves:
        i = max(month_index(row["month"]) - month_index(first), 0)
        delta[row["stage"]][i] += (row["entered"] or 0) - (row["left"] or 0)
        if row["month"] >= first and row["stage"] == Stage.ENROLLED:
            registered[row["program_id"]] += row["entered"] or 0
    for stage, changes in delta.items():
        running = 0
        for i, change in enumerate(changes):
            running += change
            at_end[stage][i] = max(running, 0)

    # 2b. Households that relapsed, by month: households, not moves (one that relapsed twice in
    # a month counts once in it).
    relapses = [0] * len(months)
    for row in (
        DashboardRelapses.objects.filter(area, month__gte=first, month__lte=last)
        .order_by()
        .values("month")
        .annotate(n=Sum("households"))
    ):
        relapses[month_index(row["month"]) - month_index(first)] += row["n"] or 0

    # 3. Rungs reached in the period, by programme.
    reach_rows = DashboardReach.objects.filter(area, month__gte=first, month__lte=last)
    reached: dict[int, dict[int, int]] = defaultdict(dict)
    for row in reach_rows.order_by().values("program_id", "rank").annotate(n=Sum("households")):
        reached[row["program_id"]][row["rank"]] = row["n"] or 0

    # 4. Spend in the period, by programme and funding source.
    spend_rows = DashboardSpend.objects.filter(area, month__gte=first, month__lte=last)
    if filters.funder is not None:
        spend_rows = spend_rows.filter(funder=filters.funder.code)
    spend: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in (
        spend_rows.order_by()
        .values("program_id", "funder")
        .annotate(cents=Sum("cost_cents"), items=Sum("items"))
    ):
        spend[row["program_id"]][row["funder"]] = (row["cents"] or 0, row["items"] or 0)

    # 5. Overdue titles and deliveries (open alerts) by district: an index-only count over the
    # live overdue alerts (``alert_overdue_live_idx``), never over all alerts.
    alert_rows = list(
        Alert.objects.filter(
            actor.area_q(district_path="district_id", program_path="program_id"),
            _alert_filters(filters),
            status__in=LIVE_ALERT_STATUSES,
            kind__in=OVERDUE_KINDS,
        )
        .order_by()
        .values("district_id", "kind")
        .annotate(n=Count("pk"))
    )
    overdue: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in alert_rows:
        overdue[row["district_id"]][row["kind"]] += row["n"]

    # 6–8. Labels: districts, programmes, funding sources.
    wanted = set(by_district) | set(overdue)
    districts = {d.ubigeo: d for d in District.objects.filter(ubigeo__in=wanted)}
    program_ids = set(by_program) | set(spend) | set(reached) | set(registered)
    programs = {p.pk: p for p in Program.objects.filter(pk__in=program_ids)}
    funder_codes = {code for sources in spend.values() for code in sources if code}
    funders = {o.code: o.name for o in Organization.objects.filter(code__in=funder_codes)}

    reached_coca_free = sum(by_stage.get(s, 0) for s in REACHED_COCA_FREE) - sum(
        by_stage.get(s, 0) for s in (Stage.RELAPSED, Stage.EXCLUDED)
    )
    spent = sum(c for sources in spend.values() for c, _n in sources.values())
    with_tenure = sum(v[1] for v in by_program.values())
    period = links.period()
    figures = [
        Figure(_("Households"), charts.number(total), "", links.households()),
        Figure(
            _("Coca-free or beyond"),
            charts.number(reached_coca_free),
            f"{reached_coca_free / total:.0%}" if total else "",
            links.households(
                stage__in=",".join(
                    s for s in REACHED_COCA_FREE if s not in (Stage.RELAPSED, Stage.EXCLUDED)
                )
            ),
        ),
        Figure(
            _("Registered in the period"),
            charts.number(sum(registered.values())),
            "",
            links.households(
                created_at__date__gte=period["from"], created_at__date__lte=period["to"]
            ),
        ),
        Figure(
            _("Relapses in the period"),
            charts.number(sum(relapses)),
            "",
            links.households(
                stage_changes__to_stage=Stage.RELAPSED,
                stage_changes__effective_on__gte=period["from"],
                stage_changes__effective_on__lte=period["to"],
            ),
        ),
        Figure(
            _("Secure tenure"),
            charts.number(with_tenure),
            f"{with_tenure / total:.0%}" if total else "",
            links.households(milestones__has_key="tenure"),
        ),
        Figure(
            _("Spent in the period"),
            _soles(Decimal(spent) / 100),
            "",
            links.households(
                support__given_on__gte=period["from"],
                support__given_on__lte=period["to"],
                **(
                    {"support__funding_source__code": filters.funder.code}
                    if filters.funder is not None
                    else {}
                ),
            ),
        ),
        Figure(
            _("Overdue titles and deliveries"),
            charts.number(sum(row["n"] for row in alert_rows)),
            "",
            reverse("admin:registry_alert_changelist")
            + "?"
            + urlencode({"kind__in": ",".join(OVERDUE_KINDS), "status__in": "open,acknowledged"}),
        ),
    ]
    cost_rows = _cost_rows(spend, reached, registered, programs, funders, links)
    section_input = SectionInput(actor, filters, area, months, today)
    panels = [build(section_input) for _order, build in sorted(SECTIONS.values(), key=_first)]
    return {
        "panels": panels,
        "figures": figures,
        "funnel_chart": _funnel(by_stage, links),
        "tenure_chart": _tenure(by_program, programs, links),
        "stages_chart": _stages_over_time(months, at_end),
        "relapse_chart": _relapses(months, relapses),
        "map_chart": _map(by_district, districts, links),
        "overdue_chart": _overdue(overdue, districts),
        "overdue_rows": _overdue_rows(overdue, districts, links),
        "cost_charts": _costs(cost_rows),
        "cost_rows": cost_rows,
        "has_data": bool(total),
        "today": today,
        "period": (first, last),
    }


def _first(item: tuple[int, SectionBuilder]) -> int:
    return item[0]


def _alert_filters(filters: DashboardFilters) -> Q:
    q = Q()
    if filters.program is not None:
        q &= Q(program_id=filters.program.pk)
    if filters.funder is not None:
        q &= Q(program__funder_id=filters.funder.pk)
    if filters.department:
        q &= Q(district__department_id=filters.department)
    if filters.province:
        q &= Q(district__province_id=filters.province)
    if filters.district:
        q &= Q(district_id=filters.district)
    if filters.vraem is not None:
        q &= Q(district__is_vraem=filters.vraem)
    return q


def _funnel(by_stage: dict[str, int], links: Links) -> SafeString:
    bars = []
    # Relapsed and excluded families count as enrolled: they come back only through a new
    # agreement and a new coca-free visit.
    rung = {stage: LADDER.index(stage) if stage in LADDER else 0 for stage in by_stage}
    for rank, stage in enumerate(LADDER):
        n = sum(v for s, v in by_stage.items() if rung[s] >= rank)
        stages = [s for s in by_stage if rung[s] >= rank] or [str(stage)]
        bars.append(
            charts.Bar(
                str(Stage(stage).label),
                n,
                charts.number(n),
                STAGE_COLORS[stage],
                links.households(stage__in=",".join(sorted(stages))),
            )
        )
    for stage in (Stage.RELAPSED, Stage.EXCLUDED):
        n = by_stage.get(stage, 0)
        bars.append(
            charts.Bar(
                str(Stage(stage).label),
                n,
                charts.number(n),
                STAGE_COLORS[stage],
                links.households(stage__exact=stage),
            )
        )
    return charts.hbars(
        _("Stage funnel: households at each stage or beyond"),
        bars,
        empty_message=_("No households yet."),
    )


def _tenure(
    by_program: dict[int, list[int]], programs: dict[int, Program], links: Links
) -> SafeString:
    bars = []
    for pk, (live, held) in sorted(by_program.items(), key=lambda kv: _name(programs, kv[0])):
        if not live:
            continue
        bars.append(
            charts.Bar(
                _name(programs, pk),
                held,
                _("%(n)s of %(total)s (%(share)s)")
                % {
                    "n": charts.number(held),
                    "total": charts.number(live),
                    "share": f"{held / live:.0%}",
                },
                charts.BLUE,
                links.households(program__id__exact=str(pk), milestones__has_key="tenure"),
            )
        )
    return charts.hbars(
        _("Households with secure tenure, by programme"),
        bars,
        empty_message=_("No household holds a registered title or other accepted tenure yet."),
    )


def _name(programs: dict[int, Program], pk: int) -> str:
    program = programs.get(pk)
    return program.name if program is not None else "—"


def _stages_over_time(months: list[date], at_end: dict[str, list[int]]) -> SafeString:
    series = [
        (str(Stage(stage).label), STAGE_COLORS[stage], at_end[stage])
        for stage in Stage.values
        if stage in at_end and any(at_end[stage])
    ]
    return charts.columns(
        _("Households by stage at the end of each month"),
        _month_labels(months),
        series,
        empty_message=_("No households yet."),
    )


def _relapses(months: list[date], relapses: list[int]) -> SafeString:
    return charts.columns(
        _("Relapses per month"),
        _month_labels(months),
        [(_("Relapses"), charts.VERMILLION, relapses)],
        empty_message=_("No relapses in the period."),
    )


def _map(by_district: dict[str, int], districts: dict[str, District], links: Links) -> SafeString:
    regions = [
        Region(
            ubigeo,
            districts[ubigeo].name if ubigeo in districts else ubigeo,
            n,
            _("%(n)s households") % {"n": charts.number(n)},
            links.households(district__exact=ubigeo),
        )
        for ubigeo, n in sorted(by_district.items())
        if n > 0
    ]
    return district_choropleth(
        regions,
        title=_("Households by district"),
        legend_title=_("Households per district"),
        empty_message=_("No households yet."),
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
    overdue: dict[str, dict[str, int]], districts: dict[str, District], links: Links
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
                "href": links.households(district__exact=ubigeo),
            }
        )
    return rows


def _cost_rows(
    spend: dict[int, dict[str, tuple[int, int]]],
    reached: dict[int, dict[int, int]],
    registered: dict[int, int],
    programs: dict[int, Program],
    funders: dict[str, str],
    links: Links,
) -> list[dict[str, Any]]:
    """Cost per household reaching each rung in the period, per programme and funding source:
    the source's spend in the period ÷ the households that reached the rung in it."""
    rows = []
    for pk in sorted(spend, key=lambda p: _name(programs, p)):
        for rank, stage in enumerate(LADDER):
            households = registered.get(pk, 0) if rank == 0 else reached[pk].get(rank, 0)
            if not households:
                continue
            stages = ",".join(sorted(s for s, r in RANK.items() if r >= rank))
            for code, (cents, _items) in sorted(spend[pk].items()):
                per = Decimal(cents) / 100 / households
                rows.append(
                    {
                        "program": _name(programs, pk),
                        "stage": stage,
                        "stage_label": str(Stage(stage).label),
                        "funding_source": funders.get(code, code) if code else "",
                        "households": charts.number(households),
                        "total": _soles(Decimal(cents) / 100),
                        "per_household": per,
                        "cost_per_household": _soles(per),
                        "href": links.households(program__id__exact=str(pk), stage__in=stages),
                    }
                )
    return rows


def _costs(rows: list[dict[str, Any]]) -> list[SafeString]:
    """One chart per programme: cost per household reaching each rung in the period, all
    sources together."""
    per_program: dict[str, dict[str, tuple[Decimal, str]]] = defaultdict(dict)
    for row in rows:
        per, href = per_program[row["program"]].get(row["stage"], (Decimal(0), row["href"]))
        per_program[row["program"]][row["stage"]] = (per + row["per_household"], href)
    result = []
    for program, stages in sorted(per_program.items()):
        bars = [
            charts.Bar(
                str(Stage(stage).label),
                float(stages[stage][0]),
                _soles(stages[stage][0]),
                STAGE_COLORS[stage],
                stages[stage][1],
            )
            for stage in LADDER
            if stage in stages
        ]
        result.append(
            charts.hbars(
                _("Cost per household reaching each stage — %(program)s") % {"program": program},
                bars,
                empty_message=_("No support recorded yet."),
            )
        )
    return result
