"""Aggregate indicators of the transition away from coca, for funders and programme staff.

Every indicator is computed set-based in one or two SQL queries, whatever the number of
households (portable between SQLite and PostgreSQL), and narrowed to the actor's area with
``Actor.area_q`` like every other read. Households are counted in their *current* district and
programme, and only while live (pending review or active).

Metrics (``IndicatorQuery.metric``):

``households``           households by stage (now), or by the stage they were at on the last
                         day of each month when ``month`` is a dimension (from the ledger).
``flows``                stage changes (``from_stage → to_stage``) per cell: households moved.
``relapse_rate``         households that ever relapsed / households that ever reached
                         ``coca_free`` (or beyond).
``cost_per_household``   support given (PEN) to households that reached each stage of the
                         ladder, by funding source, divided by the households that reached it.
``tenure``               the tenure track: households holding secure tenure (the ``tenure``
                         milestone), by programme, district or stage now
                         (:mod:`farmers.reporting.tenure_track`).

**Small-cell suppression** (DESIGN.md §7), applied when ``suppress`` is true (the funders' API):

1. Primary: any cell counting fewer than ``SUPPRESSION_THRESHOLD`` (5) households has its counts
   and every value derived from them (rates, totals, costs) set to ``None`` and
   ``suppressed: True``; the cell itself is still listed, so its absence reveals nothing.
2. Rates: a relapse rate is shown only when both its numerator and its denominator are 5 or more.
3. Ladder differencing: the cost cells of one programme, district and source are cumulative
   ("at or beyond the stage"), so subtracting two adjacent cells would reveal the households
   exactly at a stage. Going up the ladder, a cell is also suppressed when it differs from the
   last shown cell below it by 1 to 4 households.

Cells that do not exist (no household at all) are not listed. Complementary disclosure across
*separate* requests (e.g. a department total minus its districts) is not prevented; the
threshold and the absence of totals in each response keep it to aggregates of 5 or more.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
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
from django.db.models.functions import TruncMonth
from django.utils import timezone

from registry.actors import Actor
from registry.choices import Scope

from ..choices import LIVE_STATUSES, Stage
from ..models import Household, StageChange, Support

SUPPRESSION_THRESHOLD = 5
MAX_MONTHS = 60

METRICS = ("households", "flows", "relapse_rate", "cost_per_household", "tenure")
DIMENSIONS = ("district", "program", "stage", "month")
# Which dimensions each metric can be grouped by (the others are part of every row).
METRIC_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "households": ("district", "program", "stage", "month"),
    "flows": ("district", "program", "month"),
    "relapse_rate": ("district", "program"),
    "cost_per_household": ("district", "program"),
    "tenure": ("district", "program", "stage"),
}
DEFAULT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "households": ("stage",),
    "flows": ("month",),
    "relapse_rate": ("program",),
    "cost_per_household": ("program",),
    "tenure": ("program",),
}

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
    """Live households in the actor's area (where it may read indicators), filtered."""
    households = Household.objects.filter(
        actor.area_q(
            district_path="district_id", program_path="program_id", scope=Scope.INDICATORS_READ
        ),
        status__in=LIVE_STATUSES,
    )
    if query.program:
        households = households.filter(program__code=query.program)
    if query.district:
        households = households.filter(district_id=query.district)
    if query.department:
        households = households.filter(district__department_id=query.department)
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
    return _suppress_counts(cells, query.suppress)


