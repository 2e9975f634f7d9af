"""Market records follow a family when two registrations of it merge (``farmers.merging``)."""

from __future__ import annotations

from typing import Any

from farmers.merging import move_records
from farmers.models import Household
from registry.actors import Actor

from .. import summaries
from ..models import Contract, Delivery
from .offers import offers_merge
from .organisations import memberships_merge


def market_records_merge(source: Household, target: Household, actor: Actor) -> dict[str, Any]:
    """Merge handler: ``source``'s contracts (with their status ledger and schedule, which hang on
    the contract), deliveries, offers and producer-organisation memberships move to ``target``,
    scoped like it, each versioned row as a new version, each with a change record; a live offer to
    a buyer the target already has one to is withdrawn (``offers_merge``). Called inside the merge's
    transaction."""
    contracts = Contract.objects.filter(household=source)
    deliveries = Delivery.objects.filter(household=source)
    # Their dashboard cells follow them to the target's district and programme.
    with summaries.tracking(
        contracts=contracts.select_for_update().order_by("pk").values_list("pk", flat=True),
        deliveries=deliveries.select_for_update().order_by("pk").values_list("pk", flat=True),
    ):
        moved = {
            "contracts": move_records(contracts, source, target, actor),
            "deliveries": move_records(deliveries, source, target, actor),
        }
    return {
        **moved,
        **offers_merge(source, target, actor),
        **memberships_merge(source, target, actor),
    }
