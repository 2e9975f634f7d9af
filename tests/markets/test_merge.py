"""Contracts, deliveries and offers follow a family into the surviving household when two
registrations merge (the markets merge handler registered with ``farmers.merging``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from farmers import merging
from farmers import services as farmers_services
from farmers.choices import Stage
from farmers.models import Household
from farmers.transition import engine
from farmers.transition.rules import Visit
from markets import services
from markets.models import BuyerOffer, Contract, Delivery
from markets.selectors import market_facts
from markets.services import market_records_merge
from registry.models import ChangeRecord
from tests.farmers.transition_helpers import add_evidence

from .conftest import SYSTEM, ContractMaker, Market, today

pytestmark = pytest.mark.django_db


def merge(market: Market) -> Household:
    """Merge the Kimbiri registration into the Pichari one (another district)."""
    farmers_services.household_merge(
        actor=SYSTEM, source=market.other_household, target=market.household
    )
    return market.household


def test_the_handler_is_registered(db: Any) -> None:
    assert merging.merge_handlers()["markets"] is market_records_merge


def test_contracts_move_as_new_versions(make_contract: ContractMaker, market: Market) -> None:
    contract = make_contract(household=market.other_household.pk)
    target = merge(market)
    moved = Contract.objects.get(pk=contract.pk)
    assert moved.household_id == target.pk
    assert (moved.district_id, moved.program_id) == (target.district_id, target.program_id)
    assert moved.version == contract.version + 1
    assert moved.status_changes.exists()  # its status ledger came along
    assert ChangeRecord.objects.filter(object_id=str(contract.pk), changes__has_key="merged_from")
    facts = market_facts([target.pk], today())
    assert [f.ref for f in facts] == [str(contract.pk)]  # the survivor's evidence now


def test_deliveries_move_and_make_the_survivor_market_linked(
    make_contract: ContractMaker, market: Market
) -> None:
    target = market.household
    day = today()
    add_evidence(target, agreements=[day], visits=[Visit(day, Decimal("0"), Decimal("2"))])
    engine.recompute_households([target.pk], today=day)
    assert Household.objects.get(pk=target.pk).stage == Stage.LICIT_PRODUCTION
    contract = make_contract(household=market.other_household.pk)
    delivery, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=day, weight_kg="120", quality_grade="a"
    )
    delivery = services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    merge(market)
    moved = Delivery.objects.get(pk=delivery.pk)
    assert moved.household_id == target.pk
    assert moved.district_id == target.district_id
    assert moved.version == delivery.version + 1
    engine.recompute_households([market.other_household.pk, target.pk], today=day)
    assert Household.objects.get(pk=target.pk).stage == Stage.MARKET_LINKED


def test_offers_move_and_the_survivors_live_offer_stands(market: Market) -> None:
    source, target = market.other_household, market.household
    # Both were offered to the cooperative; only the survivor to the exporter.
    clash = BuyerOffer.objects.get(household=source, buyer=market.coop)
    kept = BuyerOffer.objects.get(household=target, buyer=market.coop)
    merge(market)
    live = BuyerOffer.objects.filter(household=target, withdrawn_at__isnull=True)
    assert sorted(o.buyer.code for o in live) == ["coop-pangoa", "exportadora"]
    assert live.get(buyer=market.coop).pk == kept.pk
    withdrawn = BuyerOffer.objects.get(pk=clash.pk)
    assert withdrawn.household_id == target.pk and withdrawn.withdrawn_at is not None
    assert withdrawn.district_id == target.district_id
    reason = ChangeRecord.objects.get(object_id=str(clash.pk), changes__has_key="reason")
    assert target.code in reason.changes["reason"]
    assert not BuyerOffer.objects.filter(household=source).exists()
