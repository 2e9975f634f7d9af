"""Aggregate indicators of the transition away from coca, for funders and programme staff.

Every indicator is computed set-based in a fixed number of SQL queries, whatever the number of
households (portable between SQLite and PostgreSQL), and narrowed to the actor's area with
``Actor.area_q`` like every other read. Only **reviewed (active)** households count: pending
review, rejected, inactive and merged-away records never do. Households are counted in their
*current* district and programme. ``docs/indicators.md`` defines every metric exactly.

Metrics (``IndicatorQuery.metric``):

``households``           households served, by stage (now), or by the stage they were at on the
                         last day of each month when ``month`` is a dimension (from the ledger).
``flows``                stage changes (``from_stage → to_stage``) per cell: households moved.
``relapse_rate``         households that ever relapsed / households that ever reached
                         ``coca_free`` (or beyond).
``cost_per_household``   cost per result: everything a funding source spent on the cell's
                         households in the period ÷ the households that reached each rung of the
                         ladder in that period.
``tenure``               the tenure track: households holding secure tenure (the ``tenure``
                         milestone), by programme, district or stage now
                         (:mod:`farmers.reporting.tenure_track`).
``producer_organisations`` households that are open members of a producer organisation, the
                         organisations they belong to, and the kg and soles they sold through
                         them in the period (computed by the markets app, which registers it
                         with ``register_metric``: farmers never imports markets).
``training``             training and technical-assistance events attended and their
                         attendees and families, by the attendee's sex (from the member)
                         (:mod:`farmers.reporting.training`).
``families_served``, ``licit_hectares``, ``coca_reduced``, ``titles``, ``sales``, ``spend``
                         the annual report's sections (:mod:`farmers.reporting.annual`), for the
                         whole area or by district, optionally by the head's sex; the period
                         defaults to the current year.

Small-cell suppression (DESIGN.md §7) is applied when ``suppress`` is true (the funders' API),
by :func:`farmers.reporting.suppression.protect` for every metric: primary (under 5) and
complementary (no suppressed cell recoverable from a published total), plus the cost ladder's
differencing rule (:func:`_ladder_shown`).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from registry.actors import Actor
from registry.choices import Scope

from ..choices import HouseholdStatus, Stage
from ..models import Household, StageChange, Support
from .suppression import THRESHOLD, protect

SUPPRESSION_THRESHOLD = THRESHOLD
# Only reviewed households count (pending review, rejected, inactive and merged ones never do).
COUNTED_STATUSES = (HouseholdStatus.ACTIVE,)
MAX_MONTHS = 60

METRICS = (
    "households",
    "flows",
    "relapse_rate",
    "cost_per_household",
    "tenure",
    "producer_organisations",
    "training",
    # The annual report's figures (:mod:`farmers.reporting.annual`), one metric per section.
    "families_served",
    "licit_hectares",
    "coca_reduced",
    "titles",
    "sales",
    "spend",
)
DIMENSIONS = ("district", "program", "stage", "month", "sex")
# Which dimensions each metric can be grouped by (the others are part of every row).
METRIC_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "households": ("district", "program", "stage", "month"),
    "flows": ("district", "program", "month"),
    "relapse_rate": ("district", "program"),
    "cost_per_household": ("district", "program"),
    "tenure": ("district", "program", "stage"),
    "producer_organisations": ("district", "program"),
    "training": ("district", "program", "month", "sex"),
    **dict.fromkeys(
        ("families_served", "licit_hectares", "coca_reduced", "titles", "sales"),
        ("district", "sex"),
    ),
    "spend": ("district",),
}
DEFAULT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "households": ("stage",),
    "flows": ("month",),
    "relapse_rate": ("program",),
    "cost_per_household": ("program",),
    "tenure": ("program",),
    "producer_organisations": ("program",),
    "training": ("program", "sex"),
    **dict.fromkeys(
        ("families_served", "licit_hectares", "coca_reduced", "titles", "sales", "spend"), ()
    ),
}

# Metrics that are sections of the annual report, by metric name.
ANNUAL_METRICS = {
    "families_served": "families",
    "licit_hectares": "hectares",
    "coca_reduced": "coca",
    "titles": "titles",
    "sales": "sales",
    "spend": "spend",
}

# Metrics another app computes (registered from its ``AppConfig.ready()``), by name.
Computer = Callable[..., list[dict[str, Any]]]
_computers: dict[str, Computer] = {}


def register_metric(name: str, compute: Computer) -> None:
    """Register the app that computes metric ``name`` (one of ``METRICS``): ``compute(actor=...,
    query=...)`` returns its cells, suppressed when ``query.suppress``."""
    if name not in METRICS:
        raise ValueError(name)
    _computers[name] = compute


# The ladder of DESIGN.md §6, lowest first; relapsed and excluded are off the ladder.
LADDER: tuple[str, ...] = (
    Stage.ENROLLED,
    Stage.COMMITTED,
    Stage.COCA_FREE,
    Stage.LICIT_PRODUCTION,
    Stage.MARKET_LINKED,
    Stage.GRADUATED,
)
RANK = {stage: rank for rank, stage in enumerate(LADDER)}
# A relapse presupposes coca-free: relapsed and excluded households reached that rung.
RANK[Stage.RELAPSED] = RANK[Stage.EXCLUDED] = RANK[Stage.COCA_FREE]
REACHED_COCA_FREE = [s for s, r in RANK.items() if r >= RANK[Stage.COCA_FREE]]
RELAPSE_STAGES = [Stage.RELAPSED, Stage.EXCLUDED]


@dataclass(frozen=True)
class IndicatorQuery:
    """What to compute: a metric, its dimensions, filters and an optional date range."""

    metric: str = "households"
    group_by: tuple[str, ...] = ("stage",)
    program: str | None = None
    district: str | None = None
    department: str | None = None
    province: str | None = None
    vraem: bool | None = None
    funder: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    suppress: bool = True
    today: date | None = field(default=None, compare=False)


def _rank_case(field_name: str) -> Case:
    return Case(
        *[When(**{field_name: stage}, then=Value(rank)) for stage, rank in RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def scoped_households(*, actor: Actor, query: IndicatorQuery) -> QuerySet[Household]:
    """Reviewed (active) households in the actor's area (where it may read indicators),
    filtered."""
    households = Household.objects.filter(
        actor.area_q(
            district_path="district_id", program_path="program_id", scope=Scope.INDICATORS_READ
        ),
        status__in=COUNTED_STATUSES,
    )
    if query.program:
        households = households.filter(program__code=query.program)
    if query.district:
        households = households.filter(district_id=query.district)
    if query.department:
        households = households.filter(district__department_id=query.department)
    if query.province:
        households = households.filter(district__province_id=query.province)
    if query.vraem is not None:
        households = households.filter(district__is_vraem=query.vraem)
    if query.funder:
        households = households.filter(program__funder__code=query.funder)
    return households


def month_range(query: IndicatorQuery) -> list[date]:
    """First days of the months from ``date_from`` to ``date_to`` (default: the 12 months up to
    today); at most the last ``MAX_MONTHS`` of them, between the years 1900 and 2200."""
    today = query.today or timezone.localdate()
    end = query.date_to or today
    end_index = min(end.year * 12 + end.month - 1, 2200 * 12 + 11)
    if query.date_from is not None:
        start_index = query.date_from.year * 12 + query.date_from.month - 1
    else:
        start_index = end_index - 11
    start_index = max(start_index, end_index - MAX_MONTHS + 1, 1900 * 12)
    return [date(i // 12, i % 12 + 1, 1) for i in range(start_index, end_index + 1)]


def month_end(first: date) -> date:
    """The last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _label(day: date | datetime | None) -> str | None:
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