def households_by_month(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Households by the stage they were at on the last day of each month: two queries.

    Every household starts ``enrolled`` when registered, and each ledger row moves one household
    out of ``from_stage`` into ``to_stage`` on ``effective_on``. So the households at stage S at
    the end of month M are: the moves into S up to M, minus the moves out of S up to M, plus (for
    ``enrolled``) the registrations up to M. Both sides are aggregated per month in SQL (one
    scan each, whatever the number of households) and accumulated here over the months.
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
    end_of_last = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    registered = (
        households.filter(created_at__lt=end_of_last)
        .order_by()
        .annotate(bucket=TruncMonth("created_at"))
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
    return _suppress_counts(cells, query.suppress)


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
    return _suppress_counts(cells, query.suppress)


# --- relapse rate -----------------------------------------------------------------------------


def relapse_rate(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Households that relapsed over households that reached coca-free, per cell: two queries.

    A household counts when its stage now says so, or (for those whose stage no longer does)
    when its ledger does: one aggregate over households and one over the ledger, no per-row
    subqueries.
    """
    dims = [d for d in query.group_by if d in ("district", "program")]
    columns = {"district": "district_id", "program": "program__code"}
    households = scoped_households(actor=actor, query=query)
    now = (
        households.order_by()
        .values(*[columns[d] for d in dims])
        .annotate(
            reached=Count("pk", filter=Q(stage__in=REACHED_COCA_FREE)),
            relapsed=Count("pk", filter=Q(stage__in=RELAPSE_STAGES)),
        )
    )
    ledger = (
        StageChange.objects.own()
        .filter(household__in=households.values("pk"))
        .order_by()
        .values(*[f"household__{columns[d]}" for d in dims])
        .annotate(
            reached=Count(
                "household_id",
                distinct=True,
                filter=Q(to_stage__in=REACHED_COCA_FREE)
                & ~Q(household__stage__in=REACHED_COCA_FREE),
            ),
            relapsed=Count(
                "household_id",
                distinct=True,
                filter=Q(to_stage__in=RELAPSE_STAGES) & ~Q(household__stage__in=RELAPSE_STAGES),
            ),
        )
    )
    counts: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in now:
        key = tuple(row[columns[d]] for d in dims)
        counts[key][0] += row["reached"]
        counts[key][1] += row["relapsed"]
    for row in ledger:
        key = tuple(row[f"household__{columns[d]}"] for d in dims)
        counts[key][0] += row["reached"]
        counts[key][1] += row["relapsed"]
    cells = []
    for key, (reached, relapsed) in sorted(counts.items(), key=lambda kv: str(kv[0])):
        if not reached:
            continue
        cell: dict[str, Any] = dict(zip(dims, key, strict=True))
        cell["households_reached"] = reached
        cell["households_relapsed"] = relapsed
        cell["relapse_rate"] = round(relapsed / reached, 4)
        cell["suppressed"] = False
        if query.suppress and min(reached, relapsed) < SUPPRESSION_THRESHOLD:
            cell.update(
                households_reached=None,
                households_relapsed=None,
                relapse_rate=None,
                suppressed=True,
            )
        cells.append(cell)
    return cells


# --- cost per household -----------------------------------------------------------------------


def _reached_rank(stage_path: str) -> Case:
    """The highest rung a household is at now (relapsed and excluded families reached
    coca-free before they relapsed)."""
    return _rank_case(stage_path)


def cost_per_household(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Support cost (PEN) per household reaching each stage, by funding source: two queries.

    ``households`` is every household of the cell at or beyond the stage now (relapsed and
    excluded families count as having reached coca-free); ``total_cost_pen`` is what the
    funding source gave them (support given within the date range, if any); the cost per
    household divides the two.
    """
    dims = [d for d in query.group_by if d in ("district", "program")]
    households = scoped_households(actor=actor, query=query)
    hh_columns = {"district": "district_id", "program": "program__code"}
    reached_rows = (
        households.order_by()
        .annotate(reached=_reached_rank("stage"))
        .values(*[hh_columns[d] for d in dims], "reached")
        .annotate(n=Count("pk"))
    )
    support = Support.objects.filter(is_active=True, household__in=households.values("pk"))
    if query.date_from:
        support = support.filter(given_on__gte=query.date_from)
    if query.date_to:
        support = support.filter(given_on__lte=query.date_to)
    sp_columns = {"district": "household__district_id", "program": "household__program__code"}
    cost_rows = (
        support.order_by()
        .annotate(reached=_reached_rank("household__stage"))
        .values(*[sp_columns[d] for d in dims], "funding_source__code", "reached")
        .annotate(total=Sum("cost_pen"))
    )
    # Per cell: households by highest rung, and cost by (source, highest rung).
    counts: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in reached_rows:
        counts[tuple(row[hh_columns[d]] for d in dims)][row["reached"]] += row["n"]
    costs: dict[tuple[Any, ...], dict[str | None, dict[int, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    for row in cost_rows:
        key = tuple(row[sp_columns[d]] for d in dims)
        costs[key][row["funding_source__code"]][row["reached"]] += row["total"] or Decimal(0)
    cells: list[dict[str, Any]] = []
    for key in sorted(counts, key=lambda k: tuple(str(v) for v in k)):
        by_rank = counts[key]
        shown = _ladder_shown([sum(n for r, n in by_rank.items() if r >= i) for i in RANK_RANGE])
        for rank, stage in enumerate(LADDER):
            n = sum(v for r, v in by_rank.items() if r >= rank)
            if n == 0:
                continue
            for source in sorted(costs[key], key=lambda s: s or ""):
                total = sum(
                    (v for r, v in costs[key][source].items() if r >= rank), start=Decimal(0)
                )
                visible = shown[rank] or not query.suppress
                cells.append(
                    {
                        **dict(zip(dims, key, strict=True)),
                        "stage": stage,
                        "funding_source": source,
                        "households": n if visible else None,
                        "total_cost_pen": _money(total) if visible else None,
                        "cost_per_household_pen": _money(total / n) if visible else None,
                        "suppressed": not visible,
                    }
                )
    return cells


RANK_RANGE = range(len(LADDER))


def _ladder_shown(cumulative: list[int]) -> list[bool]:
    """Which rungs of a cumulative ladder may be shown: 5+ households, and differing from the
    last shown rung below by 0 or 5+ households (so no difference reveals a small group)."""
    shown: list[bool] = []
    last: int | None = None
    for n in cumulative:
        ok = n >= SUPPRESSION_THRESHOLD and (
            last is None or last - n == 0 or last - n >= SUPPRESSION_THRESHOLD
        )
        shown.append(ok)
        if ok:
            last = n
    return shown


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _suppress_counts(cells: list[dict[str, Any]], suppress: bool) -> list[dict[str, Any]]:
    for cell in cells:
        small = suppress and cell["households"] < SUPPRESSION_THRESHOLD
        cell["suppressed"] = small
        if small:
            cell["households"] = None
    return cells


def indicator_rows(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """The cells of ``query.metric`` for ``actor`` (suppressed when ``query.suppress``)."""
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
    raise ValueError(query.metric)
