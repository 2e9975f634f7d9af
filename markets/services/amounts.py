"""Money and weights of the markets app: amounts in PEN to the céntimo, weights in kilograms
(or coffee's quintales of 46 kg) and prices, cleaned from what services receive (plain numbers
and choices: ``registry.cleaning``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from registry.cleaning import clean_decimal
from registry.services import field_error

from ..choices import KG_PER_QUINTAL

CENTIMO = Decimal("0.01")
MAX_KG = Decimal("9999999999.99")
MAX_PRICE = Decimal("99999999.99")
MAX_SCHEDULE = 52
# The longest season a contract may cover (a perennial crop's campaign, with margin).
MAX_SEASON_DAYS = 731


def amount_for(weight_kg: Decimal, price_pen_per_kg: Decimal) -> Decimal:
    """What a delivery is worth: kilograms × price, rounded half-up to the céntimo (PEN)."""
    return (Decimal(weight_kg) * Decimal(price_pen_per_kg)).quantize(CENTIMO, ROUND_HALF_UP)


def kilograms(*, kg: Any, qq: Any, attr: str) -> Decimal:
    """A weight given in kilograms or in quintales of 46 kg (coffee), as kilograms (2 places).

    Exactly one of the two must be given; the quintales are converted, never stored.
    """
    if (kg is None) == (qq is None):
        raise field_error(
            f"{attr}_kg",
            _("Give the weight either in kilograms or in quintales (46 kg), not both."),
            "required" if kg is None else "invalid",
        )
    value = clean_decimal(
        kg if kg is not None else qq, f"{attr}_kg" if kg is not None else f"{attr}_qq"
    )
    if qq is not None:
        value = value * KG_PER_QUINTAL
    value = value.quantize(CENTIMO, ROUND_HALF_UP)
    if value <= 0:
        raise field_error(
            f"{attr}_kg" if kg is not None else f"{attr}_qq",
            _("Enter a weight above zero."),
            "min_value",
        )
    if value > MAX_KG:
        raise field_error(f"{attr}_kg", _("The weight is too large."), "max_value")
    return value


def clean_price(value: Any, attr: str) -> Decimal:
    """A price above zero in PEN per kg, to the céntimo (field error for ``attr`` otherwise)."""
    price = clean_decimal(value, attr).quantize(CENTIMO, ROUND_HALF_UP)
    if price <= 0:
        raise field_error(attr, _("Enter a price above zero."), "min_value")
    if price > MAX_PRICE:
        raise field_error(attr, _("The price is too large."), "max_value")
    return price
