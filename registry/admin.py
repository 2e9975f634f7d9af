"""Admin for the registry kernel, in Spanish: geography, organizations, programmes, people, keys.

Every class asks ``registry.policies`` which rows a person sees and may change (the same rules
the services enforce); ``request_actor`` and ``autocomplete_source`` are shared with the other
apps' admins.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from . import policies
from .actors import Actor
from .alerts import alert_transition
from .choices import LIVE_ALERT_STATUSES, AlertStatus, Role, Scope
from .exceptions import PermissionDenied, RegistryError
from .models import (
    AccessLog,
    Alert,
    ApiKey,
    ChangeRecord,
    Department,
    District,
    Membership,
    Organization,
    Program,
    Province,
)
from .services import (
    api_key_create,
    api_key_revoke,
    check_acts_for,
    membership_assign,
    membership_update,
    organization_areas_set,
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


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (a bounded ``COUNT`` over ``LIMIT``), so changelists of
    million-row tables never count the whole table; beyond the cap the last page is not
    offered exactly."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return int(rows[: self.CAP + 1].count())


class ProgrammeSettingsAdmin(admin.ModelAdmin):
    """Settings that belong to programmes (thresholds, title SLAs, buyers' profiles), ruled by
    ``registry.policies``: platform administrators see every row, others the rows
    ``scope_rows`` keeps; adding needs programme-agency staff, and an object is changed when
    ``may_change`` allows it."""

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
    """Reference data loaded by migrations: browsable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Province)
class ProvinceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "department"]
    list_filter = ["department"]
    list_select_related = ["department"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(ReadOnlyAdmin):
    list_display = ["ubigeo", "name", "province", "department", "is_vraem"]
    list_filter = ["is_vraem", "department"]
    list_select_related = ["province__department", "department"]
    search_fields = ["ubigeo", "name", "province__name"]


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


class VersionedAdmin(NoDeleteAdmin):
    """Optimistic locking in the admin: each save moves the version on, stale forms are refused."""

    form = VersionedForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)


# Autocompletes that offer only the organizations whose keys and people the person manages.
MANAGED_ORGANIZATION_FIELDS = frozenset(
    {
        ("registry", "apikey", "organization"),
        ("registry", "membership", "organization"),
        ("registry", "program", "agency"),
        ("registry", "program", "funder"),
    }
)


