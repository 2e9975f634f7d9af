"""Exports in the admin: the "Export as XLSX / CSV" actions of every exportable changelist
(``ExportActionsMixin``: its filters, search and selection honoured; up to
``EXPORT_INLINE_MAX_ROWS`` rows downloaded at once, more as a background job) and the history
of the person's exports, each with its progress bar, cancel button and download link (signed,
expiring, for the starter only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import exporting, jobs
from ..api.exports import CONTENT_TYPES, export_file_response
from ..models import ExportFormat, ExportJob, JobStatus
from .base import ReadOnlyAdmin, request_actor


class ExportActionsMixin:
    """For the ``ModelAdmin`` of an exportable list (``registry.exporting``): two actions that
    export the changelist's rows (its filters and search; the ticked rows, or all of them with
    "select all") as the person's API list shows them (scope and masking)."""

    model: Any

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)  # type: ignore[misc]
        if exporting.resource_for_model(self.model) is not None:
            for name, label in (
                ("export_xlsx", gettext_lazy("Export as XLSX (Excel)")),
                ("export_csv", gettext_lazy("Export as CSV")),
            ):
                actions[name] = (type(self)._export_action(name), name, label)
        return actions

    @staticmethod
    def _export_action(name: str) -> Any:
        file_format = ExportFormat.XLSX if name == "export_xlsx" else ExportFormat.CSV

        def run(
            model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]
        ) -> HttpResponse | FileResponse | None:
            return export_changelist(model_admin, request, queryset, file_format)

        return run


def export_changelist(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[Any], file_format: str
) -> HttpResponse | FileResponse:
    """The action: a file at once for a small export, a background job for a large one."""
    export = exporting.resource_for_model(model_admin.model)
    assert export is not None
    actor = request_actor(request)
    limit = settings.EXPORT_INLINE_MAX_ROWS
    if queryset.order_by()[: limit + 1].count() <= limit:
        pages = exporting.list_pages(export, actor, filters={}, within=queryset)
        _rows, handle = exporting.write_all(export, file_format, pages)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=exporting.filename(export, file_format),
            content_type=CONTENT_TYPES[file_format],
        )
    select_across = request.POST.get("select_across") == "1"
    job = exporting.export_start(
        actor=actor,
        export=export,
        file_format=file_format,
        from_admin=True,
        admin_query=request.GET.urlencode(),
        selected=[] if select_across else request.POST.getlist(ACTION_CHECKBOX_NAME),
    )
    messages.info(
        request,
        _("More than %(n)s rows: the export runs in the background; its page shows its progress.")
        % {"n": limit},
    )
    return redirect("admin:registry_exportjob_change", job.pk)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """The person's exports, newest first: progress, cancel and download (a superuser sees
    every export)."""

    list_display = ["created_at", "resource_shown", "format", "status", "rows", "download"]
    list_filter = ["status", "format"]
    fields = (
        "resource_shown",
        "format",
        "status",
        "rows",
        "created_by",
        "created_by_key",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields
    change_form_template = "admin/registry/exportjob/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExportJob]:
        return exporting.jobs_of(request_actor(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff) and (
            obj is None or exporting.may_manage(request_actor(request), obj)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    @admin.display(description=gettext_lazy("list"))
    def resource_shown(self, job: ExportJob) -> str:
        return exporting.resource_label(job.resource)

    @admin.display(description=gettext_lazy("rows"))
    def rows(self, job: ExportJob) -> str:
        return f"{job.done} / {job.total}"

    @admin.display(description=gettext_lazy("file"))
    def download(self, job: ExportJob) -> str:
        if job.status != JobStatus.SUCCEEDED or not job.file:
            return "—"
        return format_html('<a href="{}">{}</a>', download_url(job), _("Download"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:object_id>/progress/",
                view(self.progress_view),
                name="registry_exportjob_progress",
            ),
            path(
                "<uuid:object_id>/cancel/", view(self.cancel_view), name="registry_exportjob_cancel"
            ),
            path(
                "<uuid:object_id>/download/",
                view(self.download_view),
                name="registry_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, object_id: Any) -> ExportJob:
        job = self.get_queryset(request).filter(pk=object_id).first()
        if job is None:
            raise Http404(_("No such export."))
        return job

    def progress_view(self, request: HttpRequest, object_id: Any) -> JsonResponse:
        """The job's progress as JSON (polled by the progress bar)."""
        return JsonResponse(jobs.progress(self._job(request, object_id)))

    def cancel_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Cancel the job (POST), back to its page."""
        job = self._job(request, object_id)
        if request.method == "POST":
            if exporting.export_cancel(actor=request_actor(request), job=job):
                messages.success(request, _("The export will stop."))
            else:
                messages.warning(request, _("The export had already finished."))
        return redirect("admin:registry_exportjob_change", job.pk)

    def download_view(self, request: HttpRequest, object_id: Any) -> HttpResponse | FileResponse:
        """The file, with a valid unexpired token of the person's own export (403 otherwise)."""
        job = self._job(request, object_id)
        if not exporting.download_allowed(
            request_actor(request), job, request.GET.get("token", "")
        ):
            return HttpResponse(_("This download link is invalid or has expired."), status=403)
        return export_file_response(job)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self._job(request, object_id)
        context = dict(extra_context or {})
        context.update(
            job_progress=jobs.progress(job),
            status_url=reverse("admin:registry_exportjob_progress", args=[job.pk]),
            cancel_url=reverse("admin:registry_exportjob_cancel", args=[job.pk])
            if not job.is_finished
            else "",
            download_url=download_url(job)
            if job.status == JobStatus.SUCCEEDED and job.file
            else "",
            link_minutes=settings.EXPORT_LINK_MAX_AGE // 60,
        )
        return super().change_view(request, object_id, form_url, context)


def download_url(job: ExportJob) -> str:
    """The admin download link of ``job`` (signed; it expires)."""
    path_ = reverse("admin:registry_exportjob_download", args=[job.pk])
    return f"{path_}?token={exporting.download_token(job)}"
