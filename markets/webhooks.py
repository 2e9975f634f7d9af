"""The data of the markets' webhook events (``contract.status_changed``, ``delivery.recorded``,
``delivery.status_changed``), built at send time through ``policies.contract_q`` /
``delivery_q``: a buyer gets only its own contracts and deliveries, everyone else those of its
area, with contracts:read. Ids, statuses, dates and quantities; never names or prices."""

from __future__ import annotations

from typing import Any

from registry.actors import Actor
from registry.choices import WebhookEventType
from registry.models import WebhookEvent
from registry.webhooks import register_event
from registry.webhooks.builders import moved

from . import policies
from .models import Contract, Delivery


def contract_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """A contract's status move."""
    contract = (
        Contract.objects.filter(policies.contract_q(actor), pk=event.subject_id)
        .select_related("buyer", "seller_organization")
        .first()
    )
    if contract is None:
        return None
    return {
        "id": str(contract.pk),
        "household": str(contract.household_id) if contract.household_id else None,
        "seller_organization": (
            contract.seller_organization.code if contract.seller_organization else None
        ),
        "buyer": contract.buyer.code,
        **moved(event),
        "status": contract.status,
    }


def delivery_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """A delivery recorded, or its status move."""
    delivery = (
        Delivery.objects.filter(policies.delivery_q(actor), pk=event.subject_id)
        .select_related("buyer")
        .first()
    )
    if delivery is None:
        return None
    return {
        "id": str(delivery.pk),
        "contract": str(delivery.contract_id),
        "household": str(delivery.household_id),
        "buyer": delivery.buyer.code,
        "delivered_on": delivery.delivered_on.isoformat(),
        "weight_kg": str(delivery.weight_kg),
        **moved(event),
        "status": delivery.status,
    }


def register() -> None:
    """Register the builders (``MarketsConfig.ready``)."""
    register_event(WebhookEventType.CONTRACT_STATUS_CHANGED, contract_data)
    register_event(WebhookEventType.DELIVERY_RECORDED, delivery_data)
    register_event(WebhookEventType.DELIVERY_STATUS_CHANGED, delivery_data)
