"""The OpenAPI schema and its docs (Swagger UI, ReDoc), public or behind a login.

``API_DOCS_PUBLIC`` (default: on in the embedded default, off in production) decides, at each
request. When off, the schema answers a signed-in person or a valid API key (401 otherwise) and
the docs pages send an anonymous browser to the admin login. Swagger UI is served in two parts
(page + initialiser script) so that the Content-Security-Policy needs no inline script.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .authentication import ApiKeyAuthentication

# The API's own: a partner's key or the admin's session.
DOCS_AUTHENTICATION = [ApiKeyAuthentication, SessionAuthentication]


class DocsAccess(BasePermission):
    """Anyone when the docs are public; otherwise a signed-in person or a valid API key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)


def _login_redirect(request: Request, exc: Exception) -> HttpResponseBase | None:
    """An anonymous browser refused a docs page goes to the login, not to a JSON error."""
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied) and not (
        request.user and request.user.is_authenticated
    ):
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    return None


class SchemaView(SpectacularAPIView):
    """``/api/v1/schema/``."""

    permission_classes = [DocsAccess]
    authentication_classes = DOCS_AUTHENTICATION


class SwaggerView(SpectacularSwaggerSplitView):
    """``/api/v1/docs/`` (the page) and ``/api/v1/docs/?script`` (its initialiser)."""

    permission_classes = [DocsAccess]
    authentication_classes = DOCS_AUTHENTICATION

    def handle_exception(self, exc: Exception) -> Any:
        return _login_redirect(self.request, exc) or super().handle_exception(exc)


class RedocView(SpectacularRedocView):
    """``/api/v1/redoc/``."""

    permission_classes = [DocsAccess]
    authentication_classes = DOCS_AUTHENTICATION

    def handle_exception(self, exc: Exception) -> Any:
        return _login_redirect(self.request, exc) or super().handle_exception(exc)