@admin.register(Organization)
class OrganizationAdmin(VersionedAdmin):
    """Organizations: administrators create and edit them and set their areas (through
    ``organization_areas_set``); others see their own and their programmes' partners."""

    list_display = ["code", "name", "kind", "ruc", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "ruc"]
    autocomplete_fields = ["district", "districts", "programs"]
    readonly_fields = ["version", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        actor = request_actor(request)
        if autocomplete_source(request) in MANAGED_ORGANIZATION_FIELDS:
            allowed = policies.manageable_organizations(actor)
        else:
            allowed = policies.visible_organizations(actor)
        queryset = super().get_queryset(request)
        if policies.is_platform_admin(actor):
            return queryset
        return queryset.filter(pk__in=allowed.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policies.can_administer_organizations(
            request_actor(request)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(
            request, obj
        ) and policies.can_administer_organizations(request_actor(request))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Assigned districts and programmes go through the service (administrators, history)."""
        data = form.cleaned_data
        if "districts" in data and "programs" in data:
            organization_areas_set(
                organization=form.instance,
                district_ubigeos=[d.pk for d in data["districts"]],
                program_ids=[p.pk for p in data["programs"]],
                actor=request_actor(request),
            )


@admin.register(Program)
class ProgramAdmin(ProgrammeSettingsAdmin, VersionedAdmin):
    list_display = ["code", "name", "agency", "funder", "budget_pen", "is_active"]
    list_filter = [
        "is_active",
        ("agency", admin.RelatedOnlyFieldListFilter),
        ("funder", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["agency", "funder"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["agency", "funder"]
    readonly_fields = ["version", "created_at", "updated_at"]
    # What programme staff of the agency may change; the rest is the administrators'.
    threshold_fields = [
        "coca_free_max_age_months",
        "licit_min_ha",
        "market_window_months",
        "graduation_coca_free_months",
        "graduation_income_pen",
        "relapses_before_exclusion",
        "visit_due_months",
        "public_notice_days",
        "visit_photo_required",
    ]

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=policies.visible_programs(actor).values("pk"))

    def may_add(self, actor: Actor) -> bool:
        return policies.can_administer_organizations(actor)

    def may_change(self, actor: Actor, obj: Any) -> bool:
        return policies.can_govern_program(actor, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if policies.is_platform_admin(request_actor(request)):
            return self.readonly_fields
        editable = {*self.threshold_fields, "edited_version"}
        return [
            *self.readonly_fields,
            *(f for _name, box in self.fieldsets for f in box["fields"] if f not in editable),
        ]

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "name",
                    "agency",
                    "funder",
                    "budget_pen",
                    "starts_on",
                    "ends_on",
                    "is_active",
                ]
            },
        ),
        (
            _("Transition thresholds"),
            {
                "fields": [
                    "coca_free_max_age_months",
                    "licit_min_ha",
                    "market_window_months",
                    "graduation_coca_free_months",
                    "graduation_income_pen",
                    "relapses_before_exclusion",
                    "visit_due_months",
                    "public_notice_days",
                    "visit_photo_required",
                ]
            },
        ),
        (_("Record"), {"fields": ["version", "created_at", "updated_at", "edited_version"]}),
    ]


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


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "content_type",
        "object_repr",
        "action",
        "actor_user",
        "actor_api_key",
        "channel",
    ]
    list_filter = ["action", "channel", "content_type"]
    list_select_related = ["content_type", "actor_user", "actor_api_key"]
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

    list_display = ["at", "resource", "organization", "actor_api_key", "actor_user", "path"]
    list_filter = ["resource", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization", "actor_api_key", "actor_user"]
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


class AlertDistrictFilter(admin.SimpleListFilter):
    """Districts that have alerts in the person's area (not all 1,891 of Peru)."""

    title = _("district")
    parameter_name = "district"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        rows = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list("district_id", "district__name")
            .distinct()
        )
        return sorted(((ubigeo, f"{name} ({ubigeo})") for ubigeo, name in rows), key=lambda r: r[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(district_id=value) if value else queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """The alert queue of the person's area: acknowledge or resolve through the workflow."""

    list_display = [
        "raised_at",
        "kind",
        "severity",
        "status",
        "message",
        "district",
        "program",
        "due_on",
        "assigned_to",
    ]
    list_filter = ["status", "kind", "severity", AlertDistrictFilter, "program"]
    list_select_related = ["district", "program", "assigned_to"]
    search_fields = ["message", "=key"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    date_hierarchy = "raised_at"
    actions = ["acknowledge", "resolve"]
    readonly_fields = [
        "kind",
        "key",
        "status",
        "severity",
        "message",
        "details",
        "district",
        "program",
        "household_id",
        "subject_type",
        "subject_id",
        "owner_role",
        "assigned_to",
        "due_on",
        "raised_at",
        "acknowledged_at",
        "resolved_at",
        "resolution_note",
        "version",
    ]
    fields = tuple(readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        actor = request_actor(request)
        return (
            super()
            .get_queryset(request)
            .filter(actor.area_q(district_path="district_id", program_path="program_id"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # alerts are raised by the system

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def _move(self, request: HttpRequest, queryset: QuerySet[Alert], to: str) -> int:
        actor = request_actor(request)
        done, refused = 0, []
        for alert in queryset.filter(status__in=LIVE_ALERT_STATUSES)[:500]:
            try:
                alert_transition(actor=actor, alert=alert, to=to)
                done += 1
            except RegistryError as exc:
                refused.append(f"{alert}: {exc.detail}")
        for line in refused[:20]:
            messages.warning(request, line)
        return done

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = self._move(
            request, queryset.filter(status=AlertStatus.OPEN), AlertStatus.ACKNOWLEDGED
        )
        if done:
            messages.success(request, _("%(n)s alerts acknowledged.") % {"n": done})

    @admin.action(description=_("Resolve selected alerts"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = self._move(request, queryset, AlertStatus.RESOLVED)
        if done:
            messages.success(request, _("%(n)s alerts resolved.") % {"n": done})
