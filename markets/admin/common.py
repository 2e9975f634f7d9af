"""What the markets admin pages share: the buyer filter, the area scoping of contracts and
deliveries (``markets.policies``) and actions that call a service on each selected row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.actors import Actor
from registry.admin import request_actor
from registry.choices import OrganizationKind
from registry.exceptions import RegistryError
from registry.models import Organization

from .. import policies

# An action handles at most this many rows (the rest stay selected for another run).
ACTION_LIMIT = 500


def apply_each(
    request: HttpRequest,
    rows: QuerySet[Any],
    call: Callable[[Actor, Any], Any],
    done: Callable[[int], str],
) -> None:
    """Call a service on each row (as the person), then report how many changed and, as
    warnings, the first refusals with their reasons."""
    actor = request_actor(request)
    count, refused = 0, []
    for row in rows[:ACTION_LIMIT]:
        try:
            call(actor, row)
            count += 1
        except (RegistryError, ValidationError) as exc:
            refused.append(f"{row}: {getattr(exc, 'detail', None) or exc}")
    if count:
        messages.success(request, done(count))
    for line in refused[:20]:
        messages.warning(request, line)


class BuyerFilter(admin.SimpleListFilter):
    """Only organizations that are buyers."""

    title = _("buyer")
    parameter_name = "buyer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in Organization.objects.filter(kind=OrganizationKind.BUYER).values_list(
                "pk", "name"
            )
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(buyer_id=value) if value and value.isdigit() else queryset


class ScopedMixin:
    """Narrows changelists and change views to what the person may see (as in the API)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(policies.contract_q(request_actor(request)))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded through the API by buyers and programme staff
