"""Pieces every app's admin uses: read-only inlines, large-table changelists (capped counts) and
streamed CSV exports.

Kept apart from ``registry.admin`` (which registers the kernel's own models) so that an app's
admin can use them without caring about the kernel's registrations.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.functional import cached_property

__all__ = ["CappedCountPaginator", "LargeTableAdmin", "ReadOnlyInline", "stream_csv"]


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (a bounded ``COUNT`` over ``LIMIT``), so changelists of
    million-row tables never count the whole table; beyond the cap the last page is not
    offered exactly."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return int(rows[: self.CAP + 1].count())


class LargeTableAdmin(admin.ModelAdmin):
    """The changelist of a table that grows to millions of rows (title files, contracts,
    deliveries, offers): 50 rows a page, counted at most up to ``CappedCountPaginator.CAP``."""

    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator


class ReadOnlyInline(admin.TabularInline):
    """A history or child list shown under its parent: no adding, editing or deleting, every
    listed field read-only (changes go through the services, never through the inline)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return list(self.fields or self.readonly_fields or [])


class _Echo:
    """A file-like object whose ``write`` hands the line back (``csv.writer`` into a stream)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], filename: str
) -> StreamingHttpResponse:
    """A CSV download written row by row as ``rows`` is read (constant memory on big tables)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
