"""Stage computation and storage (being built: issue 5)."""

from __future__ import annotations

from collections.abc import Sequence


def recompute_households(household_ids: Sequence[str]) -> int:
    """Recompute and store the stage of ``household_ids``; return how many changed."""
    return 0
