"""Webhooks and buyers (issue 19): a buyer's subscription gets the events of its own contracts
and deliveries only, as its keys see them through the API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from markets import services as markets_services
from markets.choices import ContractStatus
from registry.choices import Scope, WebhookDeliveryStatus, WebhookEventType
from registry.models import WebhookDelivery
from registry.services import api_key_create
from registry.webhooks import services
from tests.markets.conftest import SYSTEM, ContractMaker, Market, make_contract, market, today
from tests.registry.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db
__all__ = ["make_contract", "market"]  # the fixtures

CONTRACT = WebhookEventType.CONTRACT_STATUS_CHANGED
RECORDED = WebhookEventType.DELIVERY_RECORDED


def test_a_buyer_hears_only_of_its_own_contracts_and_deliveries(
    market: Market,
    make_contract: ContractMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for buyer in (market.coop, market.exporter):
        api_key_create(organization=buyer, scopes=[Scope.CONTRACTS_READ])
        services.subscription_create(
            actor=None,
            organization=buyer,
            url=f"{receiver.url}?buyer={buyer.code}",
            event_types=[CONTRACT, RECORDED],
        )
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(status=ContractStatus.ACTIVE)  # the cooperative's
    with django_capture_on_commit_callbacks(execute=True):
        recorded, _c = markets_services.delivery_record(
            actor=SYSTEM,
            contract=contract.pk,
            delivered_on=today(),
            weight_kg="10",
            quality_grade="a",
        )
    # Both buyers were fanned out to; only the cooperative's deliveries were sent.
    sent = WebhookDelivery.objects.filter(subscription__organization=market.coop)
    skipped = WebhookDelivery.objects.filter(subscription__organization=market.exporter)
    assert set(sent.values_list("status", flat=True)) == {WebhookDeliveryStatus.DELIVERED}
    assert set(skipped.values_list("status", flat=True)) == {WebhookDeliveryStatus.SKIPPED}
    assert sent.count() == skipped.count() == 2
    bodies = [json.loads(r.body) for r in receiver.received]
    assert {b["type"] for b in bodies} == {CONTRACT, RECORDED}
    by_type = {b["type"]: b["data"] for b in bodies}
    assert by_type[CONTRACT]["id"] == str(contract.pk)
    assert by_type[CONTRACT]["from"] == ContractStatus.DRAFT
    assert by_type[CONTRACT]["to"] == ContractStatus.ACTIVE
    assert by_type[CONTRACT]["buyer"] == "coop-pangoa"
    assert by_type[RECORDED]["id"] == str(recorded.pk)
    assert by_type[RECORDED]["weight_kg"].startswith("10")
    # No names, no prices.
    for request in receiver.received:
        assert b"Juana" not in request.body and b"9.50" not in request.body
