"""Admin for programme staff: households with inlines, review and duplicate queues, CSV export.

Changelists stay fast on a million households: no full counts, filters on indexed columns,
joins declared up front, and every queryset narrowed to the person's area.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from registry.admin import CappedCountPaginator, request_actor
from registry.admin_site import AdminPage
from registry.admin_toolkit import ReadOnlyInline, stream_csv
from registry.choices import Scope
from registry.exceptions import RegistryError
from registry.models import ChangeRecord

from . import importing, services
from .choices import DuplicateStatus, HouseholdStatus, VerificationStatus
from .dashboard import dashboard_context
from .models import (
    Agreement,
    Consent,
    Household,
    Member,
    Plot,
    PossibleDuplicate,
    StageChange,
    Support,
    SweepRange,
    SweepRun,
    Verification,
)

MASK = "•••"


def coca_allowed(request: HttpRequest, household: Household) -> bool:
    """Whether the person may read coca data of ``household`` (coca:read in its area)."""
    return request_actor(request).covers(
        district=household.district_id, program=household.program_id, scope=Scope.COCA_READ
    )


class ScopedAdminMixin:
    """Narrows every changelist and change view to the person's area (the same ``area_q`` the
    API uses); ``household_prefix`` points at the household from this model."""

    household_prefix = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        actor = request_actor(request)
        return queryset.filter(
            actor.area_q(
                district_path=f"{self.household_prefix}district_id",
                program_path=f"{self.household_prefix}program_id",
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LinkedInline(ReadOnlyInline):
    """A read-only inline whose rows link to their own change page."""

    show_change_link = True


class MemberInline(LinkedInline):
    model = Member
    fields = [
        "given_names",
        "surnames",
        "document_type",
        "document_number",
        "sex",
        "birth_date",
        "relationship",
        "phone",
        "is_head",
        "is_active",
    ]


class PlotInline(LinkedInline):
    model = Plot
    fields = ["name", "tenure", "area_ha", "crops", "is_active"]


class CocaInlineMixin:
    """Inline instances are made per request: the parent household decides coca visibility."""

    coca_shown = False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self.coca_shown = obj is not None and coca_allowed(request, obj)
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]


class AgreementInline(CocaInlineMixin, LinkedInline):
    model = Agreement
    fields = ["signed_on", "coca_committed", "is_active"]

    @admin.display(description=_("coca committed (ha)"))
    def coca_committed(self, obj: Agreement) -> str:
        return str(obj.coca_ha_committed) if self.coca_shown else MASK


class VerificationInline(CocaInlineMixin, LinkedInline):
    model = Verification
    fields = ["visited_on", "method", "coca", "status", "officer"]

    @admin.display(description=_("coca observed (ha)"))
    def coca(self, obj: Verification) -> str:
        return str(obj.coca_ha) if self.coca_shown else MASK


class SupportInline(LinkedInline):
    model = Support
    fields = ["given_on", "kind", "cost_pen", "funding_source"]


class StageChangeInline(LinkedInline):
    """The household's stage history (the transition ledger), oldest first."""

    model = StageChange
    fields = ["effective_on", "from_stage", "to_stage", "reason", "at"]
    ordering = ["id"]
    show_change_link = False
    verbose_name_plural = _("stage history")


class ConsentInline(LinkedInline):
    model = Consent
    fields = ["signed_on", "purposes", "notice_version", "language", "officer"]


HOUSEHOLD_CSV = [
    "code",
    "program",
    "district",
    "community",
    "status",
    "stage",
    "stage_since",
    "head_name",
    "created_at",
]


def _export_csv(queryset: QuerySet[Household]) -> StreamingHttpResponse:
    rows = (
        [
            h.code,
            h.program.code,
            h.district_id,
            h.community,
            h.status,
            h.stage,
            h.stage_since,
            h.head_name,
            h.created_at.isoformat(),
        ]
        for h in queryset.select_related("program").order_by("created_at").iterator(chunk_size=2000)
    )
    return stream_csv(HOUSEHOLD_CSV, rows, "hogares.csv")


IMPORT_REPORT_ROWS = 500


class HouseholdImportForm(forms.Form):
    """A household file to import; checked without saving unless the box is cleared."""

    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    dry_run = forms.BooleanField(
        label=_("Dry run: check every row without saving"), required=False, initial=True
    )


