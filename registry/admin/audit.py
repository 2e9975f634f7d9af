"""Admin for the audit trail: record history and sensitive-data reads (read-only, scoped)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .. import policies
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
    """Who read sensitive (coca) data, when, which records: for audits and breach notices."""

    list_display = ["at", "resource", "organization", "created_by_key", "created_by", "path"]
    list_filter = ["resource", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization", "created_by_key", "created_by"]
    search_fields = ["path"]
    show_full_result_count = False
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLog]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.access_logs_q(actor))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and policies.can_read_audit(
            request_actor(request)
        )