# --- households -------------------------------------------------------------------------------


def households_now(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Households by current stage (and district, programme): one query."""
    dims = [d for d in query.group_by if d in ("district", "program", "stage")]
    columns = {"district": "district_id", "program": "program__code", "stage": "stage"}
    rows = (
        scoped_households(actor=actor, query=query)
        .order_by()
        .values(*[columns[d] for d in dims])
        .annotate(n=Count("pk"))
    )
    cells = [{**{d: row[columns[d]] for d in dims}, "households": row["n"]} for row in rows]
    cells.sort(key=lambda c: tuple(str(c[d]) for d in dims))
    return protect_counts(cells, keys=dims, dims=dims, enabled=query.suppress)


def households_by_month(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Households by the stage they were at on the last day of each month: two queries.

    Every household starts ``enrolled`` on its enrolment date, and each ledger row moves one
    household out of ``from_stage`` into ``to_stage`` on ``effective_on``. So the households at
    stage S at the end of month M are: the moves into S up to M, minus the moves out of S up to
    M, plus (for ``enrolled``) the enrolments up to M. Both sides are aggregated per month in SQL
    (one scan each, whatever the number of households) and accumulated here over the months.
    """
    months = month_range(query)
    if not months:
        return []
    first, last = months[0], month_end(months[-1])
    households = scoped_households(actor=actor, query=query)
    # Grouped by calendar month over the whole history (a few dozen months); earlier months are
    # folded into the first one below.
    moves = (
        StageChange.objects.own()
        .filter(household__in=households.values("pk"), effective_on__lte=last)
        .order_by()
        .annotate(bucket=TruncMonth("effective_on"))
        .values(
            "bucket", "from_stage", "to_stage", "household__district_id", "household__program__code"
        )
        .annotate(n=Count("pk"))
    )
    # A family counts from its enrolment date (``enrolled_on``: its consent's date or the earlier
    # date an import gave; its creation day when empty), the date its ledger moves may start
    # from. Bucketing by creation instead counted an imported family's early moves before it
    # existed, and the negative running counts dropped below inflated the sums.
    registered = (
        households.annotate(enrolled=Coalesce("enrolled_on", TruncDate("created_at")))
        .filter(enrolled__lte=last)
        .order_by()
        .annotate(bucket=TruncMonth("enrolled"))
        .values("bucket", "district_id", "program__code")
        .annotate(n=Count("pk"))
    )
    # delta[(stage, district, program)][month index] (index 0 also holds all earlier months)
    delta: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * len(months))

    def index(bucket: date) -> int:
        return max((bucket.year - first.year) * 12 + bucket.month - first.month, 0)

    for row in moves:
        i = index(row["bucket"])
        where = (row["household__district_id"], row["household__program__code"])
        delta[(row["to_stage"], *where)][i] += row["n"]
        delta[(row["from_stage"], *where)][i] -= row["n"]
    for row in registered:
        i = index(row["bucket"])
        delta[(str(Stage.ENROLLED), row["district_id"], row["program__code"])][i] += row["n"]
    dims = [d for d in query.group_by if d in DIMENSIONS]
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for (stage, district, program), changes in delta.items():
        running = 0
        for i, change in enumerate(changes):
            running += change
            if running > 0:
                cell = {"month": _label(months[i]), "stage": stage, "district": district}
                cell["program"] = program
                totals[tuple(cell[d] for d in dims)] += running
    cells = [
        {**dict(zip(dims, key, strict=True)), "households": n} for key, n in sorted(totals.items())
    ]
    # Month totals are no sums of one another: lines run along the other dimensions only.
    across = [d for d in dims if d != "month"]
    return protect_counts(cells, keys=dims, dims=across, enabled=query.suppress)


