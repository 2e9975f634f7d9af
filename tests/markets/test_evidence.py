"""Evidence for the transition engine: dated market facts for a batch of households in one
query, and a stage recompute queued by every change to that evidence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.transition import evidence
from markets import services
from markets.selectors import market_facts
from markets.services import contracts, deliveries

from .conftest import SYSTEM, ContractMaker, Market, make_household, today

pytestmark = pytest.mark.django_db


def test_the_provider_is_registered() -> None:
    assert evidence.providers()["markets"] is market_facts


def test_facts_of_contracts_and_accepted_deliveries(
    make_contract: ContractMaker, market: Market
) -> None:
    day = today()
    active = make_contract(season_start=day - timedelta(days=60), season_end=day + timedelta(30))
    make_contract(status="draft")  # never active: no fact
    make_contract(status="cancelled")
    ended = make_contract(status="terminated")
    accepted, _c = services.delivery_record(
        actor=SYSTEM,
        contract=active.pk,
        delivered_on=day - timedelta(days=5),
        weight_kg="120.5",
        quality_grade="a",
    )
    services.delivery_transition(actor=SYSTEM, delivery=accepted, to="accepted")
    paid, _c = services.delivery_record(
        actor=SYSTEM, contract=active.pk, delivered_on=day, weight_kg="10", quality_grade="b"
    )
    services.delivery_transition(actor=SYSTEM, delivery=paid, to="accepted")
    services.delivery_transition(
        actor=SYSTEM, delivery=paid, to="paid", payment_reference="T", paid_on=day
    )
    services.delivery_record(  # only recorded: no fact
        actor=SYSTEM, contract=active.pk, delivered_on=day, weight_kg="7", quality_grade="b"
    )
    facts = market_facts([market.household.pk, market.other_household.pk], day)
    contracts = sorted(
        (f for f in facts if f.kind == evidence.CONTRACT_ACTIVE), key=lambda f: f.status
    )
    assert [(f.ref, f.status) for f in contracts] == [
        (str(active.pk), "active"),
        (str(ended.pk), "terminated"),
    ]
    # From its signature (the fixture signs on the season's start), not its activation today.
    assert active.signed_on == day - timedelta(days=60) and active.activated_on == day
    assert contracts[0].on == active.signed_on and contracts[0].until == day + timedelta(days=30)
    assert contracts[1].until == day  # closed today, before its season's end
    deliveries = sorted(
        (f for f in facts if f.kind == evidence.DELIVERY_ACCEPTED), key=lambda f: f.on
    )
    assert [(f.on, f.quantity, f.value_pen, f.status) for f in deliveries] == [
        (day - timedelta(days=5), Decimal("120.50"), Decimal("1144.75"), "active"),
        (day, Decimal("10.00"), Decimal("95.00"), "active"),
    ]
    assert all(f.household_id == market.household.pk for f in facts)
    gathered = evidence.gather([market.household.pk], day)
    assert len(gathered[market.household.pk]) >= 4


def test_one_query_for_one_or_a_hundred_households(
    make_contract: ContractMaker, market: Market
) -> None:
    households = [market.household] + [
        make_household(market.program, given="Eva", surnames=f"Rojas {n}") for n in range(99)
    ]
    for household in households[:30]:
        contract = make_contract(household=household.pk)
        delivery, _c = services.delivery_record(
            actor=SYSTEM,
            contract=contract.pk,
            delivered_on=today(),
            weight_kg="10",
            quality_grade="a",
        )
        services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    with CaptureQueriesContext(connection) as one:
        facts_one = market_facts([households[0].pk], today())
    with CaptureQueriesContext(connection) as hundred:
        facts_all = market_facts([h.pk for h in households], today())
    assert len(one.captured_queries) == 1
    assert len(hundred.captured_queries) == 1
    assert len(facts_one) == 2
    assert len(facts_all) == 60
    assert market_facts([], today()) == []


def test_evidence_changes_queue_a_recompute(
    make_contract: ContractMaker, market: Market, monkeypatch: Any
) -> None:
    calls: list[list[Any]] = []
    for module in (contracts, deliveries):  # the services that queue it
        monkeypatch.setattr(module, "recompute_on_commit", lambda ids: calls.append(list(ids)))
    contract = make_contract(status="draft")
    assert calls == []
    contract = services.contract_transition(actor=SYSTEM, contract=contract, to="active")
    assert calls == [[market.household.pk]]
    delivery, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="5", quality_grade="a"
    )
    assert len(calls) == 1  # recorded only: not yet evidence
    services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    services.delivery_transition(
        actor=SYSTEM, delivery=delivery, to="paid", payment_reference="T", paid_on=today()
    )
    services.contract_transition(actor=SYSTEM, contract=contract, to="completed")
    assert len(calls) == 4


@pytest.mark.parametrize("later", ["suspended", "terminated"])
def test_a_later_suspension_or_termination_keeps_past_deliveries_as_evidence(
    make_contract: ContractMaker, market: Market, later: str
) -> None:
    """Issue 16: the market link is computed from accepted deliveries in the window, whatever
    the contract's later status (the provider keeps the facts; the rule counts them)."""
    day = today()
    contract = make_contract()
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=day - timedelta(days=20),
        weight_kg="50",
        quality_grade="a",
    )
    services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    services.contract_transition(actor=SYSTEM, contract=contract, to=later, reason="prueba")
    facts = [
        f for f in market_facts([market.household.pk], day) if f.kind == evidence.DELIVERY_ACCEPTED
    ]
    # Still a fact; the rule counts it (tests/farmers/test_transition_rules.py, issue 16 cases).
    assert [(f.ref, f.status) for f in facts] == [(str(delivery.pk), later)]
