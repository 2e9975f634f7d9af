"""``exports/``: a list as a file (issue 18 point 5). ``POST exports/`` with ``{"resource",
"format", "filters"}`` answers 202 with the job; ``GET exports/{id}/`` shows its status and
progress and, once finished, a download link that expires; ``GET exports/`` lists the
caller's exports (a key sees its organization's); ``POST exports/{id}/cancel/`` stops one.

The rows are those the caller's own list would answer with the same filters, scope and masking
included (``registry.exporting``); the filters are the list's query parameters, checked by its
FilterSet (an unknown one is a 400 ``unknown_filter`` on ``filters.<name>``).
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from registry import exporting, jobs
from registry.choices import Scope
from registry.exceptions import NotFound, PermissionDenied
from registry.models import ExportFormat, ExportJob

from .base import RegistryViewSet
from .fields import ChoiceField


class ExportCreateSerializer(serializers.Serializer[Any]):
    """What to export: a list, a file format and the list's filters."""

    resource = serializers.CharField(
        help_text=gettext_lazy(
            "The list: households, title_files, contracts, deliveries, visits or alerts."
        )
    )
    format = ChoiceField(choices=ExportFormat.choices, default=ExportFormat.XLSX)
    filters = serializers.JSONField(
        required=False,
        default=dict,
        help_text=gettext_lazy(
            'The list\'s query parameters (e.g. {"status": "active"}): a value or a list '
            "of values each. An unknown name is refused."
        ),
    )

    def validate_resource(self, value: str) -> exporting.ExportResource:
        try:
            return exporting.resource(value)
        except KeyError:
            names = ", ".join(r.name for r in exporting.resources())
            raise serializers.ValidationError(
                _("Unknown list: choose one of %(names)s.") % {"names": names},
                code="invalid_choice",
            ) from None


class ExportJobSerializer(serializers.ModelSerializer[ExportJob]):
    """An export: what was asked, where the job stands (``progress``: rows done of total,
    percentage, rate, time left) and, once it has succeeded, a link that expires."""

    status_label = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    progress = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    download_expires_at = serializers.SerializerMethodField()

    # On the lean list path (``registry.api.lean``): the columns each computed field reads of a
    # row (``percent`` the model's property, the others the methods below).
    lean_reads = {
        "status_label": ("status",),
        "percent": ("status", "done", "total"),
        "progress": jobs.PROGRESS_COLUMNS,
        "download_url": ("status", "file"),
        "download_expires_at": ("status", "file"),
    }

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "resource",
            "format",
            "filters",
            "status",
            "status_label",
            "done",
            "total",
            "percent",
            "progress",
            "cancel_requested",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
            "download_expires_at",
        ]
        read_only_fields = fields

    def get_status_label(self, job: ExportJob) -> str:
        return str(job.get_status_display())

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, job: ExportJob) -> dict[str, Any]:
        return jobs.progress(job)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, job: ExportJob) -> str | None:
        request = self.context.get("request")
        if job.status != "succeeded" or not job.file or request is None:
            return None
        path = reverse("api-v1:export-download", args=[job.pk])
        token = exporting.download_token(job)
        return str(request.build_absolute_uri(f"{path}?token={token}"))

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_download_expires_at(self, job: ExportJob) -> str | None:
        if job.status != "succeeded" or not job.file:
            return None
        return exporting.download_link_expires().isoformat()


class ExportJobViewSet(RegistryViewSet):
    """Exports of lists as XLSX or CSV files, run in the background, downloaded by a link that
    expires."""

    # Starting an export is a read: the list's own read scope is checked on ``resource``.
    read_scope = Scope.REFERENCE_READ
    write_scope = Scope.REFERENCE_READ
    serializer_class = ExportJobSerializer
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return exporting.jobs_of(self.actor)

    def get_object(self) -> ExportJob:
        job = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if job is None:
            raise NotFound(_("No such export."))
        return job

    @extend_schema(request=ExportCreateSerializer, responses={202: ExportJobSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(ExportCreateSerializer)
        export: exporting.ExportResource = data["resource"]
        filters = exporting.validate_filters(export, self.actor, data.get("filters") or {})
        job = exporting.export_start(
            actor=self.actor, export=export, file_format=data["format"], filters=filters
        )
        job.refresh_from_db()  # run at once on the embedded default
        body = self.get_serializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: ExportJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Stop the export at its next page (a queued one at once); no effect once finished."""
        job = self.get_object()
        exporting.export_cancel(actor=self.actor, job=job)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        """The export's file, with the ``token`` of its ``download_url`` (which expires)."""
        job = self.get_object()
        if not exporting.download_allowed(self.actor, job, request.query_params.get("token", "")):
            raise PermissionDenied(
                _("This download link is invalid or has expired: ask the export again."),
                code="download_link_expired",
            )
        return export_file_response(job)


CONTENT_TYPES: dict[str, str] = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


def export_file_response(job: ExportJob) -> FileResponse:
    """The stored file of ``job`` as an attachment, never cached by a shared cache."""
    name = job.file.name.rsplit("/", 1)[-1]
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=CONTENT_TYPES.get(job.format, "application/octet-stream"),
    )
    response["Cache-Control"] = "private, no-store"
    return response
