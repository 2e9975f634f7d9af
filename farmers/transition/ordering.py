"""Time order for the stage rules: evidence up to a day in time order, the cutoffs of a day,
milestones in time order (none before enrolment, no rung before the one below it), and the
evidence summary the ledger keeps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from registry.dates import add_months

from .facts import (
    ENROLLED,
    EXCLUDED,
    LADDER,
    RELAPSED,
    TENURE,
    ZERO,
    Result,
    Thresholds,
    Visit,
)


def _cutoffs(today: date, thresholds: Thresholds) -> tuple[date, date, date]:
    """The day's cutoffs: before them a visit has expired, a market link lapsed, a visit is due.
    Memoised on the three month counts (hashing the whole ``Thresholds`` costs more)."""
    return _cutoffs_of(
        today,
        thresholds.coca_free_max_age_months,
        thresholds.market_window_months,
        thresholds.visit_due_months,
    )


@lru_cache(maxsize=256)
def _cutoffs_of(today: date, visit_age: int, market: int, due: int) -> tuple[date, date, date]:
    return add_months(today, -visit_age), add_months(today, -market), add_months(today, -due)


def _until(days: Sequence[date], today: date) -> list[date]:
    """``days`` up to ``today``, sorted (no sort for the common zero or one)."""
    if len(days) <= 1:
        return [d for d in days if d <= today]
    return sorted(d for d in days if d <= today)


def _visit_order(visit: Visit) -> tuple[Any, ...]:
    # Same-day visits: a coca finding counts as the later one (the prudent reading).
    return (visit.on, visit.coca_ha > ZERO, visit.licit_ha, visit.ref)


def _visits_until(visits: Sequence[Visit], today: date) -> list[Visit]:
    """The visits up to ``today`` in time order."""
    if len(visits) <= 1:
        return [v for v in visits if v.on <= today]
    return sorted((v for v in visits if v.on <= today), key=_visit_order)


# The rungs above ``enrolled`` in ladder order, and the milestones that only follow enrolment.
_RUNGS_ABOVE = LADDER[1:]
_AFTER_ENROLMENT = (TENURE, RELAPSED, EXCLUDED)


def _in_time_order(result: Result, enrolled_on: date, today: date) -> Result:
    """No milestone precedes enrolment, and no rung precedes the rung below it.

    ``registered_on`` is the enrolment date (the consent's, or an import's). Evidence dated
    before it is not ignored but **clamped**: an agreement signed (or a visit made) before
    enrolment counts from the enrolment day. (The services refuse such dates; they remain
    possible only in data recorded before the rule, which ``rebuild_transition_ledger``
    rebuilds.) A rung is reached on the day its own criterion and all those below it hold, so
    each rung's milestone is at least the one below it (e.g. a delivery made before the licit
    crops were confirmed links the family to the market on the day they were confirmed)."""
    milestones = result.milestones
    floor = milestones[ENROLLED]
    for rung in _RUNGS_ABOVE:
        on = milestones.get(rung)
        if on is None:
            break
        if on < floor:
            milestones[rung] = floor
        else:
            floor = on
    enrolled = milestones[ENROLLED]
    for key in _AFTER_ENROLMENT:
        on = milestones.get(key)
        if on is not None and on < enrolled:
            milestones[key] = enrolled
    if result.since < enrolled_on <= today:
        # Built directly: ``dataclasses.replace`` costs more than the rest of this function.
        return Result(
            result.stage,
            enrolled_on,
            result.reason,
            result.held_back,
            milestones,
            result.evidence_summary,
            result.alerts_wanted,
        )
    return result


def _summary(visits: Sequence[Visit], agreements: Sequence[date], relapses: int) -> dict[str, Any]:
    """The evidence behind a decision, for the ledger (coca figures under ``coca``)."""
    summary: dict[str, Any] = {"agreements": len(agreements), "visits": len(visits)}
    if agreements:
        summary["last_agreement_on"] = agreements[-1].isoformat()
    if visits:
        latest = visits[-1]
        summary["last_visit_on"] = latest.on.isoformat()
        summary["licit_ha"] = str(latest.licit_ha)
        summary["coca"] = {"coca_ha": str(latest.coca_ha), "relapses": relapses}
        if latest.ref:
            summary["last_visit"] = latest.ref
    return summary
