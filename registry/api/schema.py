"""OpenAPI generation: the Api-Key security scheme and the error responses on every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorItemSerializer(serializers.Serializer):
    """One error: a machine code, a human message and the field it concerns."""

    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]


READ_ERRORS = ("400", "401", "403", "404", "406", "429")
WRITE_ERRORS = ("405", "409", "412", "413", "415")


class AutoSchema(SpectacularAutoSchema):
    """Adds the documented error responses to every operation."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        # An empty optional query parameter (``?kind=``) means "not given": say so.
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return operation

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = READ_ERRORS + (WRITE_ERRORS if self.method not in ("GET", "HEAD") else ())
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """``Authorization: Api-Key <key>``."""

    target_class = "registry.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Write the word `Api-Key`, a space and the key (`Api-Key reg_ab12.…`); "
                "`Bearer <key>` is accepted too. A key pasted alone is refused with "
                "`api_key_prefix_missing`. Keys are issued by programme staff."
            ),
        }
