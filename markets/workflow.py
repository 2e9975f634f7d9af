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

from dataclasses import dataclass

from registry.choices import Scope

from .choices import ContractStatus, DeliveryStatus


@dataclass(frozen=True)
class Move:
    """One allowed move: the scope it needs and the fields it requires."""

    scope: str = Scope.CONTRACTS_WRITE
    requires: tuple[str, ...] = ()


CONTRACT_TRANSITIONS: dict[str, dict[str, Move]] = {
    ContractStatus.DRAFT: {
        ContractStatus.ACTIVE: Move(),
        ContractStatus.CANCELLED: Move(),
    },
    ContractStatus.ACTIVE: {
        ContractStatus.SUSPENDED: Move(requires=("reason",)),
        ContractStatus.COMPLETED: Move(),
        ContractStatus.TERMINATED: Move(requires=("reason",)),
    },
    ContractStatus.SUSPENDED: {
        ContractStatus.ACTIVE: Move(),
        ContractStatus.TERMINATED: Move(requires=("reason",)),
    },
    ContractStatus.COMPLETED: {},
    ContractStatus.CANCELLED: {},
    ContractStatus.TERMINATED: {},
}

DELIVERY_TRANSITIONS: dict[str, dict[str, Move]] = {
    DeliveryStatus.RECORDED: {
        DeliveryStatus.ACCEPTED: Move(),
        DeliveryStatus.REJECTED: Move(requires=("rejection_reason",)),
    },
    DeliveryStatus.ACCEPTED: {
        DeliveryStatus.PAID: Move(requires=("payment_reference", "paid_on")),
    },
    DeliveryStatus.REJECTED: {},
    DeliveryStatus.PAID: {},
}

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
    return sorted(table.get(state, {}))


def terminal_states(table: dict[str, dict[str, Move]]) -> set[str]:
    """States with no way out."""
    return {state for state, moves in table.items() if not moves}
