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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.utils import timezone

from registry.actors import Actor
from registry.choices import Scope

from .choices import LIVE_STATUSES, Stage
from .models import Household, StageChange, Support

SUPPRESSION_THRESHOLD = 5
MAX_MONTHS = 60

METRICS = ("households", "flows", "relapse_rate", "cost_per_household")
DIMENSIONS = ("district", "program", "stage", "month")
# Which dimensions each metric can be grouped by (the others are part of every row).
METRIC_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "households": ("district", "program", "stage", "month"),
    "flows": ("district", "program", "month"),
    "relapse_rate": ("district", "program"),
    "cost_per_household": ("district", "program"),
}
DEFAULT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "households": ("stage",),
    "flows": ("month",),
    "relapse_rate": ("program",),
    "cost_per_household": ("program",),
}

# The ladder of DESIGN.md §6, lowest first; relapsed and excluded are off the ladder.
LADDER: tuple[str, ...] = (
    Stage.ENROLLED,
    Stage.COMMITTED,
    Stage.COCA_FREE,
    Stage.LICIT_PRODUCTION,
    Stage.FORMALIZED,
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


def _ids_to_codes(rows: Iterable[dict[str, Any]]) -> dict[int, str]:
    from registry.models import Program

    ids = {row["program"] for row in rows if row.get("program") is not None}
    return dict(Program.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}


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
    """Households by the stage they were at on the last day of each month: one query.

    From the ledger: the stage of a household on day D is the ``to_stage`` of its latest
    ``StageChange`` effective on or before D; before its first change (and from its
    registration) it is ``enrolled``.
    """
    months = month_range(query)
    if not months:
        return []
    households = scoped_households(actor=actor, query=query).order_by().values("pk")
    try:
        scoped_sql, scoped_params = households.query.sql_with_params()
    except EmptyResultSet:  # the actor's area is empty
        return []
    ops = connection.ops
    values_sql = ", ".join(["(%s, %s, %s)"] * len(months))
    values_params: list[Any] = []
    for first in months:
        last = month_end(first)
        next_start = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
        values_params += [
            _label(first),
            ops.adapt_datefield_value(last),
            ops.adapt_datetimefield_value(next_start),
        ]
    hh = Household._meta.db_table
    sc = StageChange._meta.db_table
    sql = f"""
        WITH months (month_label, month_end, next_start) AS (VALUES {values_sql}),
        hh AS (
            SELECT id, district_id, program_id, created_at FROM {hh} WHERE id IN ({scoped_sql})
        ),
        spans AS (
            SELECT sc.household_id, sc.to_stage AS stage, sc.effective_on AS start_on,
                   LEAD(sc.effective_on) OVER (
                       PARTITION BY sc.household_id ORDER BY sc.effective_on, sc.id
                   ) AS end_on
            FROM {sc} sc WHERE sc.household_id IN (SELECT id FROM hh)
        ),
        firsts AS (
            SELECT household_id, MIN(effective_on) AS first_on FROM {sc}
            WHERE household_id IN (SELECT id FROM hh) GROUP BY household_id
        )
        SELECT m.month_label, s.stage, hh.district_id, hh.program_id, COUNT(*)
        FROM months m
        JOIN spans s ON s.start_on <= m.month_end AND (s.end_on IS NULL OR s.end_on > m.month_end)
        JOIN hh ON hh.id = s.household_id
        GROUP BY m.month_label, s.stage, hh.district_id, hh.program_id
        UNION ALL
        SELECT m.month_label, %s, hh.district_id, hh.program_id, COUNT(*)
        FROM months m
        JOIN hh ON hh.created_at < m.next_start
        LEFT JOIN firsts f ON f.household_id = hh.id
        WHERE f.first_on IS NULL OR f.first_on > m.month_end
        GROUP BY m.month_label, hh.district_id, hh.program_id
    """  # noqa: S608 - table names from the models, values as parameters
    params = [*values_params, *scoped_params, str(Stage.ENROLLED)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    dims = [d for d in query.group_by if d in DIMENSIONS]
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    keyed = [
        {"month": month, "stage": stage, "district": district, "program": program, "n": n}
        for month, stage, district, program, n in raw
    ]
    codes = _ids_to_codes(keyed)
    for row in keyed:
        row["program"] = codes.get(row["program"], row["program"])
        totals[tuple(row[d] for d in dims)] += int(row["n"])
    cells = [
        {**dict(zip(dims, key, strict=True)), "households": n} for key, n in sorted(totals.items())
    ]
    return _suppress_counts(cells, query.suppress)


# --- flows ------------------------------------------------------------------------------------


def flows(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Stage changes between stages (households moved), per month and/or area: one query."""
    changes = StageChange.objects.filter(
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
    """Households that relapsed over households that reached coca-free, per cell: one query."""
    ledger = StageChange.objects.filter(household_id=OuterRef("pk"))
    reached = Q(stage__in=REACHED_COCA_FREE) | Exists(ledger.filter(to_stage__in=REACHED_COCA_FREE))
    relapsed = Q(stage__in=RELAPSE_STAGES) | Exists(ledger.filter(to_stage__in=RELAPSE_STAGES))
    dims = [d for d in query.group_by if d in ("district", "program")]
    columns = {"district": "district_id", "program": "program__code"}
    rows = (
        scoped_households(actor=actor, query=query)
        .order_by()
        .values(*[columns[d] for d in dims])
        .annotate(
            reached=Sum(Case(When(reached, then=1), default=0, output_field=IntegerField())),
            relapsed=Sum(Case(When(relapsed, then=1), default=0, output_field=IntegerField())),
        )
    )
    cells = []
    for row in rows:
        if not row["reached"]:
            continue
        cell: dict[str, Any] = {d: row[columns[d]] for d in dims}
        cell["households_reached"] = int(row["reached"])
        cell["households_relapsed"] = int(row["relapsed"])
        cell["relapse_rate"] = round(row["relapsed"] / row["reached"], 4)
        cell["suppressed"] = False
        if query.suppress and min(row["reached"], row["relapsed"]) < SUPPRESSION_THRESHOLD:
            cell.update(
                households_reached=None,
                households_relapsed=None,
                relapse_rate=None,
                suppressed=True,
            )
        cells.append(cell)
    cells.sort(key=lambda c: tuple(str(c.get(d) or "") for d in dims))
    return cells


# --- cost per household -----------------------------------------------------------------------


def _reached_rank(household_path: str) -> Any:
    """Highest rung of the ladder a household has reached: its stage now or any in its ledger."""
    ledger_max = (
        StageChange.objects.filter(household_id=OuterRef(household_path))
        .order_by()
        .values("household_id")
        .annotate(top=Max(_rank_case("to_stage")))
        .values("top")
    )
    stage_path = "stage" if household_path == "pk" else "household__stage"
    return Greatest(_rank_case(stage_path), Coalesce(Subquery(ledger_max), Value(0)))


def cost_per_household(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Support cost (PEN) per household reaching each stage, by funding source: two queries.

    ``households`` is every household of the cell at or beyond the stage (its current stage, or
    any stage in its ledger); ``total_cost_pen`` is what the funding source gave them (support
    given within the date range, if any); the cost per household divides the two.
    """
    dims = [d for d in query.group_by if d in ("district", "program")]
    households = scoped_households(actor=actor, query=query)
    hh_columns = {"district": "district_id", "program": "program__code"}
    reached_rows = (
        households.order_by()
        .annotate(reached=_reached_rank("pk"))
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
        .annotate(reached=_reached_rank("household_id"))
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
    raise ValueError(query.metric)
