"""The transition ledger's rows for a stage move: one row per rung reached (DESIGN.md §6).

When a recompute moves a household up more than one rung at once (``enrolled`` →
``licit_production``: an imported history, or evidence recorded late), the ledger gets a row for
every rung in between (``enrolled → committed``, ``committed → coca_free``,
``coca_free → licit_production``), each effective on the day that rung was reached (its
milestone). So the stage of any household on any day, and every "by month" figure, is rebuilt
from the ledger alone: replaying a household's rows in id order ends at its stored stage.

A drop (expiry), a relapse, an exclusion or any move off the ladder is one row. A readmitted
family (``relapsed`` →) climbs back from ``committed``: its first row says ``readmitted``.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from .rules import (
    COCA_FREE,
    COMMITTED,
    GRADUATED,
    LADDER,
    LICIT_PRODUCTION,
    MARKET_LINKED,
    RANK,
    RELAPSED,
    Reason,
    Result,
)

#: Why a rung was reached (the ledger reason of its row).
RUNG_REASONS = {
    COMMITTED: Reason.AGREEMENT_SIGNED,
    COCA_FREE: Reason.COCA_FREE_VISIT,
    LICIT_PRODUCTION: Reason.LICIT_CONFIRMED,
    MARKET_LINKED: Reason.DELIVERY_ACCEPTED,
    GRADUATED: Reason.GRADUATION_MET,
}


class Step(NamedTuple):
    """One ledger row: a move from one stage to the next, effective on a day."""

    from_stage: str
    to_stage: str
    effective_on: date
    reason: str


def steps(previous: str, result: Result) -> list[Step]:
    """The ledger rows of a move from the stored stage ``previous`` to ``result``'s stage (none
    when the stage did not move), in order, each effective on the day its rung was reached."""
    target = result.stage
    if target == previous:
        return []
    last = Step(previous, target, result.since, result.change_reason(previous))
    rank = RANK.get(target)
    if rank is None:  # relapsed, excluded
        return [last]
    start = RANK[previous] + 1 if previous in RANK else RANK[COMMITTED]
    if rank - start < 1:  # one rung (or a drop)
        return [last]
    rows: list[Step] = []
    before = previous
    for rung in LADDER[start:rank]:
        on = result.milestones.get(rung)
        day = min(date.fromisoformat(on), result.since) if on else result.since
        reason = Reason.READMITTED if before == RELAPSED else RUNG_REASONS[rung]
        rows.append(Step(before, rung, day, reason))
        before = rung
    rows.append(Step(before, target, result.since, result.reason))
    return rows


__all__ = ["RUNG_REASONS", "Step", "steps"]
