"""Issue 16, point 5: money as agreed. Deliveries fall after the contract's signature and within
its season; prices per kg or per quintal (46 kg) are kept as given and the amount is exact to
the céntimo; a price below the contract needs a reason and is flagged (table tests per rule,
property tests for the quintal ↔ kg round trips)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from markets import services
from markets.compliance import compliance_check
from markets.models import Contract, Delivery
from markets.services.amounts import per_kg, per_kg_display, typed_number
from registry.models import ChangeRecord

from .conftest import SYSTEM, ContractMaker, Market, contract_payload, today

pytestmark = pytest.mark.django_db

DELIVERIES = "/api/v1/deliveries/"
CONTRACTS = "/api/v1/contracts/"
CENT = Decimal("0.01")


# --- amounts: pure arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kg", "price", "unit", "amount"),
    [
        ("920", "650", "qq", "13000.00"),  # 20 qq at S/ 650 per qq: exact, not 12,999.60
        ("920", "14.13", "kg", "12999.60"),  # the per-kg rounding the issue reports
        ("46", "650", "qq", "650.00"),
        ("1", "0.23", "qq", "0.01"),  # 0.005 → half-up to 0.01 (one rounding, at the end)
        ("1", "0.69", "qq", "0.02"),  # 0.015 → 0.02, not banker's 0.02/0.01
        ("1", "0.22", "qq", "0.00"),  # 0.00478… → 0.00
        ("61.32", "650", "qq", "866.48"),  # 866.4782… → 866.48
        ("420.5", "9.50", "kg", "3994.75"),
        ("9999999999.99", "99999999.99", "qq", "21739130432586956.52"),  # no overflow/loss
    ],
)
def test_amount_in_the_price_unit(kg: str, price: str, unit: str, amount: str) -> None:
    result = services.amount_for(Decimal(kg), Decimal(price), unit)
    assert result == Decimal(amount)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("price", "unit", "exact", "shown"),
    [
        ("650", "qq", Decimal("650") / 46, "14.13"),
        ("46", "qq", Decimal("1"), "1.00"),
        ("9.50", "kg", Decimal("9.50"), "9.50"),
        ("0.23", "qq", Decimal("0.23") / 46, "0.01"),
    ],
)
def test_per_kg_equivalents(price: str, unit: str, exact: Decimal, shown: str) -> None:
    assert per_kg(Decimal(price), unit) == exact
    assert per_kg_display(Decimal(price), unit) == Decimal(shown)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("650,00", "650.00"),
        ("13 000,50", "13000.50"),
        ("13\u00a0000,5", "13000.5"),
        (" 9,5 ", "9.5"),
        ("9.50", "9.50"),
        (Decimal("9.5"), Decimal("9.5")),
    ],
)
def test_decimal_comma_where_people_type(typed: Any, number: Any) -> None:
    assert typed_number(typed) == number


@pytest.mark.parametrize("typed", ["1,234.5", "1,2,3", "abc"])
def test_ambiguous_typed_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.kilograms(kg=typed, qq=None, attr="weight")
    assert "weight_kg" in caught.value.error_dict


def test_typed_numbers_reach_the_services(make_contract: ContractMaker) -> None:
    contract = make_contract()
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=today(),
        weight_kg="920,00",
        price_pen_per_qq="650,00",
        quality_grade="a",
        price_reason="calidad",
    )
    assert (delivery.weight_kg, delivery.price_pen, delivery.amount_pen) == (
        Decimal("920.00"),
        Decimal("650.00"),
        Decimal("13000.00"),
    )


# quintal ↔ kg round trips, exact to the céntimo.
two_places = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@settings(max_examples=300, deadline=None)
@given(quintales=two_places, price_qq=two_places)
def test_quintales_at_a_quintal_price_are_exact(quintales: Decimal, price_qq: Decimal) -> None:
    kg = services.kilograms(kg=None, qq=quintales, attr="weight")
    assert kg == quintales * 46  # the conversion loses nothing
    assert kg / 46 == quintales  # and comes back
    expected = (quintales * price_qq).quantize(CENT, ROUND_HALF_UP)
    assert services.amount_for(kg, price_qq, "qq") == expected


@settings(max_examples=300, deadline=None)
@given(kg=two_places, price_kg=two_places)
def test_a_kg_price_stated_per_quintal_gives_the_same_amount(
    kg: Decimal, price_kg: Decimal
) -> None:
    assert services.amount_for(kg, price_kg * 46, "qq") == services.amount_for(kg, price_kg, "kg")
    assert per_kg(price_kg * 46, "qq") == price_kg


@settings(max_examples=300, deadline=None)
@given(kg=two_places, price_qq=two_places)
def test_the_amount_rounds_once(kg: Decimal, price_qq: Decimal) -> None:
    amount = services.amount_for(kg, price_qq, "qq")
    exact = kg * price_qq / Decimal(46)
    assert abs(amount - exact) <= Decimal("0.005")
    assert amount.as_tuple().exponent == -2


# --- dates: signature and season -----------------------------------------------------------

SEASON_START = 60  # days before today (the fixture's season runs from today-60 to today+120)


@pytest.mark.parametrize(
    ("signed", "delivered", "status", "code"),
    [
        # days before today: signed on, delivered on
        (40, 41, 400, "before_contract_signed"),
        (40, 40, 201, None),  # the signature day itself
        (40, 0, 201, None),
        (60, 60, 201, None),  # season start = signature
        (60, 61, 400, "outside_contract_season"),
        (70, 61, 400, "outside_contract_season"),  # signed before the season: still outside
        (70, 60, 201, None),
    ],
)
def test_delivery_dates(
    make_contract: ContractMaker,
    coop_client: APIClient,
    signed: int,
    delivered: int,
    status: int,
    code: str | None,
) -> None:
    day = today()
    contract = make_contract(signed_on=day - timedelta(days=signed))
    assert contract.signed_on == day - timedelta(days=signed)
    response = coop_client.post(
        DELIVERIES,
        {
            "contract": str(contract.pk),
            "delivered_on": (day - timedelta(days=delivered)).isoformat(),
            "weight_kg": "10",
            "quality_grade": "a",
        },
        format="json",
    )
    assert response.status_code == status, response.json()
    if code is not None:
        assert response.json()["errors"] == [
            {
                "code": code,
                "attr": "delivered_on",
                "detail": response.json()["errors"][0]["detail"],
            }
        ]
        assert not Delivery.objects.exists()


def test_season_end_is_inside_and_the_day_after_is_not(make_contract: ContractMaker) -> None:
    day = today()
    contract = make_contract(season_start=day - timedelta(days=30), season_end=day)
    Contract.objects.filter(pk=contract.pk).update(season_end=day - timedelta(days=1))
    with pytest.raises(ValidationError) as caught:
        services.delivery_record(
            actor=SYSTEM, contract=contract.pk, delivered_on=day, weight_kg="1", quality_grade="a"
        )
    assert caught.value.error_dict["delivered_on"][0].code == "outside_contract_season"
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=day - timedelta(days=1),
        weight_kg="1",
        quality_grade="a",
    )
    assert delivery.pk


@pytest.mark.parametrize(
    ("signed_on", "code"),
    [
        (lambda d: d + timedelta(days=1), "future_date"),
        (lambda d: date(2025, 12, 31), "before_enrolment"),  # enrolled on 05/01/2026
        (lambda d: d - timedelta(days=61), None),  # before the season: allowed
        (lambda d: d, None),
    ],
)
def test_signature_dates(
    make_contract: ContractMaker, coop_client: APIClient, signed_on: Any, code: str | None
) -> None:
    contract = make_contract(status="draft")
    when = signed_on(today())
    response = coop_client.post(
        f"{CONTRACTS}{contract.pk}/transition/",
        {"to": "active", "signed_on": when.isoformat()},
        format="json",
    )
    contract.refresh_from_db()
    if code is None:
        assert response.status_code == 200, response.json()
        assert response.json()["signed_on"] == when.isoformat()
        assert response.json()["activated_on"] == today().isoformat()
        assert (contract.status, contract.signed_on) == ("active", when)
        record = ChangeRecord.objects.filter(object_id=str(contract.pk)).latest("at")
        assert record.changes["signed_on"] == when.isoformat()
    else:
        assert response.status_code == 400, response.json()
        assert response.json()["errors"][0]["code"] == code
        assert response.json()["errors"][0]["attr"] == "signed_on"
        assert (contract.status, contract.signed_on) == ("draft", None)


def test_signing_defaults_to_today_and_is_given_only_when_signing(
    make_contract: ContractMaker,
) -> None:
    contract = make_contract(status="draft")
    contract = services.contract_transition(actor=SYSTEM, contract=contract, to="active")
    assert contract.signed_on == today() == contract.activated_on
    contract = services.contract_transition(
        actor=SYSTEM, contract=contract, to="suspended", reason="certificación vencida"
    )
    with pytest.raises(ValidationError) as caught:
        services.contract_transition(
            actor=SYSTEM, contract=contract, to="active", signed_on=today()
        )
    assert caught.value.error_dict["signed_on"][0].code == "not_signing"


# --- prices: per kg or per quintal, below the contract -------------------------------------


def test_a_coffee_contract_priced_per_quintal(
    coop_client: APIClient, market: Market, make_contract: ContractMaker
) -> None:
    payload = contract_payload(
        market,
        crop="coffee",
        product_form="coffee_parchment",
        volume_qq="20",
        price_pen_per_qq="650.00",
    )
    del payload["volume_kg"], payload["price_pen_per_kg"]
    response = coop_client.post(CONTRACTS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["price_unit"], body["price_pen"], body["price_pen_per_kg"]) == (
        "qq",
        "650.00",
        "14.13",
    )
    contract = Contract.objects.get(pk=body["id"])
    contract = services.contract_transition(
        actor=SYSTEM, contract=contract, to="active", signed_on=contract.season_start
    )
    # The contract's price applies per quintal: 20 qq is S/ 13,000.00 to the céntimo.
    created = coop_client.post(
        DELIVERIES,
        {
            "contract": str(contract.pk),
            "delivered_on": today().isoformat(),
            "weight_qq": "20",
            "quality_grade": "a",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    delivery = created.json()
    assert delivery["weight_kg"] == "920.00"
    assert (delivery["price_unit"], delivery["price_pen"]) == ("qq", "650.00")
    assert delivery["price_pen_per_kg"] == "14.13"
    assert delivery["amount_pen"] == "13000.00"
    assert delivery["price_below_contract"] is False
    accepted = coop_client.post(
        f"{DELIVERIES}{delivery['id']}/transition/", {"to": "accepted"}, format="json"
    )
    assert accepted.status_code == 200
    contract.refresh_from_db()
    assert contract.accepted_value_pen == Decimal("13000.00")


@pytest.mark.parametrize(
    ("contract", "price", "reason", "status", "below"),
    [
        # fixed 9.50 per kg
        ({"price_pen_per_kg": "9.50"}, {"price_pen_per_kg": "9.50"}, "", 201, False),
        ({"price_pen_per_kg": "9.50"}, {"price_pen_per_kg": "9.49"}, "", 400, None),
        ({"price_pen_per_kg": "9.50"}, {"price_pen_per_kg": "9.49"}, "humedad", 201, True),
        ({"price_pen_per_kg": "9.50"}, {"price_pen_per_qq": "437.00"}, "", 201, False),  # 9.50
        ({"price_pen_per_kg": "9.50"}, {"price_pen_per_qq": "436.99"}, "", 400, None),
        # fixed 650 per quintal: 14.13 per kg is 649.98 per quintal, below
        (
            {"price_pen_per_kg": None, "price_pen_per_qq": "650"},
            {"price_pen_per_kg": "14.13"},
            "",
            400,
            None,
        ),
        (
            {"price_pen_per_kg": None, "price_pen_per_qq": "650"},
            {"price_pen_per_kg": "14.14"},
            "",
            201,
            False,
        ),
        (
            {"price_pen_per_kg": None, "price_pen_per_qq": "650"},
            {"price_pen_per_qq": "649.99"},
            "cata",
            201,
            True,
        ),
        # reference price with a floor of 8.00 per kg
        (
            {"price_rule": "reference", "price_pen_per_kg": None, "price_floor_pen_per_kg": "8"},
            {"price_pen_per_kg": "8.00"},
            "",
            201,
            False,
        ),
        (
            {"price_rule": "reference", "price_pen_per_kg": None, "price_floor_pen_per_kg": "8"},
            {"price_pen_per_kg": "7.99"},
            "",
            400,
            None,
        ),
        (
            {"price_rule": "reference", "price_pen_per_kg": None, "price_floor_pen_per_kg": "8"},
            {"price_pen_per_kg": "7.99"},
            "acuerdo de la asamblea",
            201,
            True,
        ),
    ],
)
def test_a_price_below_the_contract_needs_a_reason(
    make_contract: ContractMaker,
    coop_client: APIClient,
    contract: dict[str, Any],
    price: dict[str, str],
    reason: str,
    status: int,
    below: bool | None,
) -> None:
    made = make_contract(**contract)
    response = coop_client.post(
        DELIVERIES,
        {
            "contract": str(made.pk),
            "delivered_on": today().isoformat(),
            "weight_kg": "100",
            "quality_grade": "a",
            **price,
            **({"price_reason": reason} if reason else {}),
        },
        format="json",
    )
    assert response.status_code == status, response.json()
    if status == 400:
        assert response.json()["errors"][0]["code"] == "price_below_contract"
        assert response.json()["errors"][0]["attr"] == next(iter(price))
        assert not Delivery.objects.exists()
        return
    body = response.json()
    assert body["price_below_contract"] is below
    assert body["price_reason"] == (reason if below else "")


def test_price_units_must_agree_and_not_both(coop_client: APIClient, market: Market) -> None:
    mixed = coop_client.post(
        CONTRACTS,
        contract_payload(market, price_pen_per_kg="9.50", price_floor_pen_per_qq="400"),
        format="json",
    )
    assert mixed.status_code == 400
    assert mixed.json()["errors"][0]["code"] == "price_unit_mismatch"
    both = coop_client.post(
        CONTRACTS,
        contract_payload(market, price_pen_per_kg="9.50", price_pen_per_qq="437"),
        format="json",
    )
    assert both.status_code == 400
    assert both.json()["errors"][0]["attr"] == "price_pen_per_kg"
    assert not Contract.objects.exists()


def test_compliance_lists_deliveries_below_the_contract(make_contract: ContractMaker) -> None:
    contract = make_contract()
    fair, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="5", quality_grade="a"
    )
    low, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=today(),
        weight_kg="5",
        quality_grade="c",
        price_pen_per_kg="9.00",
        price_reason="grano partido",
    )
    report = compliance_check(today=today())
    assert report.price_below_contract == 1
    assert report.keys["price_below_contract"] == {f"delivery:{low.pk}"}
    services.delivery_transition(
        actor=SYSTEM, delivery=low, to="rejected", rejection_reason="grade"
    )
    assert compliance_check(today=today()).price_below_contract == 0
    assert not fair.price_below_contract
