"""What the stage rules (:mod:`farmers.transition.rules`) read and return: the stages as plain
strings, the ladder, the reasons, the thresholds, and the evidence and result dataclasses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from farmers.choices import Stage
from registry.choices import LICIT_CROPS_DEFAULT

from .evidence import (
    Fact,
)

# Plain strings (an enum member lookup costs ~10x a global read, and compute runs 1M times a
# night); equal to the ``Stage`` members they come from.
ENROLLED: str = Stage.ENROLLED.value
COMMITTED: str = Stage.COMMITTED.value
COCA_FREE: str = Stage.COCA_FREE.value
LICIT_PRODUCTION: str = Stage.LICIT_PRODUCTION.value
MARKET_LINKED: str = Stage.MARKET_LINKED.value
GRADUATED: str = Stage.GRADUATED.value
RELAPSED: str = Stage.RELAPSED.value
EXCLUDED: str = Stage.EXCLUDED.value

LADDER: tuple[str, ...] = (
    ENROLLED,
    COMMITTED,
    COCA_FREE,
    LICIT_PRODUCTION,
    MARKET_LINKED,
    GRADUATED,
)
RANK = {stage: index for index, stage in enumerate(LADDER)}
#: The milestone key of the tenure track (not a stage: see the module docstring).
TENURE = "tenure"
ZERO = Decimal("0")


class Reason:
    """Why a household is at its stage, or why it is not higher (stored in the ledger)."""

    REGISTERED = "registered"
    NOT_ACTIVE = "not_active"
    NO_CONSENT = "no_consent"
    NO_AGREEMENT = "no_agreement"
    AGREEMENT_SIGNED = "agreement_signed"
    NO_VISIT = "no_coca_free_visit"
    COCA_FOUND = "coca_found"
    COCA_FREE_VISIT = "coca_free_visit"
    VISIT_EXPIRED = "visit_expired"
    LICIT_BELOW_MINIMUM = "licit_crops_below_minimum"
    LICIT_CONFIRMED = "licit_crops_confirmed"
    NO_DELIVERY = "no_accepted_delivery"
    MARKET_LINK_LAPSED = "market_link_lapsed"
    DELIVERY_ACCEPTED = "delivery_accepted"
    GRADUATION_PENDING = "graduation_criteria_not_met"
    GRADUATION_MET = "graduation_criteria_met"
    NO_TENURE = "no_tenure"  # graduation criteria met, but the programme requires tenure
    RELAPSE = "relapse"
    FORCED_ERADICATION = "forced_eradication"  # a relapse shown by a forced eradication
    READMITTED = "readmitted"
    EXCLUDED = "excluded_after_relapses"
    EXCLUSION_PROPOSED = "exclusion_proposed"  # held back: staff have not decided yet


# Reasons that mean evidence expired (the ledger and an ``evidence_expiry`` alert name them).
EXPIRY_REASONS = frozenset({Reason.VISIT_EXPIRED, Reason.MARKET_LINK_LAPSED})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A programme's transition thresholds (``registry.Program``, editable by its staff)."""

    coca_free_max_age_months: int = 18
    licit_min_ha: Decimal = Decimal("1.00")
    market_window_months: int = 12
    graduation_coca_free_months: int = 24
    graduation_income_pen: Decimal = Decimal("6000.00")
    relapses_before_exclusion: int = 2
    visit_due_months: int = 12
    graduation_requires_tenure: bool = False
    # Only these crops count towards licit hectares (``Program.licit_crops``).
    licit_crops: frozenset[str] = frozenset(LICIT_CROPS_DEFAULT)

    @classmethod
    def of(cls, program: Any) -> Thresholds:
        """The thresholds of a ``Program`` (or anything with the same attributes)."""
        return cls(
            coca_free_max_age_months=program.coca_free_max_age_months,
            licit_min_ha=Decimal(program.licit_min_ha),
            market_window_months=program.market_window_months,
            graduation_coca_free_months=program.graduation_coca_free_months,
            graduation_income_pen=Decimal(program.graduation_income_pen),
            relapses_before_exclusion=max(1, program.relapses_before_exclusion),
            visit_due_months=program.visit_due_months,
            graduation_requires_tenure=bool(program.graduation_requires_tenure),
            licit_crops=frozenset(program.licit_crops or ()),
        )

    def licit_ha(self, crops: Any) -> Decimal:
        """The licit hectares of a visit's crops under this programme (``licit_hectares``)."""
        return licit_hectares(crops, self.licit_crops)


