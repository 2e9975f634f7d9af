"""Household imports in the admin: the upload page (a job is created and checked in the
background), the job's page (progress bar that survives a reload, the check's report with every
row's errors a page at a time, the errors as XLSX, confirm and cancel buttons) and the history
of jobs (``ImportJobAdmin``). The views are thin: ``farmers.services.imports`` does the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry import jobs
from registry.admin import ReadOnlyAdmin, request_actor
from registry.display import moment, number
from registry.exceptions import RegistryError

from .. import importing
from ..importing import pipeline
from ..importing.columns import SPANISH_HEADERS
from ..importing.errors import error_workbook
from ..models import ImportJob, ImportPhase
from ..services import imports

ISSUES_PER_PAGE = 100


class HouseholdImportForm(forms.Form):
    """A household file to check (the import itself is confirmed on the job's page)."""

    file = forms.FileField(label=_("File (.xlsx or .csv)"))


def _check_permission(request: HttpRequest) -> None:
    if not request.user.has_perm("farmers.add_household"):
        raise AdminPermissionDenied


def _job(request: HttpRequest, job_id: Any) -> ImportJob:
    job = imports.import_job_list(actor=request_actor(request)).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _job_url(job: ImportJob) -> str:
    return reverse("admin:farmers_household_import_job", args=[job.pk])


def upload_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The upload form; a valid file becomes a job and the browser goes to its page."""
    _check_permission(request)
    actor = request_actor(request)
    if request.method == "POST":
        form = HouseholdImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_create(
                    actor=actor, upload=upload, filename=upload.name or ""
                )
            except ValidationError as exc:
                form.add_error("file", exc.error_dict.get("file", exc.messages))
            except RegistryError as exc:
                form.add_error(None, exc.detail)
            else:
                return redirect(_job_url(job))
    else:
        form = HouseholdImportForm()
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": _("Import households"),
        "form": form,
        "columns": [(SPANISH_HEADERS[c.name], c) for c in importing.COLUMNS],
        "max_rows": number(pipeline.max_rows(), 0),
        "max_megabytes": pipeline.max_bytes() // (1024 * 1024),
        "recent": imports.import_job_list(actor=actor)[:10],
    }
    return TemplateResponse(request, model_admin.import_template, context)


def job_view(model_admin: Any, request: HttpRequest, job_id: Any) -> HttpResponse:
    """A job's page: progress while it runs, then its report (errors a page at a time)."""
    _check_permission(request)
    job = _job(request, job_id)
    paginator = Paginator(job.issues.order_by("row", "id"), ISSUES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    summary = job.summary or {}
    imported = summary.get("imported") or {}
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import of %(file)s") % {"file": job.filename},
        "job": job,
        "job_progress": jobs.progress(job),
        "status_url": reverse("admin:farmers_household_import_status", args=[job.pk]),
        "summary": summary,
        "imported": imported,
        "page": page,
        "issue_rows": [(issue, SPANISH_HEADERS.get(issue.column, issue.column)) for issue in page],
        "created_text": moment(job.created_at),
    }
    return TemplateResponse(request, "admin/farmers/household/import_job.html", context)


def status_view(model_admin: Any, request: HttpRequest, job_id: Any) -> HttpResponse:
    """The job's progress as JSON (polled by the progress bar)."""
    _check_permission(request)
    return JsonResponse(jobs.progress(_job(request, job_id)))


def confirm_view(model_admin: Any, request: HttpRequest, job_id: Any) -> HttpResponse:
    """Import the checked file (POST)."""
    _check_permission(request)
    job = _job(request, job_id)
    if request.method != "POST":
        return HttpResponseRedirect(_job_url(job))
    try:
        imports.import_job_confirm(actor=request_actor(request), job=job)
    except RegistryError as exc:
        messages.error(request, exc.detail)
    return HttpResponseRedirect(_job_url(job))


def cancel_view(model_admin: Any, request: HttpRequest, job_id: Any) -> HttpResponse:
    """Stop the job at its next chunk (POST)."""
    _check_permission(request)
    job = _job(request, job_id)
    if request.method == "POST":
        try:
            imports.import_job_cancel(actor=request_actor(request), job=job)
            messages.info(request, _("The import stops after the chunk in progress."))
        except RegistryError as exc:
            messages.error(request, exc.detail)
    return HttpResponseRedirect(_job_url(job))


def errors_view(model_admin: Any, request: HttpRequest, job_id: Any) -> HttpResponse:
    """The rows with errors as XLSX, the messages beside the cells."""
    _check_permission(request)
    job = _job(request, job_id)
    response = HttpResponse(error_workbook(job), content_type=importing.TEMPLATE_FORMATS["xlsx"])
    response["Content-Disposition"] = 'attachment; filename="errores_importacion.xlsx"'
    return response


class PhaseFilter(admin.SimpleListFilter):
    """The job's phase by its label ("checking the file", "importing"), never its code."""

    title = _("phase")
    parameter_name = "phase"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return ImportPhase.choices

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(phase=self.value()) if self.value() else queryset


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """The history of household imports (each opens its page)."""

    list_display = ["file_link", "created_by", "created_shown", "status", "phase_shown", "rows"]
    list_filter = ["status", PhaseFilter]
    list_select_related = ["created_by"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> Any:
        return imports.import_job_list(actor=request_actor(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("farmers.add_household"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return redirect(reverse("admin:farmers_household_import_job", args=[object_id]))

    @admin.display(description=_("file"), ordering="filename")
    def file_link(self, job: ImportJob) -> str:
        return format_html('<a href="{}">{}</a>', _job_url(job), job.filename)

    @admin.display(description=_("created at"), ordering="created_at")
    def created_shown(self, job: ImportJob) -> str:
        return moment(job.created_at)

    @admin.display(description=_("phase"), ordering="phase")
    def phase_shown(self, job: ImportJob) -> str:
        return job.phase_label

    @admin.display(description=_("rows"))
    def rows(self, job: ImportJob) -> str:
        return number(job.total, 0)
