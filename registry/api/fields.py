"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from registry.cleaning import choice_message


class ChoiceField(serializers.ChoiceField):
    """A choice whose error names the options by their labels ("Use one of: “Mujer”,
    “Hombre”."), as the services' own choice errors do: people read API errors too (the field
    app shows a queued record's errors as they come). The codes are in the schema."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            raise serializers.ValidationError(
                choice_message(self.choices.items()), code="invalid_choice"
            ) from None


class DecimalStringField(serializers.DecimalField):
    """A non-negative decimal sent and returned as a string ("0.75"), as API.md fixes for
    money, hectares and kilograms."""

    default_error_messages = {
        "not_a_string": _('Send the number as a string, e.g. "0.75".'),
    }

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class DecimalStringFieldSchema(OpenApiSerializerFieldExtension):
    """Documents the exact string format, so clients and fuzzers agree with the server."""

    target_class = "registry.api.fields.DecimalStringField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        whole = field.max_digits - field.decimal_places
        return {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{field.decimal_places}}})?$",
            "example": "0.75",
        }


# --- dates -----------------------------------------------------------------------------------

EARLIEST_BIRTH = date(1900, 1, 1)
EARLIEST_RECORD = date(1990, 1, 1)
EARLIEST_PLANTING = date(1950, 1, 1)  # cacao and coffee stands bear for decades
PAST_KINDS = (
    "birth",
    "event",
    "planting",
)  # after today: ``future_date``, the code services use too


def date_bounds(kind: str, today: date | None = None) -> tuple[date, date]:
    """The sane range of a date the API accepts, by kind (documented in docs/api.md):

    - ``birth``: 1900-01-01 to today;
    - ``event`` (something that happened: a signature, a visit, a delivery, a payment, a
      registration): 1990-01-01 to today (Lima);
    - ``planting`` (when a crop was planted): 1950-01-01 to today;
    - ``plan`` (a season, a due date) and ``period`` (a query's from/to): 1990-01-01 to ten
      years from today.
    """
    today = today or timezone.localdate()
    if kind == "birth":
        return EARLIEST_BIRTH, today
    if kind == "event":
        return EARLIEST_RECORD, today
    if kind == "planting":
        return EARLIEST_PLANTING, today
    if kind in ("plan", "period"):
        return EARLIEST_RECORD, today.replace(year=today.year + 10, day=min(today.day, 28))
    raise ValueError(f"Unknown kind of date: {kind!r}")


class BoundedDateField(serializers.DateField):
    """A ``YYYY-MM-DD`` date within the sane range of its ``kind`` (see ``date_bounds``); a date
    outside it is a field error ``date_out_of_range`` (``future_date`` for a birth or an event
    after today), never a year-9999 record."""

    default_error_messages = {
        "date_out_of_range": _("Use a date from %(earliest)s to %(latest)s."),
        "future_date": _("This date cannot be in the future."),
    }

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        date_bounds(kind)  # an unknown kind fails at import, not on a request
        self.kind = kind
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        earliest, latest = date_bounds(self.kind)
        if day > latest and self.kind in PAST_KINDS:
            self.fail("future_date")
        if not earliest <= day <= latest:
            # Not ``self.fail``: it formats with ``str.format`` and the catalogue uses %-style.
            raise serializers.ValidationError(
                str(self.error_messages["date_out_of_range"])
                % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
                code="date_out_of_range",
            )
        return day


def funder_code_field(help_text: Any = None) -> serializers.SlugField:
    """An optional ``funding_source`` input: the code of a funder organization (checked by
    ``registry.funding``: ``does_not_exist`` / ``not_funder``)."""
    return serializers.SlugField(
        max_length=50,
        required=False,
        allow_null=True,
        default=None,
        help_text=help_text or _("Code of the funder organization that pays (kind funder)."),
    )
