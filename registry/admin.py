"""Admin for the registry kernel, in Spanish: geography, organizations, programmes, people, keys."""

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

from .actors import Actor
from .alerts import alert_transition
from .choices import LIVE_ALERT_STATUSES, AlertStatus, Scope
from .exceptions import RegistryError
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
from .services import api_key_create, api_key_revoke, check_acts_for


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (a bounded ``COUNT`` over ``LIMIT``), so changelists of
    million-row tables never count the whole table; beyond the cap the last page is not
    offered exactly."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return int(rows[: self.CAP + 1].count())


admin.site.site_header = _("Alternative-development farmer registry")
admin.site.site_title = _("Farmer registry")
admin.site.index_title = _("Administration")


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


@admin.register(Organization)
class OrganizationAdmin(VersionedAdmin):
    list_display = ["code", "name", "kind", "ruc", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "ruc"]
    autocomplete_fields = ["district", "districts", "programs"]
    readonly_fields = ["version", "created_at", "updated_at"]


@admin.register(Program)
class ProgramAdmin(VersionedAdmin):
    list_display = ["code", "name", "agency", "funder", "budget_pen", "is_active"]
    list_filter = ["is_active", "agency", "funder"]
    list_select_related = ["agency", "funder"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["agency", "funder"]
    readonly_fields = ["version", "created_at", "updated_at"]
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
                ]
            },
        ),
        (_("Record"), {"fields": ["version", "created_at", "updated_at", "edited_version"]}),
    ]


@admin.register(Membership)
class MembershipAdmin(NoDeleteAdmin):
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organization__code"]
    autocomplete_fields = ["user", "organization", "districts"]


class ApiKeyAddForm(forms.ModelForm):
    """Issue a key: organization, name, scopes and an optional expiry in days."""

    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.IntegerField(label=_("expires in (days)"), required=False, min_value=1)

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
    list_filter = ["organization"]
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

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

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
            actor=Actor.for_user(request.user),
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
        actor = Actor.for_user(request.user)
        for api_key in queryset:
            api_key_revoke(api_key=api_key, actor=actor)
        messages.success(request, _("Keys revoked."))

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_apikey")


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


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Who read sensitive (coca) data, when, which records: for audits and breach notices."""

    list_display = ["at", "resource", "organization", "actor_api_key", "actor_user", "path"]
    list_filter = ["resource", "organization"]
    list_select_related = ["organization", "actor_api_key", "actor_user"]
    search_fields = ["path"]
    show_full_result_count = False
    date_hierarchy = "at"


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
        actor = Actor.for_user(request.user)
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
        actor = Actor.for_user(request.user)
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
