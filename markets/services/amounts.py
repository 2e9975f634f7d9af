"""Money and weights of the markets app: amounts in PEN to the céntimo, weights in kilograms
(or coffee's quintales of 46 kg) and prices, cleaned from what services receive (plain numbers
and choices: ``registry.cleaning``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from registry.cleaning import clean_decimal, typed_number
from registry.services import field_error

from ..choices import KG_PER_QUINTAL, PriceUnit

CENTIMO = Decimal("0.01")
MAX_KG = Decimal("9999999999.99")
MAX_PRICE = Decimal("99999999.99")
MAX_SCHEDULE = 52
# The longest season a contract may cover (a perennial crop's campaign, with margin).
MAX_SEASON_DAYS = 731


def amount_for(weight_kg: Decimal, price_pen: Decimal, unit: str = PriceUnit.KG) -> Decimal:
    """What a delivery is worth: the quantity in the price's unit × the price, rounded half-up
    to the céntimo (PEN) once, at the end. A price per quintal is applied to kg / 46 exactly
    (20 qq = 920 kg at S/ 650 per qq is S/ 13,000.00, not 920 × 14.13 = 12,999.60)."""
    product = Decimal(weight_kg) * Decimal(price_pen)
    if unit == PriceUnit.QQ:
        product = product / KG_PER_QUINTAL
    return product.quantize(CENTIMO, ROUND_HALF_UP)


def per_kg(price_pen: Decimal, unit: str) -> Decimal:
    """A price's exact per-kilogram value (not rounded: comparisons use it)."""
    return Decimal(price_pen) / KG_PER_QUINTAL if unit == PriceUnit.QQ else Decimal(price_pen)


def per_kg_display(price_pen: Decimal, unit: str) -> Decimal:
    """A price's per-kilogram equivalent rounded half-up to the céntimo (the stored
    ``*_pen_per_kg`` columns: lists and exports; amounts never use it)."""
    return per_kg(price_pen, unit).quantize(CENTIMO, ROUND_HALF_UP)


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
        typed_number(kg if kg is not None else qq),
        f"{attr}_kg" if kg is not None else f"{attr}_qq",
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
    """A price above zero in PEN (per kg or per quintal), to the céntimo (field error for
    ``attr`` otherwise; a decimal comma is accepted)."""
    price = clean_decimal(typed_number(value), attr).quantize(CENTIMO, ROUND_HALF_UP)
    if price <= 0:
        raise field_error(attr, _("Enter a price above zero."), "min_value")
    if price > MAX_PRICE:
        raise field_error(attr, _("The price is too large."), "max_value")
    return price


def unit_price(*, kg: Any, qq: Any, attr: str) -> tuple[Decimal, str] | None:
    """A price given per kg (``<attr>_pen_per_kg``) or per quintal (``<attr>_pen_per_qq``), as
    ``(price, unit)``; ``None`` when neither is given; both is a field error (``invalid``)."""
    if kg is not None and qq is not None:
        raise field_error(
            f"{attr}_pen_per_kg",
            _("Give the price either per kilogram or per quintal (46 kg), not both."),
            "invalid",
        )
    if kg is not None:
        return clean_price(kg, f"{attr}_pen_per_kg"), PriceUnit.KG
    if qq is not None:
        return clean_price(qq, f"{attr}_pen_per_qq"), PriceUnit.QQ
    return None
