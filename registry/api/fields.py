"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers


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
