"""Issue 15, build 3: indicators a monitoring officer can sign — only reviewed households count,
cost per result over the whole cohort, and no suppressed cell recoverable by differencing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import combinations
from typing import Any

import pytest

from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household
from farmers.reporting import indicators
from farmers.reporting.indicators import RANK, IndicatorQuery
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.models import Program
from tests.factories import OrganizationFactory
from tests.farmers.ledger import PICHARI, SIVIA, change, household, seed_ledger, support

pytestmark = pytest.mark.django_db
STAFF = Actor(unrestricted=True)


def rows(metric: str, *group_by: str, suppress: bool = False, **kw: Any) -> list[dict[str, Any]]:
    query = IndicatorQuery(metric=metric, group_by=group_by, suppress=suppress, **kw)
    return indicators.indicator_rows(actor=STAFF, query=query)


def test_cost_per_result_counts_everything_spent_on_the_cohort(program: Program) -> None:
    """DEVIDA spent S/ 5,120 on 16 families; 9 became coca-free: S/ 569 a coca-free family (not
    S/ 320, what was spent on those 9 alone)."""
    devida = OrganizationFactory.create(code="devida", kind=OrganizationKind.FUNDER)
    for n in range(16):
        h = household(program, PICHARI, stage=Stage.COCA_FREE if n < 9 else Stage.COMMITTED)
        change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 2, 1))
        if n < 9:
            change(h, Stage.COMMITTED, Stage.COCA_FREE, date(2026, 5, 1))
        support(h, "320.00", devida)
    pending = household(program, PICHARI, status=HouseholdStatus.PENDING_REVIEW)
    support(pending, "1000.00", devida)  # not reviewed: neither its cost nor itself counts
    cells = {r["stage"]: r for r in rows("cost_per_household", "program")}
    coca_free = cells["coca_free"]
    assert (coca_free["households"], coca_free["total_cost_pen"]) == (9, "5120.00")
    assert coca_free["cost_per_household_pen"] == "568.89"
    assert round(Decimal(coca_free["cost_per_household_pen"])) == 569
    assert cells["committed"]["cost_per_household_pen"] == "320.00"  # 5,120 / 16
    # For a period: the spend given in it over the families that reached the rung in it.
    may = rows(
        "cost_per_household", "program", date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)
    )
    assert {r["stage"]: r["households"] for r in may} == {
        "enrolled": 16, "committed": 16, "coca_free": 9
    }  # fmt: skip
    april = rows(
        "cost_per_household", "program", date_from=date(2026, 4, 1), date_to=date(2026, 12, 31)
    )
    assert april == []  # nothing was spent from April on: no cost to divide


NOT_COUNTED = [
    HouseholdStatus.PENDING_REVIEW,
    HouseholdStatus.REJECTED,
    HouseholdStatus.INACTIVE,
    HouseholdStatus.MERGED,
]
EVERY_METRIC = [
    ("households", ("district", "program", "stage")),
    ("households", ("month", "district", "program", "stage")),
    ("flows", ("month", "district", "program")),
    ("relapse_rate", ("district", "program")),
    ("cost_per_household", ("district", "program")),
    ("tenure", ("district", "program", "stage")),
]


@pytest.mark.parametrize("status", NOT_COUNTED)
def test_unreviewed_households_never_count(program: Program, status: str) -> None:
    seed_ledger(program)
    period: dict[str, Any] = {"date_from": date(2026, 1, 1), "date_to": date(2026, 12, 31)}
    before = {(m, g): rows(m, *g, **period) for m, g in EVERY_METRIC}
    usaid = OrganizationFactory.create(code="otro-fondo", kind=OrganizationKind.FUNDER)
    for stage in (Stage.COCA_FREE, Stage.RELAPSED, Stage.MARKET_LINKED):
        h = household(program, PICHARI, stage=stage, status=status)
        change(h, Stage.ENROLLED, Stage.COCA_FREE, date(2026, 3, 3))
        Household.objects.filter(pk=h.pk).update(milestones={"tenure": "2026-03-03"})
        support(h, "77.00", usaid)
    after = {(m, g): rows(m, *g, **period) for m, g in EVERY_METRIC}
    assert after == before


# --- the differencing attack ------------------------------------------------------------------

DIMS = ("district", "program", "stage")


def _subsets(dims: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for n in range(1, len(dims) + 1) for c in combinations(dims, n)]


def _attack(tables: dict[tuple[str, ...], list[dict[str, Any]]], value: str) -> list[Any]:
    """Every published table of one metric (by each group_by) gives equations: a coarse cell is
    the sum of the finer cells it contains (absent cells are 0). Peel: an equation with one
    unknown reveals it; repeat. Returns the suppressed cells recovered."""
    known: dict[tuple[Any, ...], int] = {}
    unknown: set[tuple[Any, ...]] = set()
    cells_of: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for dims, cells in tables.items():
        cells_of[dims] = []
        for cell in cells:
            key = (dims, tuple(cell[d] for d in dims))
            cells_of[dims].append(key)
            if cell["suppressed"]:
                unknown.add(key)
            else:
                known[key] = cell[value]
    equations = []
    for coarse in tables:
        for fine in tables:
            if set(coarse) < set(fine):
                for total in cells_of[coarse]:
                    where = dict(zip(coarse, total[1], strict=True))
                    parts = [
                        k for k in cells_of[fine]
                        if all(k[1][fine.index(d)] == v for d, v in where.items())
                    ]  # fmt: skip
                    equations.append((total, parts))
    recovered = []
    progress = True
    while progress:
        progress = False
        for total, parts in equations:
            terms = [total, *parts]
            missing = [t for t in terms if t not in known]
            if len(missing) == 1:
                [m] = missing
                rest = sum(known[p] for p in parts if p in known)
                known[m] = known[total] - rest if m != total else rest
                recovered.append(m)
                progress = True
    return [m for m in recovered if m in unknown]


@pytest.fixture
def many_small_cells(program: Program) -> None:
    """seed_ledger plus a few more small groups across districts, programmes and stages."""
    data = seed_ledger(program)
    for n, (district, stage) in enumerate(
        [(SIVIA, Stage.COMMITTED)] * 7 + [(SIVIA, Stage.COCA_FREE)] * 2
        + [(PICHARI, Stage.LICIT_PRODUCTION)] * 3 + [(PICHARI, Stage.EXCLUDED)] * 1
    ):  # fmt: skip
        h = household(program if n % 4 else data["other"], district, stage=stage)
        change(h, Stage.ENROLLED, stage, date(2026, 3, 1 + n % 20))
        Household.objects.filter(pk=h.pk).update(
            milestones={"tenure": "2026-03-01"} if n % 2 else {}
        )


@pytest.mark.parametrize("metric", ["households", "tenure"])
def test_no_suppressed_cell_is_recovered_by_differencing(
    many_small_cells: None, metric: str
) -> None:
    tables = {g: rows(metric, *g, suppress=True) for g in _subsets(DIMS)}
    assert any(c["suppressed"] for t in tables.values() for c in t)
    assert _attack(tables, "households") == []


def test_the_cost_ladder_and_relapse_rate_reveal_no_households_now_cell(
    many_small_cells: None,
) -> None:
    """Without a period a rung counts the households at that stage or beyond, and the relapse
    rate's counts are sums of the same cells: together with every households table, no
    suppressed households-now cell can be recovered."""
    for dims in (("program",), ("district",), ("district", "program")):
        now = {
            c[-1] if False else tuple(c[d] for d in (*dims, "stage")): c
            for c in rows("households", *dims, "stage", suppress=True)
        }
        ladder = rows("cost_per_household", *dims, suppress=True)
        relapse = rows("relapse_rate", *dims, suppress=True)
        known = {k: c["households"] for k, c in now.items() if not c["suppressed"]}
        hidden = {k for k, c in now.items() if c["suppressed"]}
        equations = []
        for rung in ladder:
            if rung["suppressed"]:
                continue
            cell = tuple(rung[d] for d in dims)
            parts = [k for k in now if k[:-1] == cell and RANK[k[-1]] >= RANK[rung["stage"]]]
            equations.append((rung["households"], parts))
        for r in relapse:
            if r["suppressed"]:
                continue
            cell = tuple(r[d] for d in dims)
            parts = [k for k in now if k[:-1] == cell and k[-1] in (Stage.RELAPSED, Stage.EXCLUDED)]
            equations.append((r["households_relapsed"], parts))
            parts = [k for k in now if k[:-1] == cell and RANK[k[-1]] >= RANK[Stage.COCA_FREE]]
            equations.append((r["households_reached"], parts))
        # Differences of equations over nested sets (ladder rungs) are equations too.
        for (a, pa), (b, pb) in combinations(list(equations), 2):
            if set(pb) < set(pa):
                equations.append((a - b, [p for p in pa if p not in pb]))
            elif set(pa) < set(pb):
                equations.append((b - a, [p for p in pb if p not in pa]))
        recovered = []
        for _total, parts in equations:
            missing = [p for p in parts if p not in known]
            if len(missing) == 1:
                recovered.append(missing[0])
        assert [m for m in recovered if m in hidden] == [], dims
