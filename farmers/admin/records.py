"""Plots, crop installations, support, the stage ledger and the transition sweeps in the
admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from registry.admin import CappedCountPaginator, request_actor
from registry.admin_toolkit import DecimalCommaAdminMixin, history_html
from registry.display import choice_labels
from registry.exceptions import RegistryError
from registry.funding import funding_resolve
from registry.maps import boundary_svg

from .. import services
from ..choices import Crop, InstallationStatus
from ..models import (
    CropInstallation,
    Plot,
    StageChange,
    Support,
    SweepRange,
    SweepRun,
)
from ..pages.stage import reason_label
from .base import LinkedInline, ScopedAdminMixin, coca_allowed
from .inlines import PlotInstallationInline, evidence_text


@admin.register(Plot)
class PlotAdmin(ScopedAdminMixin, admin.ModelAdmin):
    household_prefix = "household__"
    list_display = ["name", "household", "tenure", "area_ha", "is_active"]
    list_filter = ["tenure", "is_active"]
    list_select_related = ["household"]
    show_full_result_count = False
    readonly_fields = [
        "household",
        "name",
        "tenure",
        "boundary_map",
        "area_ha",
        "crops_shown",
        "is_active",
        "version",
        "created_at",
        "history_in_words",
    ]
    fields = tuple(readonly_fields)
    inlines = [PlotInstallationInline]

    @admin.display(description=_("boundary"))
    def boundary_map(self, obj: Plot) -> SafeString:
        """The plot's boundary drawn from its geometry (never the GeoJSON text)."""
        return boundary_svg(
            [(obj.name, obj.geometry)],
            title=_("Boundary of the plot %(name)s") % {"name": obj.name},
            district=obj.household.district_id,
            district_name=obj.household.district.name,
        )

    @admin.display(description=_("crops"))
    def crops_shown(self, obj: Plot) -> str:
        return choice_labels(obj.crops, Crop)

    @admin.display(description=_("history in words"))
    def history_in_words(self, obj: Plot) -> SafeString:
        return history_html([obj])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)


INSTALLATION_FIELDS: tuple[str, ...] = (
    "household",
    "plot",
    "crop",
    "variety",
    "area_ha",
    "plants",
    "planted_on",
    "support",
    "status",
    "lost_on",
    "status_note",
    "version",
    "created_at",
    "created_by",
    "created_by_key",
    "updated_at",
)


@admin.register(CropInstallation)
class CropInstallationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Crops installed on the families' plots (recorded through the API or the field pages);
    an action marks the selected ones producing through the service (with history)."""

    household_prefix = "household__"
    list_display = [
        "household",
        "plot",
        "crop",
        "variety",
        "area_ha",
        "plants",
        "planted_on",
        "status",
    ]
    list_filter = ["crop", "status"]
    list_select_related = ["household", "plot"]
    date_hierarchy = "planted_on"
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = INSTALLATION_FIELDS
    readonly_fields = INSTALLATION_FIELDS
    actions = ["mark_producing"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.action(description=_("Mark selected installations as producing"))
    def mark_producing(self, request: HttpRequest, queryset: QuerySet[CropInstallation]) -> None:
        actor = request_actor(request)
        for record in queryset.filter(status=InstallationStatus.INSTALLED)[:500]:
            try:
                services.installation_transition(
                    actor=actor,
                    installation=record,
                    to=InstallationStatus.PRODUCING,
                    channel="admin",
                )
            except RegistryError as exc:
                messages.warning(request, f"{record}: {exc.detail}")


class SupportForm(forms.ModelForm):
    """Refuses a support item dated before the family's enrolment, or outside its funding
    agreement's period (field errors, not a 500)."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        household, given_on = cleaned.get("household"), cleaned.get("given_on")
        if household is not None and given_on is not None:
            services.require_not_before_enrolment(household, given_on, "given_on")
            funding = funding_resolve(
                source=cleaned.get("funding_source"),
                agreement=cleaned.get("funding_agreement"),
                on=given_on,
                program_id=household.program_id,
                date_attr="given_on",
            )
            cleaned["funding_source"] = funding.source
        return cleaned


@admin.register(Support)
class SupportAdmin(DecimalCommaAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """What the programme gave each family; recorded through the service (with history). The
    cost accepts the decimal comma."""

    form = SupportForm

    household_prefix = "household__"
    list_display = [
        "household",
        "kind",
        "cost_pen",
        "funding_source",
        "funding_agreement",
        "given_on",
    ]
    list_filter = [
        "kind",
        "funding_source",
        ("given_on", admin.DateFieldListFilter),
    ]
    list_select_related = ["household", "funding_source", "funding_agreement"]
    show_full_result_count = False
    autocomplete_fields = ["household", "funding_source", "funding_agreement"]
    fields = [
        "household",
        "kind",
        "description",
        "cost_pen",
        "funding_source",
        "funding_agreement",
        "given_on",
        "suspension_override",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """The add form refuses support for a suspended household (unless staff give the
        override reason) as a form error, before anything is saved."""
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = request_actor(request)

        class SupportForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                household = data.get("household")
                if household is not None:
                    try:
                        services.suspension_check(
                            actor,
                            household,
                            data.get("suspension_override", ""),
                            attr="household",
                        )
                    except RegistryError as exc:
                        field = "suspension_override" if exc.status_code == 403 else "household"
                        self.add_error(field, exc.detail)
                return data

        return SupportForm

    def save_model(self, request: HttpRequest, obj: Support, form: Any, change: bool) -> None:
        saved = services.support_record(
            actor=request_actor(request),
            household=obj.household_id,
            kind=obj.kind,
            cost_pen=obj.cost_pen,
            given_on=obj.given_on,
            funding_source=obj.funding_source.code if obj.funding_source else None,
            funding_agreement=obj.funding_agreement.code if obj.funding_agreement else None,
            description=obj.description,
            override_reason=obj.suspension_override,
            channel="admin",
        )
        obj.pk = saved.pk


@admin.register(StageChange)
class StageChangeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The transition ledger, read-only: every stage change with its reason and evidence."""

    list_display = [
        "id",
        "household",
        "from_stage",
        "to_stage",
        "reason_shown",
        "effective_on",
        "at",
    ]
    list_filter = ["to_stage", "from_stage", "reason", "program"]
    list_select_related = ["household"]
    search_fields = ["=household__code"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    date_hierarchy = None
    readonly_fields = [
        "household",
        "from_stage",
        "to_stage",
        "effective_on",
        "at",
        "reason_shown",
        "evidence_shown",
        "district",
        "program",
    ]
    fields = tuple(readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Decided per request (the admin object is shared between requests and threads).
        shown = obj is not None and coca_allowed(request, obj.household)
        fields = list(self.readonly_fields)
        return [("evidence_with_coca" if f == "evidence_shown" and shown else f) for f in fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("reason"), ordering="reason")
    def reason_shown(self, obj: StageChange) -> str:
        """The engine's reason in words."""
        return reason_label(obj.reason)

    @admin.display(description=_("evidence summary"))
    def evidence_shown(self, obj: StageChange) -> str:
        """The evidence in words, without coca figures."""
        return evidence_text(obj.evidence, show_coca=False)

    @admin.display(description=_("evidence summary"))
    def evidence_with_coca(self, obj: StageChange) -> str:
        """The evidence in words, coca figures included (coca:read in the area)."""
        return evidence_text(obj.evidence, show_coca=True)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)


class SweepRangeInline(LinkedInline):
    model = SweepRange
    fields = ["lo", "hi", "status", "households", "changes", "finished_at"]
    show_change_link = False


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    """Progress of the nightly transition sweeps (read-only)."""

    list_display = [
        "today",
        "status",
        "progress_display",
        "ranges_done",
        "ranges_total",
        "households",
        "changes",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    readonly_fields = [
        "today",
        "status",
        "progress_display",
        "ranges_total",
        "ranges_done",
        "households",
        "changes",
        "started_at",
        "finished_at",
    ]
    inlines = [SweepRangeInline]

    @admin.display(description=_("progress"))
    def progress_display(self, obj: SweepRun) -> str:
        return f"{obj.progress} %"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)
