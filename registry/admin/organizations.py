"""Admin for organizations and programmes: versioned; areas and thresholds by the policies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .. import policies
from ..actors import Actor
from ..choices import Crop
from ..models import (
    FundingAgreement,
    Organization,
    Program,
)
from ..services import (
    organization_areas_set,
)
from .base import (
    ProgrammeSettingsAdmin,
    VersionedAdmin,
    VersionedForm,
    autocomplete_source,
    request_actor,
)

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


class ProgramForm(VersionedForm):
    """A programme; its licit-crop list as labelled checkboxes (stored as crop codes)."""

    licit_crops = forms.TypedMultipleChoiceField(
        label=_("licit crops"),
        choices=Crop.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=Program._meta.get_field("licit_crops").help_text,
    )

    class Meta:
        model = Program
        fields = "__all__"


@admin.register(Program)
class ProgramAdmin(ProgrammeSettingsAdmin, VersionedAdmin):
    form = ProgramForm
    list_display = ["code", "name", "agency", "funder", "budget_pen", "is_active"]
    list_filter = [
        "is_active",
        ("agency", admin.RelatedOnlyFieldListFilter),
        ("funder", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["agency", "funder"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["agency", "funder"]
    readonly_fields = ["version", "created_at", "updated_at", "iati_files"]
    # Years offered for download on the programme page (the running one and the ones before).
    iati_years = 5
    # What programme staff of the agency may change; the rest is the administrators'.
    threshold_fields = [
        "coca_free_max_age_months",
        "licit_min_ha",
        "market_window_months",
        "graduation_coca_free_months",
        "graduation_income_pen",
        "relapses_before_exclusion",
        "visit_due_months",
        "graduation_requires_tenure",
        "visit_photo_required",
        "licit_crops",
        "dsr_access_days",
        "dsr_other_days",
        "dsr_warn_days",
    ]

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=policies.visible_programs(actor).values("pk"))

    def may_add(self, actor: Actor) -> bool:
        return policies.can_administer_organizations(actor)

    def may_change(self, actor: Actor, obj: Any) -> bool:
        return policies.can_govern_program(actor, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The IATI files box only for those who may read them (rule 9 of the policies)."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not policies.can_read_program_report(request_actor(request), obj):
            return [box for box in fieldsets if "iati_files" not in box[1]["fields"]]
        return fieldsets

    @admin.display(description=_("IATI files"))
    def iati_files(self, obj: Program) -> str:
        """Links to the programme's IATI file (``reports/iati/``) for the last years."""
        if obj.pk is None:
            return "—"
        this_year = timezone.localdate().year
        first = max(this_year - self.iati_years + 1, obj.starts_on.year if obj.starts_on else 0)
        url = reverse("api-v1:reports-iati")
        links = format_html_join(
            " · ",
            '<a href="{}" download>{}</a>',
            (
                (f"{url}?{urlencode({'program': obj.code, 'year': str(year)})}", year)
                for year in range(this_year, first - 1, -1)
            ),
        )
        return format_html(
            '{} <div class="help">{}</div>',
            links,
            _("IATI 2.03 XML (iati-activities): aggregates only, for the programme's funders."),
        )

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
                    "iati_identifier",
                    "is_active",
                ]
            },
        ),
        (_("IATI"), {"fields": ["iati_files"]}),
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
                    "graduation_requires_tenure",
                    "visit_photo_required",
                    "licit_crops",
                ]
            },
        ),
        (
            _("Data-subject requests (Law 29733)"),
            {"fields": ["dsr_access_days", "dsr_other_days", "dsr_warn_days"]},
        ),
        (_("Record"), {"fields": ["version", "created_at", "updated_at", "edited_version"]}),
    ]


@admin.register(FundingAgreement)
class FundingAgreementAdmin(ProgrammeSettingsAdmin, VersionedAdmin):
    """Funding agreements: a funder's commitment to a programme, its period and budget. Platform
    administrators create them; programme staff see those of their programmes."""

    list_display = ["code", "name", "funder", "program", "starts_on", "ends_on", "budget_amount"]
    list_filter = [
        "is_active",
        "currency",
        ("funder", admin.RelatedOnlyFieldListFilter),
        ("program", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["funder", "program"]
    search_fields = ["code", "name", "funder__code", "program__code"]
    autocomplete_fields = ["funder", "program"]
    readonly_fields = ["version", "created_at", "updated_at"]
    fields = [
        "code",
        "name",
        "funder",
        "program",
        "starts_on",
        "ends_on",
        "budget_amount",
        "currency",
        "is_active",
        "version",
        "created_at",
        "updated_at",
        "edited_version",
    ]

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(program__in=policies.visible_programs(actor).values("pk"))

    def may_add(self, actor: Actor) -> bool:
        return policies.can_administer_organizations(actor)

    def may_change(self, actor: Actor, obj: Any) -> bool:
        return policies.can_administer_organizations(actor)
