"""Admin page of producer organisations (cooperatives and associations): the organisation's
details as on any organisation's page, and its member households (read-only here: members are
added, change role and leave through the services, from the API, the field pages or an
import)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from registry.admin import request_actor
from registry.admin.organizations import OrganizationAdmin
from registry.admin_toolkit import ReadOnlyInline
from registry.choices import OrganizationKind

from .. import policies
from ..models import ProducerMembership, ProducerOrganization


class MemberInline(ReadOnlyInline):
    """The organisation's member households the person may see (their area)."""

    model = ProducerMembership
    fk_name = "organization"
    fields = ["household", "role", "joined_on", "left_on", "created_at"]
    ordering = ["joined_on", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProducerMembership]:
        queryset = super().get_queryset(request).select_related("household")
        return queryset.filter(policies.membership_q(request_actor(request)))


@admin.register(ProducerOrganization)
class ProducerOrganizationAdmin(OrganizationAdmin):
    """Cooperatives and associations with their members; the kind is always ``producer_org``."""

    list_display = ["code", "name", "ruc", "district", "is_active"]
    list_filter = ["is_active"]
    exclude = ["kind"]
    inlines = [MemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(kind=OrganizationKind.PRODUCER_ORG)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.kind = OrganizationKind.PRODUCER_ORG
        super().save_model(request, obj, form, change)
