"""Cursor pagination: ``{"next", "previous", "results"}``, ``page_size`` up to 100, no counts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """Stable, count-free pages; a bad ``cursor`` or ``page_size`` is a 400 with a field error."""

    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering = "pk"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Use a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                },
                code="invalid",
            )
        return value

    def decode_cursor(self, request: Request) -> Any:
        try:
            cursor = super().decode_cursor(request)
            # A position is a value of the ordering field: text that PostgreSQL can compare.
            if cursor is not None and "\x00" in str(cursor.position or ""):
                raise exceptions.NotFound()
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("Invalid cursor: start again from the first page.")]},
                code="invalid",
            ) from exc
        return cursor

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters
