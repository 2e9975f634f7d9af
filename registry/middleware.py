"""Keeps the API's error shape for errors raised outside DRF (unmatched routes, crashes)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .api.errors import handler404, handler500, is_api


class ApiErrorMiddleware:
    """Under ``/api/``, a non-JSON 404 or an unhandled exception becomes the JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code == 404
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return handler404(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_api(request):
            logging.getLogger("registry.api").exception("Unhandled error", exc_info=exception)
            return handler500(request)
        return None


class SpanishFirstLocaleMiddleware(LocaleMiddleware):
    """Spanish (es-PE) unless the person chose English (language cookie, set from the admin's
    switch). The API also honours ``Accept-Language``, which is how partners' systems ask."""

    def process_request(self, request: HttpRequest) -> None:
        if is_api(request):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        try:
            language = translation.get_supported_language_variant(chosen)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