def licit_hectares(crops: Any, listed: frozenset[str]) -> Decimal:
    """The licit hectares of a visit: the sum of the ``ha`` of its crops on the programme's
    licit-crop list (``listed``). Other crops are stored and shown, never counted; malformed
    entries count 0; ``crops`` may be the JSON text of the list (``jsonb`` read raw), whose
    result is memoised (a pure function of the text; visits repeat the same few lists)."""
    if isinstance(crops, str):
        return _licit_hectares_of_text(crops, listed)
    return _licit_sum(crops, listed)


@lru_cache(maxsize=1 << 14)
def _licit_hectares_of_text(crops: str, listed: frozenset[str]) -> Decimal:
    return _licit_sum(json.loads(crops), listed)


def _licit_sum(crops: Any, listed: frozenset[str]) -> Decimal:
    total = ZERO
    for crop in crops or ():
        try:
            if crop.get("crop") not in listed:
                continue
            ha = Decimal(str(crop.get("ha") or 0))
        except (ArithmeticError, AttributeError, ValueError):
            continue
        if ha.is_finite() and ha > ZERO:
            total += ha
    return total


# VALUE_OBJECTS: the evidence and result objects below (and ``evidence.Fact``) are values, never
# changed after they are made, but not ``frozen``: a frozen dataclass's ``__init__`` sets each
# field through ``object.__setattr__`` and costs three times as much, and the sweep makes several
# per household (issue 15: 1M households a night). They stay hashable (``unsafe_hash``).
@dataclass(slots=True, unsafe_hash=True)  # not frozen: see VALUE_OBJECTS
class Visit:
    """A confirmed verification visit: coca and licit crops (ha) observed on a day."""

    on: date
    coca_ha: Decimal
    licit_ha: Decimal = ZERO
    ref: str = ""


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see VALUE_OBJECTS
class Eradication:
    """A verified eradication record: coca destroyed on one of the family's plots on a day,
    ``forced`` (CORAH) or voluntary (the family's own reduction)."""

    on: date
    hectares: Decimal
    forced: bool
    ref: str = ""


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see VALUE_OBJECTS
class HouseholdEvidence:
    """Everything the rules look at for one household (its own records plus provider facts)."""

    household_id: Any
    registered_on: date  # the enrolment date (``Household.enrolled_on``, else creation day)
    active: bool = True
    consent: bool = True
    agreements: Sequence[date] = ()
    visits: Sequence[Visit] = ()
    facts: Sequence[Fact] = ()
    # Verified eradications, and the (signed_on, coca_ha_committed) of the active agreements
    # (read only for households with eradications): see ``_with_eradications``.
    eradications: Sequence[Eradication] = ()
    commitments: Sequence[tuple[date, Decimal]] = ()


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see VALUE_OBJECTS
class AlertWanted:
    """A condition that should have an alert (the engine raises each key once)."""

    kind: str
    key: str
    due_on: date | None = None
    severity: str = "warning"


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see VALUE_OBJECTS
class Result:
    """The computed stage, since when, why, the milestones met and the alerts wanted.

    ``reason`` says what put the household at ``stage``; ``held_back`` why it is not one stage
    higher (the reason recorded when a stage drops).
    """

    stage: str
    since: date
    reason: str
    held_back: str
    milestones: dict[str, str]
    evidence_summary: dict[str, Any] = field(default_factory=dict)
    alerts_wanted: tuple[AlertWanted, ...] = ()

    def change_reason(self, previous: str) -> str:
        """The ledger reason of a move from ``previous`` to this result's stage."""
        if self.stage in (RELAPSED, EXCLUDED):
            return self.reason
        if previous == RELAPSED:
            return Reason.READMITTED
        if previous not in RANK:
            return self.reason
        if RANK.get(self.stage, 0) < RANK[previous]:
            return self.held_back
        return self.reason
