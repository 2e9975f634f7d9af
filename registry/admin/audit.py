"""Admin for the audit trail: record history and sensitive-data reads (read-only, scoped)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .. import policies
from ..access_report import access_rows, write_csv
from ..models import (
    AccessLog,
    ChangeRecord,
)
from .base import (
    ReadOnlyAdmin,
    request_actor,
)


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "content_type",
        "object_repr",
        "action",
        "created_by",
        "created_by_key",
        "channel",
    ]
    list_filter = ["action", "channel", "content_type"]
    list_select_related = ["content_type", "created_by", "created_by_key"]
    search_fields = ["object_id", "object_repr"]
    show_full_result_count = False
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRecord]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.change_records_q(actor))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and policies.can_read_audit(
            request_actor(request)
        )


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Who read personal or coca data, when, which records and fields: for audits and breach
    notices (the action exports the selection as the breach-notice CSV)."""

    list_display = [
        "at",
        "resource",
        "organization",
        "created_by_key",
        "created_by",
        "records_read",
        "fields_read",
        "path",
    ]
    actions = ["export_csv"]
    list_filter = ["resource", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization", "created_by_key", "created_by"]
    search_fields = ["path"]
    show_full_result_count = False
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLog]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.access_logs_q(actor))

    @admin.display(description=_("records read"))
    def records_read(self, log: AccessLog) -> int:
        return len(log.object_ids)

    @admin.display(description=_("fields"))
    def fields_read(self, log: AccessLog) -> str:
        return ", ".join(log.fields)

    @admin.action(description=_("Export selected reads as CSV (breach notice)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AccessLog]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="lecturas.csv"'
        first = queryset.order_by("at").values_list("at", flat=True).first()
        last = queryset.order_by("-at").values_list("at", flat=True).first()
        if first is not None and last is not None:
            write_csv(
                access_rows(start=first, end=last + timedelta(microseconds=1), logs=queryset),
                response,
            )
        return response

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and policies.can_read_audit(
            request_actor(request)
        )
