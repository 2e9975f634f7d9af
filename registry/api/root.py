"""``GET /api/v1/``: the API root, listing every collection the partner API offers."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

NAMESPACE = "api-v1"
# Pages about the API rather than resources of it.
NOT_RESOURCES = {"api-root", "schema", "docs", "redoc"}


def _collections(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    """The path of every route without a path parameter (the collections), in URL order."""
    found: list[str] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _collections(entry.url_patterns, route)
            continue
        if not entry.name or entry.name in NOT_RESOURCES or entry.pattern.regex.groups:
            continue
        found.append(route.lstrip("^").rstrip("$"))
    return found


def _api_resolver() -> URLResolver:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == NAMESPACE:
            return entry
    raise LookupError(NAMESPACE)  # pragma: no cover - config/urls.py always mounts it


class ApiRootView(APIView):
    """The API root: each collection's name and absolute URL, plus the schema and docs.

    Public like a site map (it lists paths, no data); each collection answers with its own
    authentication and scopes.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    schema = None  # not an operation of the partner contract

    def get(self, request: Request) -> Response:
        api = _api_resolver()
        base = "/" + str(api.pattern)
        resources = {
            route.rstrip("/"): request.build_absolute_uri(base + route)
            for route in _collections(api.url_patterns)
        }
        return Response(
            {
                "resources": resources,
                "schema": request.build_absolute_uri(base + "schema/"),
                "docs": request.build_absolute_uri(base + "docs/"),
                "redoc": request.build_absolute_uri(base + "redoc/"),
                "authentication": "Authorization: Api-Key <key>",
            }
        )