# --- flows ------------------------------------------------------------------------------------


def flows(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Stage changes between stages (households moved), per month and/or area: one query."""
    changes = StageChange.objects.own().filter(
        household__in=scoped_households(actor=actor, query=query).values("pk")
    )
    if query.date_from:
        changes = changes.filter(effective_on__gte=query.date_from)
    if query.date_to:
        changes = changes.filter(effective_on__lte=query.date_to)
    dims = [d for d in query.group_by if d in ("district", "program", "month")]
    columns = {"district": "household__district_id", "program": "household__program__code"}
    changes = changes.order_by()
    if "month" in dims:
        changes = changes.annotate(month=TruncMonth("effective_on"))
        columns["month"] = "month"
    rows = changes.values("from_stage", "to_stage", *[columns[d] for d in dims]).annotate(
        n=Count("household_id", distinct=True)
    )
    cells = []
    for row in rows:
        cell = {d: row[columns[d]] for d in dims}
        if "month" in cell:
            cell["month"] = _label(cell["month"])
        cell.update(from_stage=row["from_stage"], to_stage=row["to_stage"], households=row["n"])
        cells.append(cell)
    cells.sort(key=lambda c: tuple(str(c.get(k) or "") for k in (*dims, "from_stage", "to_stage")))
    # A period's flows are the sum of its months': ``month`` is a line like the others.
    keys = (*dims, "from_stage", "to_stage")
    return protect_counts(cells, keys=keys, dims=dims, enabled=query.suppress)


# --- reaching the rungs of the ladder ----------------------------------------------------------


def _at_or_beyond(rank: int) -> list[str]:
    return [stage for stage, r in RANK.items() if r >= rank]


Reach = dict[tuple[Any, ...], list[dict[str, int]]]


def _reach(
    *, actor: Actor, query: IndicatorQuery, dims: list[str], dates: list[date | None]
) -> tuple[Reach, list[dict[str, Any]]]:
    """Households of each cell that had reached each rung (rank) and that had relapsed
    (``"relapsed"``) by each of ``dates`` (``None``: ever), and the households-now cells by
    ``dims`` and stage (as :func:`households_now` counts them): two aggregate queries.

    A household reached rung R by day D when its stage now is R or beyond since D or earlier,
    or (for the others) when its ledger moved it to R or beyond on D or earlier; every
    household reached ``enrolled`` on its enrolment. Relapsed and excluded families reached
    coca-free. The two sets are disjoint, so their counts add up.
    """
    columns = {"district": "district_id", "program": "program__code"}
    households = scoped_households(actor=actor, query=query)
    targets = {
        **{str(rank): _at_or_beyond(rank) for rank in range(1, len(LADDER))},
        "relapsed": list(RELAPSE_STAGES),
    }
    now_counts: dict[str, Any] = {}
    ledger_counts: dict[str, Any] = {}
    for d, day in enumerate(dates):
        since = Q(stage_since__lte=day) if day else Q()
        enrolled = Q()
        if day:
            end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
            enrolled = Q(created_at__lt=end)
        now_counts[f"d{d}_0"] = Count("pk", filter=enrolled)
        for name, stages in targets.items():
            now_counts[f"d{d}_{name}"] = Count("pk", filter=Q(stage__in=stages) & since)
            moved = Q(to_stage__in=stages) & (Q(effective_on__lte=day) if day else Q())
            counted = Q(household__stage__in=stages) & (
                Q(household__stage_since__lte=day) if day else Q()
            )
            ledger_counts[f"d{d}_{name}"] = Count(
                "household_id", distinct=True, filter=moved & ~counted
            )
    result: Reach = defaultdict(lambda: [defaultdict(int) for _day in dates])
    now = (
        households.order_by()
        .values(*[columns[d] for d in dims], "stage")
        .annotate(_n=Count("pk"), **now_counts)
    )
    ledger = (
        StageChange.objects.own()
        .filter(household__in=households.values("pk"))
        .order_by()
        .values(*[f"household__{columns[d]}" for d in dims])
        .annotate(**ledger_counts)
    )
    for rows, prefix in ((now, ""), (ledger, "household__")):
        for row in rows:
            key = tuple(row[f"{prefix}{columns[d]}"] for d in dims)
            for name in now_counts:
                if name in row:
                    day_index, target = name[1:].split("_", 1)
                    result[key][int(day_index)][target] += row[name]
    by_stage = [
        {**dict(zip(dims, (row[columns[d]] for d in dims), strict=True)), "stage": row["stage"]}
        | {"households": row["_n"]}
        for row in now
    ]
    return result, by_stage


def _stage_hidden(
    by_stage: list[dict[str, Any]], dims: list[str]
) -> dict[tuple[Any, ...], set[str]]:
    """The stages whose households-now cell (by ``dims`` and stage) the ``households`` metric
    suppresses, per cell of ``dims``: what it publishes beside the ladder."""
    keys = [*dims, "stage"]
    cells = protect_counts([dict(c) for c in by_stage], keys=keys, dims=keys, enabled=True)
    hidden: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for cell in cells:
        if cell["suppressed"]:
            hidden[tuple(cell[d] for d in dims)].add(cell["stage"])
    return hidden


def _ladder(
    *,
    actor: Actor,
    query: IndicatorQuery,
    dims: list[str],
    reached: tuple[Reach, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The ladder cells of each cell of ``dims``: ``households`` that reached each rung in the
    period (ever, without one), protected (two queries, unless ``reached`` is given).

    Without a period a rung counts the households at or beyond it, i.e. the sum of the
    households-now cells of that stage and above, so a rung is also hidden when a published
    difference of rungs would cover exactly one suppressed households-now cell."""
    period = query.date_from is not None or query.date_to is not None
    dates: list[date | None] = [query.date_to]
    if query.date_from is not None:
        dates.append(query.date_from - timedelta(days=1))
    reach, by_stage = reached or _reach(actor=actor, query=query, dims=dims, dates=dates)
    cells: list[dict[str, Any]] = []
    for key in sorted(reach, key=lambda k: tuple(str(v) for v in k)):
        by_date = reach[key]
        for rank, stage in enumerate(LADDER):
            n = by_date[0][str(rank)] - (by_date[1][str(rank)] if len(dates) > 1 else 0)
            if n > 0:
                cells.append({**dict(zip(dims, key, strict=True)), "stage": stage, "households": n})
    stage_hidden = None if period or not query.suppress else _stage_hidden(by_stage, dims)

    def ladder_rule(cells: list[dict[str, Any]], suppressed: list[bool]) -> set[int]:
        rungs: dict[tuple[Any, ...], dict[int, int]] = defaultdict(dict)
        for i, cell in enumerate(cells):
            rungs[tuple(cell[d] for d in dims)][RANK[cell["stage"]]] = i
        more: set[int] = set()
        for key, indexes in rungs.items():
            cumulative = [
                cells[indexes[r]]["households"] if r in indexes else 0 for r in RANK_RANGE
            ]
            allowed = [r in indexes and not suppressed[indexes[r]] for r in RANK_RANGE]
            hidden = None
            if stage_hidden is not None:
                hidden = [RANK[s] for s in stage_hidden.get(key, ())]
            shown = _ladder_shown(cumulative, allowed=allowed, hidden=hidden)
            more |= {i for r, i in indexes.items() if not shown[r]}
        return more

    return protect(
        cells,
        values=("households",),
        count=lambda c: c["households"],
        keys=(*dims, "stage"),
        dims=dims,
        also=ladder_rule,
        enabled=query.suppress,
    )


RANK_RANGE = range(len(LADDER))


def _ladder_shown(
    cumulative: list[int],
    *,
    allowed: list[bool] | None = None,
    hidden: list[int] | None = None,
) -> list[bool]:
    """Which rungs of a ladder may be shown: 5+ households (and ``allowed``), and differing from
    the last shown rung below by 0 or 5+ households (so no difference reveals a small group).

    ``hidden`` (no period: the rungs are sums of the households-now cells, whose suppressed
    ones have these ranks): the households served (rung 0) is always published, and the cells
    between two shown rungs, or above the top shown one, must hold no suppressed cell or 2+."""

    def between(low: int, high: int) -> int:
        return sum(1 for r in hidden or () if low <= r < high)

    shown: list[bool] = []
    last: tuple[int, int] | None = (0, cumulative[0]) if hidden is not None and cumulative else None
    for rank, n in enumerate(cumulative):
        ok = n >= THRESHOLD and (allowed is None or allowed[rank])
        if ok and last is not None and last[0] != rank:
            difference = abs(last[1] - n)
            ok = not 0 < difference < THRESHOLD and between(last[0], rank) != 1
        shown.append(ok)
        if ok:
            last = (rank, n)
    top = max((r for r, ok in enumerate(shown) if ok), default=None)
    if hidden is not None and top is not None and between(top, len(cumulative) + 1) == 1:
        shown[top] = False
    return shown


# --- relapse rate -----------------------------------------------------------------------------


def relapse_rate(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Households that ever relapsed over households that ever reached coca-free, per cell (the
    period does not apply): two queries.

    The denominator is the cost ladder's coca-free rung without a period, so a rate is shown
    only where that rung is (and both counts are 5 or more), and complementary suppression runs
    along the cells' dimensions."""
    dims = [d for d in query.group_by if d in ("district", "program")]
    ever = replace(query, date_from=None, date_to=None)
    both = _reach(actor=actor, query=ever, dims=dims, dates=[None])
    reach = both[0]
    ladder_hidden: set[tuple[Any, ...]] = set()
    if query.suppress:
        ladder_hidden = {
            tuple(c[d] for d in dims)
            for c in _ladder(actor=actor, query=ever, dims=dims, reached=both)
            if c["stage"] == Stage.COCA_FREE and c["suppressed"]
        }
    cells = []
    for key, (counts,) in sorted(reach.items(), key=lambda kv: str(kv[0])):
        reached, relapsed = counts[str(RANK[Stage.COCA_FREE])], counts["relapsed"]
        if not reached:
            continue
        cell: dict[str, Any] = dict(zip(dims, key, strict=True))
        cell["households_reached"] = reached
        cell["households_relapsed"] = relapsed
        cell["relapse_rate"] = round(relapsed / reached, 4)
        cells.append(cell)
    return protect(
        cells,
        values=("households_reached", "households_relapsed", "relapse_rate"),
        count=lambda c: c["households_reached"],
        keys=dims,
        dims=dims,
        primary=lambda c: (
            min(c["households_reached"], c["households_relapsed"]) < THRESHOLD
            or tuple(c[d] for d in dims) in ladder_hidden
        ),
        enabled=query.suppress,
    )


# --- cost per result --------------------------------------------------------------------------


def cost_per_household(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Cost per result (PEN), per rung of the ladder and funding source: three queries.

    ``total_cost_pen`` is everything the source spent on the cell's households (every active
    household of the cell, not only those that reached the rung; support given in the period,
    if any); ``households`` those that reached the rung in the period (ever, without one; see
    :func:`_reach`); ``cost_per_household_pen`` divides the two. A suppressed rung hides all
    three for every source.
    """
    dims = [d for d in query.group_by if d in ("district", "program")]
    households = scoped_households(actor=actor, query=query)
    support = Support.objects.filter(is_active=True, household__in=households.values("pk"))
    if query.funder:
        # The funder's own spend on the households of the programmes it funds.
        support = support.filter(funding_source__code=query.funder)
    if query.date_from:
        support = support.filter(given_on__gte=query.date_from)
    if query.date_to:
        support = support.filter(given_on__lte=query.date_to)
    sp_columns = {"district": "household__district_id", "program": "household__program__code"}
    cost_rows = (
        support.order_by()
        .values(*[sp_columns[d] for d in dims], "funding_source__code")
        .annotate(total=Sum("cost_pen"))
    )
    costs: dict[tuple[Any, ...], dict[str | None, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for row in cost_rows:
        key = tuple(row[sp_columns[d]] for d in dims)
        costs[key][row["funding_source__code"]] += row["total"] or Decimal(0)
    cells: list[dict[str, Any]] = []
    for rung in _ladder(actor=actor, query=query, dims=dims):
        key = tuple(rung[d] for d in dims)
        n, hide = rung["households"], rung["suppressed"]
        for source in sorted(costs[key], key=lambda s: s or ""):
            total = costs[key][source]
            cells.append(
                {
                    **{d: rung[d] for d in dims},
                    "stage": rung["stage"],
                    "funding_source": source,
                    "households": None if hide else n,
                    "total_cost_pen": None if hide else _money(total),
                    "cost_per_household_pen": None if hide else _money(total / n),
                    "suppressed": hide,
                }
            )
    return cells


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def protect_counts(
    cells: list[dict[str, Any]], *, keys: Sequence[str], dims: Sequence[str], enabled: bool
) -> list[dict[str, Any]]:
    """:func:`~farmers.reporting.suppression.protect` for cells counting ``households``
    (households, flows, tenure). Where ``stage`` is a key, the relapsed and excluded cells also
    form a line: their sum is the relapse rate's numerator."""
    lines: list[Callable[[dict[str, Any]], Hashable | None]] = []
    if "stage" in keys:
        others = [k for k in keys if k != "stage"]

        def relapse_line(cell: dict[str, Any]) -> Hashable | None:
            if cell.get("stage") not in RELAPSE_STAGES:
                return None
            return (*(cell.get(k) for k in others), "relapse")

        lines.append(relapse_line)
    return protect(
        cells,
        values=("households",),
        count=lambda c: c["households"],
        keys=keys,
        dims=dims,
        lines=lines,
        enabled=enabled,
    )


def indicator_result(
    *, actor: Actor, query: IndicatorQuery
) -> tuple[list[dict[str, Any]], datetime | None]:
    """The cells of ``query.metric`` for ``actor`` and when their figures were computed: the
    stamp of the annual report's stored rows for its metrics when read from them, ``None`` for
    figures computed for this call (every other metric)."""
    if query.metric in ANNUAL_METRICS:
        from .annual import annual_indicator

        return annual_indicator(actor=actor, query=query)
    return _computed_rows(actor=actor, query=query), None


def indicator_rows(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """The cells of ``query.metric`` for ``actor`` (suppressed when ``query.suppress``)."""
    return indicator_result(actor=actor, query=query)[0]


def _computed_rows(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """The cells of a metric other than the annual report's, computed for this call."""
    if query.metric == "households":
        if "month" in query.group_by:
            return households_by_month(actor=actor, query=query)
        return households_now(actor=actor, query=query)
    if query.metric == "flows":
        return flows(actor=actor, query=query)
    if query.metric == "relapse_rate":
        return relapse_rate(actor=actor, query=query)
    if query.metric == "cost_per_household":
        return cost_per_household(actor=actor, query=query)
    if query.metric == "tenure":
        from .tenure_track import households_with_tenure

        return households_with_tenure(actor=actor, query=query)
    if query.metric == "training":
        from .training import training_indicator

        return training_indicator(actor=actor, query=query)
    if query.metric in _computers:
        return _computers[query.metric](actor=actor, query=query)
    raise ValueError(query.metric)
