"""Keeps the API's error shape for errors raised outside DRF (unmatched routes, crashes)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