@admin.register(Household)
class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "head_name", "district", "program", "status", "stage", "created_at"]
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
        "milestones",
        "head_name",
        "merged_into",
        "rejection_reason",
        "registered_by",
        "registered_by_key",
        "reviewed_by",
        "reviewed_at",
        "version",
        "created_at",
        "updated_at",
    ]
    fields = ["code", "program", "district", "community", *readonly_fields[2:]]
    paginator = CappedCountPaginator

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
        AgreementInline,
        VerificationInline,
        SupportInline,
        StageChangeInline,
    ]
    actions = ["approve", "export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registration goes through the API, the pages or the import

    @admin.display(description=_("history"))
    def history(self, obj: Household) -> str:
        """Every change of the household and of its plots, agreements and visits."""
        ids = [str(obj.pk)]
        ids += [str(pk) for pk in obj.plots.values_list("pk", flat=True)]
        ids += [str(pk) for pk in obj.agreements.values_list("pk", flat=True)]
        ids += [str(pk) for pk in obj.verifications.values_list("pk", flat=True)]
        records = (
            ChangeRecord.objects.filter(object_id__in=ids)
            .select_related("content_type", "actor_user", "actor_api_key")
            .order_by("-at")[:100]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    localtime(r.at).strftime("%Y-%m-%d %H:%M"),
                    r.content_type.name,
                    r.get_action_display(),
                    r.actor_user or r.actor_api_key or "—",
                    r.channel,
                    json.dumps(r.changes, ensure_ascii=False, default=str)[:300],
                )
                for r in records
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("when"),
            _("record"),
            _("action"),
            _("who"),
            _("channel"),
            _("changes"),
            rows,
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> Any:
        from .filters import HouseholdFilterSet

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
        if done:
            messages.success(request, _("%(n)s households approved.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)

    @admin.action(description=_("Export selected households as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Household]
    ) -> StreamingHttpResponse:
        return _export_csv(queryset)

    # --- import (CSV / XLSX upload) ---------------------------------------------------------

    change_list_template = "admin/farmers/household/change_list.html"
    import_template = "admin/farmers/household/import.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="farmers_household_import"),
            path(
                "import/template.<str:fmt>",
                view(self.import_template_view),
                name="farmers_household_import_template",
            ),
            *super().get_urls(),
        ]

    def _check_import_permission(self, request: HttpRequest) -> None:
        if not request.user.has_perm("farmers.add_household"):
            raise AdminPermissionDenied

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload households (one row per member): a dry run or the import, with its report."""
        self._check_import_permission(request)
        report = None
        if request.method == "POST":
            form = HouseholdImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    report = importing.import_households(
                        actor=request_actor(request),
                        source=upload,
                        filename=upload.name or "",
                        dry_run=form.cleaned_data["dry_run"],
                    )
                except ValidationError as exc:
                    form.add_error("file", exc)
                except RegistryError as exc:
                    form.add_error(None, exc.detail)
        else:
            form = HouseholdImportForm()
        if report is not None and not report.dry_run and report.households_created:
            messages.success(
                request, _("%(n)s households imported.") % {"n": report.households_created}
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import households"),
            "form": form,
            "report": report,
            "report_rows": report.rows[:IMPORT_REPORT_ROWS] if report is not None else [],
            "report_rows_shown": IMPORT_REPORT_ROWS,
            "columns": importing.COLUMNS,
            "max_rows": importing.MAX_ROWS,
            "max_megabytes": importing.MAX_BYTES // (1024 * 1024),
        }
        return TemplateResponse(request, self.import_template, context)

    def import_template_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The import template (header and two example rows) as .xlsx or .csv."""
        self._check_import_permission(request)
        if fmt not in importing.TEMPLATE_FORMATS:
            raise Http404
        response = HttpResponse(
            importing.template_bytes(fmt), content_type=importing.TEMPLATE_FORMATS[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="plantilla_hogares.{fmt}"'
        return response


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(admin.ModelAdmin):
    """The duplicate queue: dismiss a pair, or merge the newer household into the older one."""

    list_display = ["household", "candidate", "score", "reasons", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["household", "candidate"]
    show_full_result_count = False
    readonly_fields = [
        "household",
        "candidate",
        "score",
        "reasons",
        "status",
        "resolved_by",
        "resolved_at",
        "created_at",
    ]
    actions = ["dismiss", "merge"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PossibleDuplicate]:
        """Pairs whose two households are both in the person's area (the candidate may be
        another programme's family: its name is not shown to who may not see it)."""
        actor = request_actor(request)
        return (
            super()
            .get_queryset(request)
            .filter(
                actor.area_q(
                    district_path="household__district_id", program_path="household__program_id"
                )
            )
            .filter(
                actor.area_q(
                    district_path="candidate__district_id", program_path="candidate__program_id"
                )
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Not the same family: dismiss"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]) -> None:
        actor = request_actor(request)
        for row in queryset.filter(status=DuplicateStatus.OPEN):
            services.duplicate_dismiss(actor=actor, duplicate=row)
        messages.success(request, _("Dismissed."))

    @admin.action(
        description=_("Same family: merge the newer household into the older one"),
        permissions=["change"],
    )
    def merge(self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]) -> None:
        actor = request_actor(request)
        for row in queryset.filter(status=DuplicateStatus.OPEN).select_related(
            "household", "candidate"
        ):
            older, newer = sorted([row.household, row.candidate], key=lambda h: h.created_at)
            try:
                services.household_merge(actor=actor, source=newer, target=older)
                messages.success(
                    request,
                    _("%(new)s merged into %(old)s.") % {"new": newer.code, "old": older.code},
                )
            except RegistryError as exc:
                messages.warning(request, f"{row}: {exc.detail}")


@admin.register(Verification)
class VerificationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The visit review queue (maker–checker)."""

    household_prefix = "household__"
    list_display = ["household", "visited_on", "method", "status", "officer"]
    list_filter = ["status", "method"]
    list_select_related = ["household", "officer"]
    show_full_result_count = False
    exclude = ["coca_ha", "request_hash"]
    base_readonly_fields = [
        "household",
        "visited_on",
        "method",
        "licit_crops",
        "latitude",
        "longitude",
        "photo",
        "photo_sha256",
        "plots",
        "status",
        "officer",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]
    actions = ["confirm"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Decided per request (the admin object is shared between requests and threads).
        shown = obj is not None and coca_allowed(request, obj.household)
        return [*self.base_readonly_fields, "coca_observed" if shown else "coca_masked"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("coca observed (ha)"))
    def coca_observed(self, obj: Verification) -> str:
        return str(obj.coca_ha)

    @admin.display(description=_("coca observed (ha)"))
    def coca_masked(self, obj: Verification) -> str:
        return MASK

    @admin.action(description=_("Confirm selected visits"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[Verification]) -> None:
        actor = request_actor(request)
        for visit in queryset.filter(status=VerificationStatus.PENDING)[:500]:
            try:
                services.verification_transition(
                    actor=actor, verification=visit, to=VerificationStatus.CONFIRMED
                )
            except RegistryError as exc:
                messages.warning(request, f"{visit}: {exc.detail}")


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
        "geometry",
        "area_ha",
        "crops",
        "is_active",
        "version",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)


@admin.register(Support)
class SupportAdmin(ScopedAdminMixin, admin.ModelAdmin):  # the support ledger
    """What the programme gave each family; recorded through the service (with history)."""

    household_prefix = "household__"
    list_display = ["household", "kind", "cost_pen", "funding_source", "given_on"]
    list_filter = ["kind", "funding_source"]
    list_select_related = ["household", "funding_source"]
    show_full_result_count = False
    autocomplete_fields = ["household", "funding_source"]
    fields = ["household", "kind", "description", "cost_pen", "funding_source", "given_on"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Support, form: Any, change: bool) -> None:
        saved = services.support_record(
            actor=request_actor(request),
            household=obj.household_id,
            kind=obj.kind,
            cost_pen=obj.cost_pen,
            given_on=obj.given_on,
            funding_source=obj.funding_source.code if obj.funding_source else None,
            description=obj.description,
            channel="admin",
        )
        obj.pk = saved.pk


# --- the programme-staff dashboard -----------------------------------------------------------


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Stage funnel, stages over time, relapses, map, overdue items and cost per result for the
    person's area (needs ``indicators:read``: supervisors and programme staff)."""
    actor = request_actor(request)
    if not actor.has_scope(Scope.INDICATORS_READ):
        raise AdminPermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Programme dashboard"),
        **dashboard_context(actor=actor),
    }
    return TemplateResponse(request, "admin/farmers/dashboard.html", context)


def dashboard_allowed(request: HttpRequest) -> bool:
    """Whether the person may open the dashboard (its link on the admin index shows then)."""
    return request_actor(request).has_scope(Scope.INDICATORS_READ)


DASHBOARD_PAGE = AdminPage(
    route="dashboard/",
    name="dashboard",
    view=dashboard_view,
    index_template="admin/farmers/index_dashboard.html",
    index_flag="dashboard_allowed",
    allowed=dashboard_allowed,
)


@admin.register(StageChange)
class StageChangeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The transition ledger, read-only: every stage change with its reason and evidence."""

    list_display = ["id", "household", "from_stage", "to_stage", "reason", "effective_on", "at"]
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
        "reason",
        "evidence",
        "district",
        "program",
    ]

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
