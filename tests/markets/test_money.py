"""Money and weights: Decimal arithmetic, half-up rounding to the céntimo, quintales → kg."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from markets import services
from markets.services import amount_for, kilograms

from .conftest import SYSTEM, ContractMaker, today


@pytest.mark.parametrize(
    ("kg", "price", "amount"),
    [
        ("420.5", "9.50", "3994.75"),
        ("0.01", "0.01", "0.00"),  # 0.0001 rounds down
        ("0.5", "0.01", "0.01"),  # 0.005 rounds half-up, not to even
        ("1.5", "0.01", "0.02"),  # 0.015 → 0.02
        ("2.5", "0.01", "0.03"),  # 0.025 → 0.03 (banker's rounding would give 0.02)
        ("0.1", "0.1", "0.01"),  # exact in Decimal (0.01), where float gives 0.010000000000000002
        ("33.33", "3.33", "110.99"),  # 110.9889
        ("9999999999.99", "99999999.99", "999999999899000000.00"),  # no float overflow or loss
        ("1", "9.995", "10.00"),  # a price with more places still rounds once, at the end
    ],
)
def test_amount_is_kg_times_price_rounded_half_up(kg: str, price: str, amount: str) -> None:
    result = amount_for(Decimal(kg), Decimal(price))
    assert result == Decimal(amount)
    assert result.as_tuple().exponent == -2
    assert isinstance(result, Decimal)


def test_float_would_be_wrong_and_decimal_is_not() -> None:
    assert 0.1 * 3 != 0.3
    assert amount_for(Decimal("0.1"), Decimal("3")) == Decimal("0.30")


@pytest.mark.parametrize(
    ("kg", "qq", "expected"),
    [
        ("1500", None, "1500.00"),
        (None, "20", "920.00"),  # 20 quintales × 46 kg
        (None, "0.5", "23.00"),
        (None, "1.333", "61.32"),  # 61.318 → 61.32
        ("0.005", None, "0.01"),
    ],
)
def test_weights_in_kg_or_quintales(kg: str | None, qq: str | None, expected: str) -> None:
    assert kilograms(kg=kg, qq=qq, attr="volume") == Decimal(expected)


@pytest.mark.parametrize(
    ("kg", "qq", "attr"),
    [
        (None, None, "volume_kg"),
        ("10", "1", "volume_kg"),
        ("0", None, "volume_kg"),
        ("0.001", None, "volume_kg"),  # rounds to zero
        ("-1", None, "volume_kg"),
        ("NaN", None, "volume_kg"),
        ("abc", None, "volume_kg"),
        (None, "0", "volume_qq"),
    ],
)
def test_bad_weights_are_field_errors(kg: str | None, qq: str | None, attr: str) -> None:
    with pytest.raises(ValidationError) as caught:
        kilograms(kg=kg, qq=qq, attr="volume")
    assert attr in caught.value.message_dict


@pytest.mark.django_db
def test_delivery_amount_is_stored_exactly(make_contract: ContractMaker) -> None:
    contract = make_contract(price_pen_per_kg="8.35")
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=today() - timedelta(days=1),
        weight_kg="0.3",
        quality_grade="b",
    )
    delivery.refresh_from_db()
    assert delivery.price_pen_per_kg == Decimal("8.35")
    assert delivery.amount_pen == Decimal("2.51")  # 2.505 → 2.51 half-up
    services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    contract.refresh_from_db()
    assert contract.accepted_value_pen == Decimal("2.51")
    assert contract.accepted_kg == Decimal("0.30")


@pytest.mark.django_db
def test_totals_add_up_without_drift(make_contract: ContractMaker) -> None:
    contract = make_contract(price_pen_per_kg="0.10", volume_kg="100")
    for _n in range(30):
        delivery, _c = services.delivery_record(
            actor=SYSTEM,
            contract=contract.pk,
            delivered_on=today(),
            weight_kg="0.1",
            quality_grade="a",
        )
        services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    contract.refresh_from_db()
    assert contract.accepted_kg == Decimal("3.00")
    assert contract.accepted_value_pen == Decimal("0.30")  # 30 × 0.01
