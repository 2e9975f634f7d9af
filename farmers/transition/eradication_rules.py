"""Eradication pieces of the stage rules: the day a household first reached ``coca_free`` and
how far verified voluntary eradications went toward the agreement in force (the walk with
eradications is ``rules._with_eradications``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from .facts import (
    ZERO,
    Eradication,
    HouseholdEvidence,
)
from .ordering import (
    _until,
)


def _first_coca_free(evidence: HouseholdEvidence, today: date) -> date | None:
    """The day the household first reached ``coca_free``: its first coca-free visit on or
    after an agreement (``None``: never)."""
    agreements = _until(evidence.agreements, today)
    if not agreements:
        return None
    return min(
        (v.on for v in evidence.visits if v.coca_ha <= ZERO and agreements[0] <= v.on <= today),
        default=None,
    )


def agreement_progress(
    eradications: Iterable[Eradication], commitments: Iterable[tuple[date, Decimal]], today: date
) -> dict[str, Any] | None:
    """How far verified voluntary eradications went toward the agreement in force (the latest
    signed by ``today``): ``committed_ha``, ``eradicated_ha`` (voluntary, on or after its
    signing) and ``met`` (eradicated ≥ committed); ``None`` without an agreement."""
    signed = [c for c in commitments if c[0] <= today]
    if not signed:
        return None
    signed_on, committed = max(signed)
    eradicated = sum(
        (e.hectares for e in eradications if not e.forced and signed_on <= e.on <= today), ZERO
    )
    return {
        "signed_on": signed_on.isoformat(),
        "committed_ha": str(committed),
        "eradicated_ha": str(eradicated),
        "met": eradicated >= committed,
    }
