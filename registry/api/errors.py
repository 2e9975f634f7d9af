"""The single error shape of the API, for DRF, Django and registry exceptions alike.

``{"type": "validation_error" | "client_error" | "server_error",
   "errors": [{"code": ..., "detail": ..., "attr": "members.0.document_number" | null}]}``
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from registry.exceptions import Conflict as RegistryConflict
from registry.exceptions import RegistryError

logger = logging.getLogger("registry.api")

NON_FIELD_KEYS = {"non_field_errors", "__all__"}


def _flatten(detail: Any, path: str | None = None) -> list[dict[str, Any]]:
    """Turn DRF's nested error details into a flat list with dotted field paths."""
    if isinstance(detail, dict):
        errors: list[dict[str, Any]] = []
        for key, value in detail.items():
            child = path if key in NON_FIELD_KEYS else (f"{path}.{key}" if path else str(key))
            errors.extend(_flatten(value, child))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                child = f"{path}.{index}" if path else str(index)
                errors.extend(_flatten(item, child))
            else:
                errors.extend(_flatten(item, path))
        return errors
    code = getattr(detail, "code", None) or "invalid"
    return [{"code": str(code), "detail": str(detail), "attr": path}]


class RequestTooLarge(exceptions.APIException):
    """413: the body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (files excepted)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = gettext_lazy("The request body is too large.")


def error_payload(error_type: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The documented error body."""
    return {"type": error_type, "errors": errors}


def _type_for(status_code: int, validation: bool = False) -> str:
    if validation:
        return "validation_error"
    return "server_error" if status_code >= 500 else "client_error"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler rendering every error in the one documented shape."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        # A unique rule hit by a concurrent write that passed our own checks a moment earlier.
        logger.warning("Integrity error answered as 409: %s", exc)
        exc = RegistryConflict(
            _("The record conflicts with another one saved at the same time. Reload and retry."),
            code="conflict",
        )
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge(
            _("The request body is larger than %(limit)s bytes.") % {"limit": limit},
            code="request_too_large",
        )
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields or files in a form, and the like: the request is at fault.
        exc = exceptions.ParseError(_("Bad request."), code="bad_request")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, RegistryError):
        set_rollback()
        error: dict[str, Any] = {"code": exc.code, "detail": exc.detail, "attr": exc.attr}
        error.update(exc.extra)
        return Response(error_payload(_type_for(exc.status_code), [error]), status=exc.status_code)

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        is_validation = isinstance(exc, exceptions.ValidationError)
        detail = exc.detail
        if isinstance(exc, exceptions.ValidationError) or isinstance(detail, (dict, list)):
            errors = _flatten(detail)
        else:
            errors = [
                {
                    "code": str(getattr(detail, "code", exc.default_code)),
                    "detail": str(detail),
                    "attr": None,
                }
            ]
        return Response(
            error_payload(_type_for(exc.status_code, is_validation), errors),
            status=exc.status_code,
            headers=headers,
        )

    logger.exception("Unhandled API error", exc_info=exc)
    set_rollback()
    return Response(
        error_payload(
            "server_error",
            [{"code": "server_error", "detail": _("Internal server error."), "attr": None}],
        ),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json_error(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        error_payload(_type_for(status_code), [{"code": code, "detail": detail, "attr": None}]),
        status=status_code,
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django-level 400: JSON under /api/, the usual page elsewhere."""
    if is_api(request):
        return _json_error(400, "bad_request", _("Bad request."))
    return defaults.bad_request(request, exception or Exception())


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django-level 403: JSON under /api/, the usual page elsewhere."""
    if is_api(request):
        return _json_error(403, "permission_denied", _("Permission denied."))
    return defaults.permission_denied(request, exception or Exception())


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django-level 404 (no route matched): JSON under /api/, the usual page elsewhere."""
    if is_api(request):
        return _json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Django-level 500: JSON under /api/, the usual page elsewhere."""
    if is_api(request):
        return _json_error(500, "server_error", _("Internal server error."))
    return defaults.server_error(request)
