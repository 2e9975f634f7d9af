"""Cleaning of the raw values services receive (API payloads, field forms, imports): numbers and
choices, each problem reported as a field error on ``attr`` with its machine code."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .display import choice_options
from .services import field_error

__all__ = [
    "choice_message",
    "clean_choice",
    "clean_decimal",
    "is_choice",
    "parse_decimal",
    "typed_number",
]


def typed_number(value: Any) -> Any:
    """A number as people type it in Peru: ``"13 000,50"`` or ``"0,25"`` (decimal comma, spaces
    as thousands separators) becomes ``"13000.50"`` / ``"0.25"``; anything else is returned
    unchanged (whoever validates it says what is wrong)."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")
    return text


def parse_decimal(value: Any, attr: str) -> Decimal:
    """``value`` as a ``Decimal`` (``invalid``: "Enter a number." otherwise); may be infinite."""
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError) as exc:
        raise field_error(attr, _("Enter a number."), "invalid") from exc


def clean_decimal(value: Any, attr: str, *, max_value: Decimal | None = None) -> Decimal:
    """A finite number of zero or more (``min_value``), at most ``max_value`` when given
    (``max_value``)."""
    number = parse_decimal(value, attr)
    if not number.is_finite() or number < 0:
        raise field_error(attr, _("Enter a number of zero or more."), "min_value")
    if max_value is not None and number > max_value:
        raise field_error(attr, _("Enter at most %(max)s.") % {"max": max_value}, "max_value")
    return number


def choice_message(choices: Any) -> str:
    """What may be chosen, by label ("Use one of: “Mujer”, “Hombre”."): the message of every
    ``invalid_choice`` a person may read (field pages, the field app's queued records, the
    admin); the code that was sent is never echoed as if it were a word."""
    return _("Use one of: %(valid)s.") % {"valid": choice_options(choices)}


@functools.cache
def _choice_values(choices: Any) -> frozenset[Any]:
    # ``Choices.values`` builds a new list on every call: an import asks 200,000 times.
    return frozenset(choices.values)


def is_choice(value: Any, choices: Any) -> bool:
    """Whether ``value`` is one of ``choices``' values (a set lookup; a list or another
    unhashable value sent for a choice is not one)."""
    try:
        return value in _choice_values(choices)
    except TypeError:
        return False


def clean_choice(value: Any, choices: Any, attr: str) -> str:
    """One of ``choices`` (``invalid_choice``, naming them by label, otherwise)."""
    if not is_choice(value, choices):
        raise field_error(attr, choice_message(choices), "invalid_choice")
    return str(value)
