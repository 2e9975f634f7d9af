"""Keeping the dashboard's summary tables (``farmers.models.summaries``) up to date.

A household's **contribution** to the tables is what it adds to their cells: one household now
(district, programme, stage, tenure), its registration and its ledger rows by month, the first
month it reached each rung, and its active support by month and funding source. Only reviewed
(active) households contribute, in their current district and programme.

The services keep the tables exact inside their own transactions, set-based:

- :func:`tracking` reads the contributions of a few households before a change and after it
  (a handful of grouped queries restricted to those households) and appends the difference to
  the tables as delta rows, one ``INSERT`` per table: the transition engine (sweeps and
  recomputes) around the households it writes, a household's district or programme change, a
  merge. A cell is the sum of its rows (every reader sums), so concurrent writers never lock
  one another's cells: two sweep workers, or two reviews in one district, never wait.
- :func:`household_counted` adds or takes away a household's whole contribution when review
  makes it active or stops it being active.
- :func:`support_added` adds one support item's cost (no query).

:func:`rebuild` recomputes every table from the records, in household-id ranges (the same
grouped queries over each range); ``rebuild_dashboard_summaries`` runs it. :func:`compact`
folds each table's delta rows into one row per cell (the nightly sweep's plan runs it): on
PostgreSQL one ``DELETE … RETURNING`` feeding the ``INSERT`` of the sums, so a delta committed
meanwhile is either folded or left as it is, never lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, DateField, F, Min, Q, Sum, Value, When
from django.db.models.functions import Trunc, TruncMonth
from django.utils import timezone

from ..choices import HouseholdStatus, Stage
from ..models import (
    DashboardHouseholds,
    DashboardReach,
    DashboardRelapses,
    DashboardSpend,
    DashboardStageMonth,
    Household,
    StageChange,
    Support,
)
from ..transition.rules import TENURE
from .indicators import LADDER

__all__ = [
    "PARTS",
    "STAGE_PARTS",
    "Delta",
    "apply",
    "contributions",
    "difference",
    "household_counted",
    "rebuild",
    "register_table",
    "support_added",
    "tracking",
]

COUNTED = HouseholdStatus.ACTIVE
# The ladder of ``indicators`` (DESIGN.md §6); relapsed and excluded reached coca-free.
RANK = {str(stage): rank for rank, stage in enumerate(LADDER)}
RANK[Stage.RELAPSED] = RANK[Stage.EXCLUDED] = RANK[Stage.COCA_FREE]
RUNGS = range(1, len(LADDER))

# part → (table model, key columns, value columns)
TABLES: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "households": (
        DashboardHouseholds,
        ("district_id", "program_id", "stage", "tenure"),
        ("households",),
    ),
    "stages": (
        DashboardStageMonth,
        ("district_id", "program_id", "month", "stage"),
        ("entered", "left"),
    ),
    "reach": (DashboardReach, ("district_id", "program_id", "month", "rank"), ("households",)),
    "relapses": (DashboardRelapses, ("district_id", "program_id", "month"), ("households",)),
    "spend": (
        DashboardSpend,
        ("district_id", "program_id", "funder", "month"),
        ("cost_cents", "items"),
    ),
}
# The tables of this app (a household's contribution); ``TABLES`` also holds the apps' own.
PARTS: tuple[str, ...] = tuple(TABLES)
# part → what recomputes that table's cells from the records (the apps' tables).
RECOMPUTE: dict[str, Any] = {}
# What the transition engine changes: stage, stage_since, milestones and the ledger.
STAGE_PARTS: tuple[str, ...] = ("households", "stages", "reach", "relapses")
UPSERT_ROWS = 200

Cells = dict[tuple[Any, ...], list[int]]
Delta = dict[str, Cells]


def register_table(
    part: str,
    model: Any,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    recompute: Any,
) -> None:
    """Register an app's summary table (from its ``AppConfig.ready()``: farmers imports no app
    above it). ``recompute()`` returns the table's cells (key → values) from the records; the
    app keeps the table exact in its own services' transactions with :func:`apply` and
    :func:`difference`. :func:`rebuild` and :func:`compact` then cover it."""
    TABLES[part] = (model, keys, values)
    RECOMPUTE[part] = recompute


def _first_of_month(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _cents(value: Decimal | float | int | None) -> int:
    amount = Decimal(str(value or 0)) * 100
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _filters(ids: Collection[Any] | None, bounds: tuple[Any, Any] | None) -> tuple[Q, Q]:
    """The households (``Household``) and their records (``household_id``) to read."""
    if ids is not None:
        return Q(pk__in=list(ids)), Q(household_id__in=list(ids))
    if bounds is not None:
        lo, hi = bounds
        by_range, records = Q(), Q()
        if lo is not None:
            by_range &= Q(pk__gte=lo)
            records &= Q(household_id__gte=lo)
        if hi is not None:
            by_range &= Q(pk__lt=hi)
            records &= Q(household_id__lt=hi)
        return by_range, records
    return Q(), Q()


def contributions(
    *,
    ids: Collection[Any] | None = None,
    bounds: tuple[Any, Any] | None = None,
    parts: Sequence[str] = PARTS,
    counted_only: bool = True,
) -> Delta:
    """The cells the households contribute (``ids``, or an id range ``[lo, hi)``, or all),
    part by part, in at most seven grouped queries. ``counted_only=False`` counts them whatever
    their status (what review adds or takes away)."""
    own, records = _filters(ids, bounds)
    households = Household.objects.filter(own)
    if counted_only:
        households = households.filter(status=COUNTED)
        records &= Q(household__status=COUNTED)
    delta: Delta = {part: defaultdict(lambda: [0, 0]) for part in parts}
    if "households" in parts:
        cells = delta["households"]
        tenure = Case(
            When(milestones__has_key=TENURE, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for row in (
            households.order_by()
            .annotate(held=tenure)
            .values("district_id", "program_id", "stage", "held")
            .annotate(n=Count("pk"))
        ):
            key = (row["district_id"], row["program_id"], row["stage"], bool(row["held"]))
            cells[key][0] += row["n"]
    if "stages" in parts:
        cells = delta["stages"]
        month = Trunc("created_at", "month", output_field=DateField())
        for row in (
            households.order_by()
            .annotate(m=month)
            .values("district_id", "program_id", "m")
            .annotate(n=Count("pk"))
        ):
            month_key = (row["district_id"], row["program_id"], _first_of_month(row["m"]))
            cells[(*month_key, str(Stage.ENROLLED))][0] += row["n"]
        for row in (
            StageChange.objects.own()
            .filter(records)
            .order_by()
            .annotate(m=TruncMonth("effective_on"))
            .values(
                "household__district_id", "household__program_id", "m", "from_stage", "to_stage"
            )
            .annotate(n=Count("pk"))
        ):
            where = (row["household__district_id"], row["household__program_id"], row["m"])
            cells[(*where, row["to_stage"])][0] += row["n"]
            cells[(*where, row["from_stage"])][1] += row["n"]
    if "reach" in parts:
        _reach(delta["reach"], households, records)
    if "relapses" in parts:
        # Households, not moves: one that relapsed twice in a month counts once in it.
        cells = delta["relapses"]
        for row in (
            StageChange.objects.own()
            .filter(records, to_stage=Stage.RELAPSED)
            .order_by()
            .annotate(m=TruncMonth("effective_on"))
            .values("household__district_id", "household__program_id", "m")
            .annotate(n=Count("household_id", distinct=True))
        ):
            month_cell = (row["household__district_id"], row["household__program_id"], row["m"])
            cells[month_cell][0] += row["n"]
    if "spend" in parts:
        cells = delta["spend"]
        for row in (
            Support.objects.filter(records, is_active=True)
            .order_by()
            .annotate(m=TruncMonth("given_on"))
            .values(
                "household__district_id",
                "household__program_id",
                "funding_source__code",
                "m",
            )
            .annotate(cost=Sum("cost_pen"), n=Count("pk"))
        ):
            key = (
                row["household__district_id"],
                row["household__program_id"],
                row["funding_source__code"] or "",
                row["m"],
            )
            cells[key][0] += _cents(row["cost"])
            cells[key][1] += row["n"]
    return delta


def _reach(cells: Cells, households: Any, records: Q) -> None:
    """The month each household first reached each rung: the earliest ledger move to that rung
    or beyond, or the day it has been at its current stage, if that is at or beyond the rung
    (two queries; the earliest day is taken per household here)."""
    first: dict[str, dict[int, date]] = defaultdict(dict)
    where: dict[str, tuple[Any, Any]] = {}
    for hid, district, program, stage, since in (
        households.exclude(stage=Stage.ENROLLED)
        .filter(stage_since__isnull=False)
        .order_by()
        .values_list("pk", "district_id", "program_id", "stage", "stage_since")
    ):
        key = str(hid)
        where[key] = (district, program)
        for rank in RUNGS:
            if RANK.get(stage, 0) >= rank:
                first[key][rank] = since
    mins = {
        f"r{rank}": Min(
            Case(
                When(
                    to_stage__in=[s for s, r in RANK.items() if r >= rank], then=F("effective_on")
                ),
                output_field=DateField(),
            )
        )
        for rank in RUNGS
    }
    for row in (
        StageChange.objects.own()
        .filter(records)
        .order_by()
        .values("household_id", "household__district_id", "household__program_id")
        .annotate(**mins)
    ):
        key = str(row["household_id"])
        where[key] = (row["household__district_id"], row["household__program_id"])
        reached = first[key]
        for rank in RUNGS:
            day = row[f"r{rank}"]
            if day is not None and (rank not in reached or day < reached[rank]):
                reached[rank] = day
    for key, reached in first.items():
        district, program = where[key]
        for rank, day in reached.items():
            cells[(district, program, _first_of_month(day), rank)][0] += 1


def difference(after: Delta, before: Delta) -> Delta:
    """``after − before``, cell by cell (zero cells dropped)."""
    result: Delta = {}
    for part in after.keys() | before.keys():
        cells: Cells = {}
        for sign, delta in ((1, after.get(part, {})), (-1, before.get(part, {}))):
            for key, values in delta.items():
                cell = cells.setdefault(key, [0] * len(values))
                if len(cell) < len(values):
                    cell.extend([0] * (len(values) - len(cell)))
                for i, value in enumerate(values):
                    cell[i] += sign * value
        result[part] = {k: v for k, v in cells.items() if any(v)}
    return result


def apply(delta: Delta, sign: int = 1) -> int:
    """Add ``sign × delta`` to the tables as delta rows: one ``INSERT`` per table (per 200
    cells), never an update of a row another transaction may hold. Returns the rows written."""
    written = 0
    for part in TABLES:
        cells = delta.get(part)
        if not cells:
            continue
        model, keys, values = TABLES[part]
        rows = [
            (*key, *[sign * v for v in vector[: len(values)]])
            for key, vector in sorted(cells.items(), key=lambda kv: tuple(map(str, kv[0])))
            if any(vector[: len(values)])
        ]
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in (*keys, *values))
        placeholder = "(" + ", ".join(["%s"] * (len(keys) + len(values))) + ")"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), UPSERT_ROWS):
                chunk = rows[start : start + UPSERT_ROWS]
                # Only table and column names (from the models) are formatted in.
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                    f"{', '.join([placeholder] * len(chunk))}",
                    [value for row in chunk for value in row],
                )
        written += len(rows)
    return written


def _counted(ids: Iterable[Any]) -> list[Any]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return []
    return list(
        Household.objects.filter(pk__in=wanted, status=COUNTED).values_list("pk", flat=True)
    )


@contextmanager
def tracking(ids: Iterable[Any], *, parts: Sequence[str] = PARTS) -> Iterator[None]:
    """Keep the tables exact across the change made inside the block to households ``ids``
    (within the caller's transaction): their contributions before and after, and the difference
    added to the cells. Households not counted (not active) on either side cost one query."""
    wanted = list(dict.fromkeys(ids))
    before_ids = _counted(wanted)
    before = contributions(ids=before_ids, parts=parts) if before_ids else {}
    yield
    after_ids = _counted(wanted)
    after = contributions(ids=after_ids, parts=parts) if after_ids else {}
    if before or after:
        apply(difference(after, before))


def household_counted(household_id: Any, *, counted: bool) -> None:
    """Review made the household active (``counted``) or it stopped being active: add or take
    away its whole contribution."""
    apply(contributions(ids=[household_id], counted_only=False), 1 if counted else -1)


def support_added(support: Support, household: Household) -> None:
    """One support item recorded for an active household: its cost added to its month's cell
    (no query but the upsert)."""
    if household.status != COUNTED or not support.is_active:
        return
    funder = ""
    if support.funding_source_id is not None:
        funder = support.funding_source.code
    key = (household.district_id, household.program_id, funder, support.given_on.replace(day=1))
    apply({"spend": {key: [_cents(support.cost_pen), 1]}})


def compact() -> dict[str, int]:
    """Fold each table's delta rows into one row per cell (zero cells dropped). Returns the
    rows left per table. Safe while writers append: on PostgreSQL the rows folded are exactly
    those one ``DELETE … RETURNING`` removed; on SQLite writers are serialised anyway."""
    left: dict[str, int] = {}
    for part, (model, keys, values) in TABLES.items():
        table = connection.ops.quote_name(model._meta.db_table)
        key_list = ", ".join(connection.ops.quote_name(c) for c in keys)
        sums = ", ".join(f"SUM({connection.ops.quote_name(v)})" for v in values)
        value_list = ", ".join(connection.ops.quote_name(v) for v in values)
        nonzero = " OR ".join(f"SUM({connection.ops.quote_name(v)}) <> 0" for v in values)
        with transaction.atomic(), connection.cursor() as cursor:
            # Only table and column names (from the models) are formatted in.
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH folded AS (DELETE FROM {table} RETURNING {key_list}, {value_list}) "  # noqa: S608
                    f"INSERT INTO {table} ({key_list}, {value_list}) "
                    f"SELECT {key_list}, {sums} FROM folded GROUP BY {key_list} HAVING {nonzero}"
                )
            else:
                cursor.execute(
                    f"SELECT {key_list}, {sums} FROM {table} "  # noqa: S608
                    f"GROUP BY {key_list} HAVING {nonzero}"
                )
                rows = cursor.fetchall()
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
                placeholder = "(" + ", ".join(["%s"] * (len(keys) + len(values))) + ")"
                for start in range(0, len(rows), UPSERT_ROWS):
                    chunk = rows[start : start + UPSERT_ROWS]
                    cursor.execute(
                        f"INSERT INTO {table} ({key_list}, {value_list}) VALUES "  # noqa: S608
                        f"{', '.join([placeholder] * len(chunk))}",
                        [value for row in chunk for value in row],
                    )
        left[part] = model.objects.count()
    return left


def rebuild(*, chunk_size: int = 50_000, write: Any = None) -> dict[str, int]:
    """Recompute every table from the records, in one transaction: emptied, then the
    contributions of each household-id range added (the grouped queries of
    :func:`contributions` over the range), then the apps' tables (:func:`register_table`).
    Returns the cells per table."""
    with transaction.atomic():
        for model, _keys, _values in TABLES.values():
            model.objects.all().delete()
        lo: Any = None
        done = 0
        while True:
            ids = Household.objects.order_by("pk").values_list("pk", flat=True)
            if lo is not None:
                ids = ids.filter(pk__gte=lo)
            cut = list(ids[chunk_size : chunk_size + 1])
            hi = cut[0] if cut else None
            apply(contributions(bounds=(lo, hi)))
            done += chunk_size
            if hi is None:
                break
            if write is not None:
                write(f"  … {done:,} households")
            lo = hi
        for part, recompute in RECOMPUTE.items():
            apply({part: recompute()})
            if write is not None:
                write(f"  … {part}")
        return compact()
