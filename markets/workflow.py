"""State machines of the markets app (pure Python, no queries).

Contract (DESIGN.md §5): a contract is recorded as ``draft``; signing makes it ``active``; a
draft that never starts is ``cancelled``. An active contract may be ``suspended`` (e.g. a
required certification expired) and back to ``active``; it ends ``completed`` (the season's
deliveries are done) or ``terminated`` early (with a reason, also from ``suspended``).
``completed``, ``cancelled`` and ``terminated`` are terminal. Every move needs
``contracts:write`` and is made by the contract's buyer (its own contracts only) or by programme
people whose area covers the household.

Delivery: recorded at reception as ``recorded``; the buyer's quality check makes it ``accepted``
or ``rejected`` (with a reason: moisture, fermentation, grade...); an accepted delivery becomes
``paid`` with the payment reference, date and amount. ``rejected`` and ``paid`` are terminal.
"""

from __future__ import annotations

from registry.choices import Scope
from registry.workflow import Machine, Move

from .choices import ContractStatus, DeliveryStatus

# Parties: the contract's own buyer (its key), and programme people (or an implementer's key)
# whose area covers the contract. Both need ``contracts:write`` (each move's ``scope``).
BUYER = "buyer"
PROGRAMME = "programme"
PARTIES = frozenset({BUYER, PROGRAMME})


# Guards (callables in ``services.CONTRACT_FLOW``): names only here.
SEASON_OPEN = "season_open"  # a draft whose season is over cannot start
# A relapsed or excluded household's draft is not signed unless programme staff override.
NOT_SUSPENDED = "not_suspended"


def _move(*requires: str, guards: tuple[str, ...] = ()) -> Move:
    return Move(PARTIES, scope=Scope.CONTRACTS_WRITE, requires=requires, guards=guards)


CONTRACT_TRANSITIONS: dict[str, dict[str, Move]] = {
    ContractStatus.DRAFT: {
        ContractStatus.ACTIVE: _move(guards=(SEASON_OPEN, NOT_SUSPENDED)),
        ContractStatus.CANCELLED: _move(),
    },
    ContractStatus.ACTIVE: {
        ContractStatus.SUSPENDED: _move("reason"),
        ContractStatus.COMPLETED: _move(),
        ContractStatus.TERMINATED: _move("reason"),
    },
    ContractStatus.SUSPENDED: {
        ContractStatus.ACTIVE: _move(),
        ContractStatus.TERMINATED: _move("reason"),
    },
    ContractStatus.COMPLETED: {},
    ContractStatus.CANCELLED: {},
    ContractStatus.TERMINATED: {},
}

DELIVERY_TRANSITIONS: dict[str, dict[str, Move]] = {
    DeliveryStatus.RECORDED: {
        DeliveryStatus.ACCEPTED: _move(),
        DeliveryStatus.REJECTED: _move("rejection_reason"),
    },
    DeliveryStatus.ACCEPTED: {
        DeliveryStatus.PAID: _move("payment_reference", "paid_on"),
    },
    DeliveryStatus.REJECTED: {},
    DeliveryStatus.PAID: {},
}

CONTRACT_MACHINE = Machine("contract", CONTRACT_TRANSITIONS, parties=PARTIES)
DELIVERY_MACHINE = Machine("delivery", DELIVERY_TRANSITIONS, parties=PARTIES)

# Contract states that count as evidence of a market link once reached.
ACTIVATED_STATES = frozenset(
    {
        ContractStatus.ACTIVE,
        ContractStatus.SUSPENDED,
        ContractStatus.COMPLETED,
        ContractStatus.TERMINATED,
    }
)
# Delivery states whose kilograms count towards the contract (all but rejected).
COUNTED_DELIVERY_STATES = (DeliveryStatus.RECORDED, DeliveryStatus.ACCEPTED, DeliveryStatus.PAID)
ACCEPTED_DELIVERY_STATES = (DeliveryStatus.ACCEPTED, DeliveryStatus.PAID)


def allowed_moves(table: dict[str, dict[str, Move]], state: str) -> list[str]:
    """The states reachable from ``state``, sorted."""
    return sorted(t for t, move in table.get(state, {}).items() if not move.system)


def terminal_states(table: dict[str, dict[str, Move]]) -> set[str]:
    """States with no way out."""
    return {state for state, moves in table.items() if not moves}
