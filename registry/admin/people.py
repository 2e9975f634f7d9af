"""Admin for people and keys: memberships (roles and districts) and partners' API keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import policies
from ..actors import Actor
from ..choices import Role, Scope
from ..exceptions import PermissionDenied
from ..models import (
    ApiKey,
    Membership,
)
from ..services import (
    api_key_create,
    api_key_revoke,
    check_acts_for,
    membership_assign,
    membership_update,
)
from .base import (
    NoDeleteAdmin,
    denied_as_form_error,
    request_actor,
)


class MembershipForm(forms.ModelForm):
    """A person's role and districts, checked against ``registry.policies`` before saving."""

    actor: Actor | None = None

    class Meta:
        model = Membership
        fields = ["user", "organization", "role", "districts", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user", self.instance.user if self.instance.pk else None)
        organization = data.get(
            "organization", self.instance.organization if self.instance.pk else None
        )
        role = data.get("role")
        if user is None or organization is None or role is None:
            return data
        roles = {role} if self.instance.pk is None else {role, self.instance.role}
        try:
            for wanted in roles:
                policies.check_membership_change(
                    self.actor,
                    user=user,
                    organization=organization,
                    role=wanted,
                    districts=data.get("districts") or (),
                )
        except PermissionDenied as exc:
            raise denied_as_form_error(exc) from exc
        return data


@admin.register(Membership)
class MembershipAdmin(NoDeleteAdmin):
    """People's roles: administrators everywhere, programme staff in their own organization;
    nobody their own membership. Saved through ``membership_assign`` / ``membership_update``."""

    form = MembershipForm
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organization__code"]
    autocomplete_fields = ["user", "organization", "districts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return (
            super()
            .get_queryset(request)
            .filter(policies.manageable_memberships_q(request_actor(request)))
        )

    def _manages_any(self, request: HttpRequest) -> bool:
        actor = request_actor(request)
        return policies.is_platform_admin(actor) or bool(policies.staff_organization_ids(actor))

    def _may_touch(self, request: HttpRequest, obj: Membership | None) -> bool:
        if obj is None:
            return self._manages_any(request)
        actor = request_actor(request)
        own = obj.user_id == request.user.pk and not actor.unrestricted
        return not own and policies.can_manage_organization(actor, obj.organization_id)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return self._manages_any(request)
        return policies.can_manage_organization(request_actor(request), obj.organization_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._manages_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "organization"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request_actor(request)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        actor = request_actor(request)
        if db_field.name == "organization":
            kwargs["queryset"] = policies.manageable_organizations(actor)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role" and not policies.is_platform_admin(request_actor(request)):
            kwargs["choices"] = [c for c in Role.choices if c[0] != Role.ADMINISTRATOR]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        """Through the services: the same policy checks, history."""
        data = form.cleaned_data
        ubigeos = [d.pk for d in data.get("districts") or []]
        actor = request_actor(request)
        if change:
            saved = membership_update(
                membership=obj,
                role=data["role"],
                district_ubigeos=ubigeos,
                is_active=data.get("is_active", True),
                actor=actor,
            )
        else:
            saved = membership_assign(
                user=data["user"],
                organization=data["organization"],
                role=data["role"],
                district_ubigeos=ubigeos,
                actor=actor,
                channel="admin",
            )
            if not data.get("is_active", True):
                saved = membership_update(
                    membership=saved,
                    role=saved.role,
                    district_ubigeos=ubigeos,
                    is_active=False,
                    actor=actor,
                )
        obj.pk = saved.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing to save: the service set the districts."""


class ApiKeyAddForm(forms.ModelForm):
    """Issue a key: organization, name, scopes and an optional expiry in days."""

    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.IntegerField(label=_("expires in (days)"), required=False, min_value=1)

    actor: Actor | None = None

    class Meta:
        model = ApiKey
        fields = ["organization", "name", "acts_for_user", "service"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization, person = data.get("organization"), data.get("acts_for_user")
        if organization is not None and person is not None:
            try:
                check_acts_for(organization, person)
            except ValidationError as exc:
                self.add_error("acts_for_user", exc.messages[0])
        scopes = data.get("scopes")
        if organization is not None and scopes is not None:
            try:
                policies.check_api_key_create(self.actor, organization, scopes)
            except PermissionDenied as exc:
                field = "scopes" if exc.code == "scope_not_grantable" else "organization"
                raise denied_as_form_error(exc, field) from exc
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(NoDeleteAdmin):
    list_display = [
        "prefix",
        "organization",
        "name",
        "acts_for_user",
        "service",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization", "acts_for_user"]
    search_fields = ["prefix", "name", "organization__code"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["acts_for_user"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix",
        "organization",
        "name",
        "acts_for_user",
        "service",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        actor = request_actor(request)
        queryset = super().get_queryset(request)
        if policies.is_platform_admin(actor):
            return queryset
        return queryset.filter(organization_id__in=sorted(policies.staff_organization_ids(actor)))

    def _manages_any(self, request: HttpRequest) -> bool:
        actor = request_actor(request)
        return policies.is_platform_admin(actor) or bool(policies.staff_organization_ids(actor))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return self._manages_any(request)
        return policies.can_manage_organization(request_actor(request), obj.organization_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._manages_any(request)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request_actor(request)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = policies.manageable_organizations(request_actor(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["organization", "name", "acts_for_user", "service", "scopes", "expires_in_days"]
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        api_key, raw_key = api_key_create(
            organization=form.cleaned_data["organization"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_in_days=form.cleaned_data.get("expires_in_days"),
            created_by=request.user,
            actor=request_actor(request),
            acts_for_user=form.cleaned_data.get("acts_for_user"),
            service=form.cleaned_data.get("service") or "",
        )
        obj.pk = api_key.pk
        messages.warning(
            request,
            _("Copy the new key now; it will not be shown again: %(key)s") % {"key": raw_key},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing to save: the service wrote the key."""

    @admin.action(description=_("Revoke selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = request_actor(request)
        done = 0
        for api_key in queryset:
            try:
                api_key_revoke(api_key=api_key, actor=actor)
                done += 1
            except PermissionDenied as exc:
                messages.warning(request, f"{api_key}: {exc.detail}")
        if done:
            messages.success(request, _("Keys revoked."))

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_apikey") and self._manages_any(request)
