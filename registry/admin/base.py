"""The registry admin's shared pieces: one ``Actor`` per request, autocomplete scoping and the base
classes (read-only, no-delete, versioned, programme settings).

Every class asks ``registry.policies`` which rows a person sees and may change (the same rules
the services enforce); the other apps' admins import these from ``registry.admin``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import policies
from ..actors import Actor
from ..admin_toolkit import DecimalCommaAdminMixin
from ..exceptions import PermissionDenied
from ..models import (
    next_version,
)

ACTOR_ATTRIBUTE = "_registry_actor"


def request_actor(request: HttpRequest) -> Actor:
    """The signed-in person as an ``Actor``, built once per request."""
    actor = getattr(request, ACTOR_ATTRIBUTE, None)
    if actor is None or actor.user is not (request.user if request.user.is_authenticated else None):
        actor = Actor.for_user(request.user)
        setattr(request, ACTOR_ATTRIBUTE, actor)
    return actor


def autocomplete_source(request: HttpRequest) -> tuple[str, str, str] | None:
    """``(app_label, model_name, field_name)`` of an admin autocomplete request, else ``None``
    (the autocomplete lists the related admin's ``get_queryset``: scope it per field)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "autocomplete":
        return None
    return (
        request.GET.get("app_label", ""),
        request.GET.get("model_name", ""),
        request.GET.get("field_name", ""),
    )


def denied_as_form_error(exc: PermissionDenied, field: str | None = None) -> ValidationError:
    """A policy refusal shown on the admin form (the service would raise the same)."""
    if field is None:
        return ValidationError(exc.detail, code=exc.code)
    return ValidationError({field: ValidationError(exc.detail, code=exc.code)})


class ProgrammeSettingsAdmin(DecimalCommaAdminMixin, admin.ModelAdmin):
    """Settings that belong to programmes (thresholds, title SLAs, buyers' profiles), ruled by
    ``registry.policies``: platform administrators see every row, others the rows
    ``scope_rows`` keeps; adding needs programme-agency staff, and an object is changed when
    ``may_change`` allows it. Decimal fields accept the decimal comma."""

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The rows a person who is not a platform administrator may see."""
        return queryset

    def may_change(self, actor: Actor, obj: Any) -> bool:
        """Whether ``actor`` may change ``obj`` (the changelist asks with none)."""
        return policies.governs_any_program(actor)

    def may_add(self, actor: Actor) -> bool:
        """Whether ``actor`` may add a row."""
        return policies.governs_any_program(actor)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        actor = request_actor(request)
        queryset = super().get_queryset(request)
        return queryset if policies.is_platform_admin(actor) else self.scope_rows(actor, queryset)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self.may_add(request_actor(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        actor = request_actor(request)
        return policies.governs_any_program(actor) if obj is None else self.may_change(actor, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records people browse but never add, edit or delete by hand (reference data loaded by
    migrations, the history of import and export jobs)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoDeleteAdmin(admin.ModelAdmin):
    """Records are deactivated, never deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionedForm(forms.ModelForm):
    """Carries the version the editor started from; saving over a newer version is refused."""

    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edited_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        edited = cleaned.get("edited_version")
        if self.instance.pk is not None and edited is not None:
            # The admin's change view runs in a transaction: the lock holds until the save.
            current = (
                type(self.instance)
                .objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("version", flat=True)
            )
            if current.first() != edited:
                raise forms.ValidationError(
                    _(
                        "Someone else changed this record while you were editing it. "
                        "Open it again to see their changes, then redo yours."
                    ),
                    code="stale_version",
                )
        return cleaned


class DecimalCommaAdmin(DecimalCommaAdminMixin, admin.ModelAdmin):
    """Every decimal of the form accepts a decimal comma (``DecimalCommaField``)."""


class VersionedAdmin(DecimalCommaAdmin, NoDeleteAdmin):
    """Optimistic locking in the admin: each save moves the version on, stale forms are refused."""

    form = VersionedForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            next_version(obj)
        super().save_model(request, obj, form, change)
