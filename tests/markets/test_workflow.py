"""Workflow of contracts and deliveries: every (state, target) pair, through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from markets import services
from markets.choices import ContractStatus, DeliveryStatus
from markets.models import Contract, ContractStatusChange, Delivery
from markets.workflow import (
    CONTRACT_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    allowed_moves,
    terminal_states,
)
from registry.choices import ChangeAction
from registry.exceptions import InvalidTransition
from registry.models import ChangeRecord

from .conftest import SYSTEM, ContractMaker, today

pytestmark = pytest.mark.django_db

CONTRACT_PAIRS = [(s, t) for s in ContractStatus.values for t in ContractStatus.values]
DELIVERY_PAIRS = [(s, t) for s in DeliveryStatus.values for t in DeliveryStatus.values]

EXPECTED_CONTRACT_MOVES = {
    ("draft", "active"),
    ("draft", "cancelled"),
    ("active", "suspended"),
    ("active", "completed"),
    ("active", "terminated"),
    ("suspended", "active"),
    ("suspended", "terminated"),
}
EXPECTED_DELIVERY_MOVES = {
    ("recorded", "accepted"),
    ("recorded", "rejected"),
    ("accepted", "paid"),
}


def test_tables_are_exactly_the_design() -> None:
    contract_moves = {(s, t) for s, moves in CONTRACT_TRANSITIONS.items() for t in moves}
    delivery_moves = {(s, t) for s, moves in DELIVERY_TRANSITIONS.items() for t in moves}
    assert contract_moves == EXPECTED_CONTRACT_MOVES
    assert delivery_moves == EXPECTED_DELIVERY_MOVES
    assert set(CONTRACT_TRANSITIONS) == set(ContractStatus.values)
    assert set(DELIVERY_TRANSITIONS) == set(DeliveryStatus.values)
    assert terminal_states(CONTRACT_TRANSITIONS) == {"completed", "cancelled", "terminated"}
    assert terminal_states(DELIVERY_TRANSITIONS) == {"rejected", "paid"}
    assert allowed_moves(CONTRACT_TRANSITIONS, "active") == ["completed", "suspended", "terminated"]


@pytest.mark.parametrize(("state", "target"), CONTRACT_PAIRS)
def test_every_contract_move(make_contract: ContractMaker, state: str, target: str) -> None:
    contract = make_contract(status=state)
    assert contract.status == state
    before_ledger = ContractStatusChange.objects.filter(contract=contract).count()
    if (state, target) in EXPECTED_CONTRACT_MOVES:
        moved = services.contract_transition(
            actor=SYSTEM, contract=contract, to=target, reason="certificación vencida"
        )
        assert moved.status == target
        last = ContractStatusChange.objects.filter(contract=contract).last()
        assert last is not None
        assert (last.from_status, last.to_status) == (state, target)
        assert ContractStatusChange.objects.filter(contract=contract).count() == before_ledger + 1
        assert ChangeRecord.objects.filter(
            object_id=str(contract.pk), action=ChangeAction.TRANSITION
        ).exists()
        if target == "active" and state == "draft":
            assert moved.activated_on == today()
        if target in ("completed", "cancelled", "terminated"):
            assert moved.closed_on == today()
    else:
        with pytest.raises(InvalidTransition) as caught:
            services.contract_transition(actor=SYSTEM, contract=contract, to=target, reason="x")
        assert caught.value.extra["allowed"] == allowed_moves(CONTRACT_TRANSITIONS, state)
        assert Contract.objects.get(pk=contract.pk).status == state
        assert ContractStatusChange.objects.filter(contract=contract).count() == before_ledger


@pytest.mark.parametrize("target", ["suspended", "terminated"])
def test_suspension_and_termination_need_a_reason(
    make_contract: ContractMaker, target: str
) -> None:
    contract = make_contract()
    with pytest.raises(ValidationError) as caught:
        services.contract_transition(actor=SYSTEM, contract=contract, to=target, reason="  ")
    assert "reason" in caught.value.message_dict
    assert Contract.objects.get(pk=contract.pk).status == "active"


def test_a_contract_whose_season_is_over_cannot_start(make_contract: ContractMaker) -> None:
    day = today()
    contract = make_contract(
        status="draft",
        season_start=day - timedelta(days=200),
        season_end=day - timedelta(days=1),
    )
    from registry.exceptions import Conflict

    with pytest.raises(Conflict) as caught:
        services.contract_transition(actor=SYSTEM, contract=contract, to="active")
    assert caught.value.code == "season_over"


def _delivery_in(make_contract: ContractMaker, state: str) -> Delivery:
    contract = make_contract()
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=today() - timedelta(days=3),
        weight_kg="100",
        quality_grade="a",
    )
    paths: dict[str, list[dict[str, Any]]] = {
        "recorded": [],
        "accepted": [{"to": "accepted"}],
        "rejected": [{"to": "rejected", "rejection_reason": "moisture"}],
        "paid": [
            {"to": "accepted"},
            {"to": "paid", "payment_reference": "TRF-1", "paid_on": today()},
        ],
    }
    for step in paths[state]:
        delivery = services.delivery_transition(actor=SYSTEM, delivery=delivery, **step)
    return delivery


MOVE_FIELDS: dict[str, dict[str, Any]] = {
    "accepted": {},
    "rejected": {"rejection_reason": "fermentation"},
    "paid": {"payment_reference": "TRF-9", "paid_on": None},
    "recorded": {},
}


@pytest.mark.parametrize(("state", "target"), DELIVERY_PAIRS)
def test_every_delivery_move(make_contract: ContractMaker, state: str, target: str) -> None:
    delivery = _delivery_in(make_contract, state)
    assert delivery.status == state
    fields = dict(MOVE_FIELDS[target])
    if "paid_on" in fields:
        fields["paid_on"] = today()
    if (state, target) in EXPECTED_DELIVERY_MOVES:
        moved = services.delivery_transition(actor=SYSTEM, delivery=delivery, to=target, **fields)
        assert moved.status == target
        contract = Contract.objects.get(pk=delivery.contract_id)
        if target == "accepted":
            assert contract.accepted_kg == Decimal("100.00")
            assert contract.accepted_value_pen == Decimal("950.00")
        if target == "rejected":
            assert moved.rejection_reason == "fermentation"
            assert contract.delivered_kg == Decimal("0.00")
        if target == "paid":
            assert moved.paid_amount_pen == Decimal("950.00")
            assert moved.paid_on == today()
    else:
        with pytest.raises(InvalidTransition):
            services.delivery_transition(actor=SYSTEM, delivery=delivery, to=target, **fields)
        assert Delivery.objects.get(pk=delivery.pk).status == state


def test_rejection_needs_a_reason_from_the_code_list(make_contract: ContractMaker) -> None:
    delivery = _delivery_in(make_contract, "recorded")
    with pytest.raises(ValidationError) as caught:
        services.delivery_transition(actor=SYSTEM, delivery=delivery, to="rejected")
    assert "rejection_reason" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.delivery_transition(
            actor=SYSTEM, delivery=delivery, to="rejected", rejection_reason="mood"
        )
    assert Delivery.objects.get(pk=delivery.pk).status == "recorded"


def test_payment_needs_reference_date_and_at_most_the_amount(make_contract: ContractMaker) -> None:
    delivery = _delivery_in(make_contract, "accepted")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"paid_on": today()}, "payment_reference"),
        ({"payment_reference": "TRF"}, "paid_on"),
        (
            {
                "payment_reference": "TRF",
                "paid_on": delivery.delivered_on - timedelta(days=1),
            },
            "paid_on",
        ),
        (
            {"payment_reference": "TRF", "paid_on": today() + timedelta(days=1)},
            "paid_on",
        ),
        (
            {"payment_reference": "TRF", "paid_on": today(), "paid_amount_pen": "950.01"},
            "paid_amount_pen",
        ),
    ]
    for fields, attr in cases:
        with pytest.raises(ValidationError) as caught:
            services.delivery_transition(actor=SYSTEM, delivery=delivery, to="paid", **fields)
        assert attr in caught.value.message_dict, fields
    paid = services.delivery_transition(
        actor=SYSTEM,
        delivery=delivery,
        to="paid",
        payment_reference="TRF-7",
        paid_on=today(),
        paid_amount_pen="900.50",
    )
    assert paid.paid_amount_pen == Decimal("900.50")
