"""State machines of the farmers app (pure Python, no queries).

Household review: a new registration waits in ``pending_review``; a reviewer (supervisor,
programme staff, or a key with ``households:review``) makes it ``active`` or ``rejected`` (with
a reason). An active household may become ``inactive``. ``merged`` is reached only through the
merge service. ``rejected``, ``inactive`` and ``merged`` are terminal for the API.

Verification visit: a field officer records it ``pending``; a reviewer ``confirmed`` or
``rejected`` it. Both outcomes are terminal.

Whoever registered a household or recorded a visit may not review it (maker–checker).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.choices import Scope

from .choices import HouseholdStatus, VerificationStatus


@dataclass(frozen=True)
class Move:
    """One allowed move: the scope it needs and the fields it requires."""

    scope: str
    requires: tuple[str, ...] = ()
    maker_checker: bool = True


HOUSEHOLD_TRANSITIONS: dict[str, dict[str, Move]] = {
    HouseholdStatus.PENDING_REVIEW: {
        HouseholdStatus.ACTIVE: Move(Scope.HOUSEHOLDS_REVIEW),
        HouseholdStatus.REJECTED: Move(Scope.HOUSEHOLDS_REVIEW, requires=("reason",)),
    },
    HouseholdStatus.ACTIVE: {
        HouseholdStatus.INACTIVE: Move(
            Scope.HOUSEHOLDS_REVIEW, requires=("reason",), maker_checker=False
        ),
    },
    HouseholdStatus.REJECTED: {},
    HouseholdStatus.INACTIVE: {},
    HouseholdStatus.MERGED: {},
}

VERIFICATION_TRANSITIONS: dict[str, dict[str, Move]] = {
    VerificationStatus.PENDING: {
        VerificationStatus.CONFIRMED: Move(Scope.HOUSEHOLDS_REVIEW),
        VerificationStatus.REJECTED: Move(Scope.HOUSEHOLDS_REVIEW, requires=("reason",)),
    },
    VerificationStatus.CONFIRMED: {},
    VerificationStatus.REJECTED: {},
}


def allowed_moves(table: dict[str, dict[str, Move]], state: str) -> list[str]:
    """The states reachable from ``state``, sorted."""
    return sorted(table.get(state, {}))


def terminal_states(table: dict[str, dict[str, Move]]) -> set[str]:
    """States with no way out."""
    return {state for state, moves in table.items() if not moves}
