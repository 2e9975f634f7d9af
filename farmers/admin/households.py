"""Households in the admin: the scoped changelist, edits through the service, approval, CSV
export (pseudonymised where the family's consent does not cover the person: ``farmers.consent``),
consent changes (a new version: withdrawal or narrowing), history and the CSV / XLSX import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from registry.admin import KeysFirstPaginator, request_actor
from registry.admin.exports import ExportActionsMixin
from registry.exceptions import RegistryError

from .. import importing, policies, services
from ..choices import ConsentPurpose, HouseholdStatus
from ..models import (
    Household,
)
from . import imports, review, story
from .base import MASK, ScopedAdminMixin
from .inlines import (
    AgreementInline,
    ConsentInline,
    CropInstallationInline,
    MemberInline,
    PlotInline,
    StageChangeInline,
    SupportInline,
    VerificationInline,
)


class HouseholdActionForm(ActionForm):
    """The action bar: what a new consent keeps (for "Record a new consent")."""

    purposes = forms.MultipleChoiceField(
        label=_("consent purposes kept"),
        choices=ConsentPurpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_reason = forms.CharField(label=_("why the consent changes"), required=False)


@admin.register(Household)
class HouseholdAdmin(ExportActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "head_name",
        "district",
        "program",
        "status",
        "shown_stage",
        "created_at",
    ]
    list_filter = ["status", "stage", "program"]
    list_select_related = ["district", "program"]
    search_fields = ["=code", "head_name_search__startswith"]
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ["district"]
    readonly_fields = [
        "code",
        "program",
        "status",
        "stage",
        "stage_since",
        "milestones_shown",
        "head_name",
        "merged_into",
        "rejection_reason",
        "created_by",
        "created_by_key",
        "reviewed_by",
        "reviewed_at",
        "version",
        "created_at",
        "updated_at",
    ]
    fields = ["code", "program", "district", "community", *readonly_fields[2:]]
    # Pages by key first: a search walks the covering ``hh_created_idx``, not the table.
    paginator = KeysFirstPaginator

    def save_model(self, request: HttpRequest, obj: Household, form: Any, change: bool) -> None:
        """Edits go through the service: area check, version, history."""
        data = {"community": obj.community, "district": obj.district_id}
        saved = services.household_update(
            actor=request_actor(request),
            household=obj,
            data={k: v for k, v in data.items() if k in form.changed_data},
            expected_version=None,
            channel="admin",
        )
        obj.version = saved.version

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Inlines are read-only: nothing else to save."""

    inlines = [
        MemberInline,
        ConsentInline,
        PlotInline,
        CropInstallationInline,
        AgreementInline,
        VerificationInline,
        SupportInline,
        StageChangeInline,
    ]
    actions = ["approve", "reject", "record_consent"]
    action_form = HouseholdActionForm
    change_form_template = "admin/farmers/household/change_form.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The household's whole story: fields, inlines, then the map, tracks, title files,
        contracts, alerts and history (``farmers.admin.story``)."""
        household = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if household is not None:
            context.update(story.household_story(request, household))
        return super().change_view(request, object_id, form_url, context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registration goes through the API, the pages or the import

    # --- the stage is coca data (``policies.stage_visible``) ---------------------------------

    STAGE_FIELDS = ("stage", "stage_since", "milestones_shown")

    @admin.display(description=_("milestones"))
    def milestones_shown(self, obj: Household) -> str:
        """Each stage criterion met, with its day, in words (never the engine's JSON)."""
        rows = story.milestone_rows(obj.milestones)
        return "; ".join(f"{label}: {on}" for label, on in rows) or "—"

    @admin.display(description=_("stage"), ordering="stage")
    def shown_stage(self, obj: Household) -> str:
        """The stage where the person may see it (``stage_shown``, annotated by
        ``get_queryset``), masked elsewhere."""
        return obj.get_stage_display() if getattr(obj, "stage_shown", False) else MASK

    # The dashboard's links (``farmers.reporting.dashboard.Links``): the households behind a
    # figure, by area, funding source, period, rung, tenure, relapses and support.
    DASHBOARD_LOOKUPS = frozenset(
        {
            "district__exact",
            "district__department__exact",
            "district__province__exact",
            "district__is_vraem__exact",
            "program__funder__exact",
            "created_at__date__gte",
            "created_at__date__lte",
            "stage__in",
            "milestones__has_key",
            "stage_changes__to_stage",
            "stage_changes__effective_on__gte",
            "stage_changes__effective_on__lte",
            "support__given_on__gte",
            "support__given_on__lte",
            "support__funding_source__code",
        }
    )

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in self.DASHBOARD_LOOKUPS or super().lookup_allowed(lookup, value, request)

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if not policies.may_see_stages(request_actor(request)):
            filters.remove("stage")
        return filters

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        actor = request_actor(request)
        visible = policies.stage_q(actor)
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                stage_shown=Value(True)
                if actor.unrestricted
                else Case(When(visible, then=Value(True)), default=Value(False))
            )
        )
        if any(key.startswith("stage") for key in request.GET):
            # Filtering by stage shows only the stages the person may see.
            queryset = queryset.filter(visible)
        return queryset

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is not None and not policies.stage_visible(request_actor(request), obj):
            fields = [f for f in fields if f not in self.STAGE_FIELDS]
        return fields

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        inlines = list(super().get_inlines(request, obj))
        if obj is None or not policies.stage_visible(request_actor(request), obj):
            inlines.remove(StageChangeInline)
        return inlines

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> Any:
        from ..filters import HouseholdFilterSet

        if not search_term:
            return queryset, False
        return HouseholdFilterSet().search(queryset, "q", search_term), False

    @admin.action(description=_("Approve selected registrations"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Household]) -> None:
        actor = request_actor(request)
        done, refused = 0, []
        for household in queryset.filter(status=HouseholdStatus.PENDING_REVIEW)[:500]:
            try:
                services.household_transition(
                    actor=actor, household=household, to=HouseholdStatus.ACTIVE, channel="admin"
                )
                done += 1
            except RegistryError as exc:
                refused.append(f"{household.code}: {exc.detail}")
            except ValidationError as exc:  # e.g. no consent on record
                refused.append(f"{household.code}: {' '.join(exc.messages)}")
        if done:
            messages.success(request, _("%(n)s households approved.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)

    @admin.action(description=_("Reject selected registrations (with a reason)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Household]) -> HttpResponse | None:
        """Asks for the reason first, then rejects each pending registration through the
        workflow (maker–checker and area as for an approval)."""
        return review.reject_many(self, request, queryset)

    @admin.action(description=_("Record a new consent (the purposes ticked; none: withdrawn)"))
    def record_consent(self, request: HttpRequest, queryset: QuerySet[Household]) -> None:
        """A new consent version for each selected household (``services.consent_record``):
        the purposes ticked in the action bar, and why. It takes effect at once everywhere."""
        actor = request_actor(request)
        for household in queryset[:100]:
            try:
                services.consent_record(
                    actor=actor,
                    household=household,
                    purposes=request.POST.getlist("purposes"),
                    reason=request.POST.get("consent_reason", ""),
                    channel="admin",
                )
            except RegistryError as exc:
                messages.warning(request, f"{household.code}: {exc.detail}")
            except ValidationError as exc:
                messages.warning(request, f"{household.code}: {' '.join(exc.messages)}")
            else:
                messages.success(
                    request, _("%(code)s: consent recorded.") % {"code": household.code}
                )

    # --- import (CSV / XLSX upload) ---------------------------------------------------------

    change_list_template = "admin/farmers/household/change_list.html"
    import_template = "admin/farmers/household/import.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="farmers_household_import"),
            *[
                path(f"import/<uuid:job_id>/{suffix}", view(method), name=name)
                for suffix, method, name in (
                    ("", self.import_job_view, "farmers_household_import_job"),
                    ("status/", self.import_status_view, "farmers_household_import_status"),
                    ("confirm/", self.import_confirm_view, "farmers_household_import_confirm"),
                    ("cancel/", self.import_cancel_view, "farmers_household_import_cancel"),
                    ("errors.xlsx", self.import_errors_view, "farmers_household_import_errors"),
                )
            ],
            path(
                "<uuid:object_id>/review/",
                view(self.review_view),
                name="farmers_household_review",
            ),
            path(
                "import/template.<str:fmt>",
                view(self.import_template_view),
                name="farmers_household_import_template",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Approve or reject one registration from its page (``farmers.admin.review``)."""
        return review.review_one(self, request, object_id)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a household file: it becomes an import job, checked in the background."""
        return imports.upload_view(self, request)

    def import_job_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        """An import job's page: progress, report, confirm and cancel."""
        return imports.job_view(self, request, job_id)

    def import_status_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        return imports.status_view(self, request, job_id)

    def import_confirm_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        return imports.confirm_view(self, request, job_id)

    def import_cancel_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        return imports.cancel_view(self, request, job_id)

    def import_errors_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        return imports.errors_view(self, request, job_id)

    def import_template_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The import template (header and two example rows) as .xlsx or .csv."""
        if not request.user.has_perm("farmers.add_household"):
            raise AdminPermissionDenied
        if fmt not in importing.TEMPLATE_FORMATS:
            raise Http404
        response = HttpResponse(
            importing.template_bytes(fmt), content_type=importing.TEMPLATE_FORMATS[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="plantilla_hogares.{fmt}"'
        return response
