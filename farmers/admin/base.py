"""What every farmers admin class shares: rows narrowed to the person's area and coca figures
shown only where they may read them (both asked of ``farmers.policies``), read-only inlines."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from registry.admin import request_actor
from registry.admin_toolkit import ReadOnlyInline

from .. import policies
from ..models import (
    Household,
)

MASK = "•••"


def coca_allowed(request: HttpRequest, household: Household) -> bool:
    """Whether the person may read coca data of ``household`` (coca:read in its area)."""
    return policies.household_can(request_actor(request), household, "read_coca")


class ScopedAdminMixin:
    """Narrows every changelist and change view to the person's area (the same ``area_q`` the
    API uses); ``household_prefix`` points at the household from this model."""

    household_prefix = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(
            policies.household_q(request_actor(request), prefix=self.household_prefix)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LinkedInline(ReadOnlyInline):
    """A read-only inline whose rows link to their own change page."""

    show_change_link = True


class CocaInlineMixin:
    """Inline instances are made per request: the parent household decides coca visibility."""

    coca_shown = False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self.coca_shown = obj is not None and coca_allowed(request, obj)
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
