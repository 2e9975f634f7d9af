"""Household imports through the API: the same background jobs as the admin's upload page.

``POST imports/`` (multipart ``file``) → 202 with the job, checked in the background; ``GET
imports/{id}/`` its status, progress and totals; ``GET imports/{id}/errors/`` every row's errors
(paginated); ``POST imports/{id}/confirm/`` imports it (no new upload); ``POST
imports/{id}/cancel/`` stops it. The scope is household registration's (``households:write``);
a key sees the jobs of its organization's keys.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry import jobs
from registry.api.base import RegistryViewSet
from registry.api.pagination import CursorPagination
from registry.choices import Scope

from ..models import ImportIssue, ImportJob
from ..services import imports


class ImportUploadSerializer(serializers.Serializer[Any]):
    """The household file to import (.csv or .xlsx; the template's columns)."""

    file = serializers.FileField()


class ImportJobSerializer(serializers.ModelSerializer[ImportJob]):
    """An import job: where it is, its progress and the totals of its check or import."""

    status_label = serializers.SerializerMethodField()
    phase_label = serializers.CharField(read_only=True)
    awaiting_confirmation = serializers.BooleanField(read_only=True)
    progress = serializers.SerializerMethodField()

    # On the lean list path (``registry.api.lean``): the columns each computed field reads of a
    # row (``phase_label`` and ``awaiting_confirmation`` the model's properties).
    lean_reads = {
        "status_label": ("status",),
        "phase_label": ("phase",),
        "awaiting_confirmation": ("phase", "status", "confirmed_at"),
        "progress": jobs.PROGRESS_COLUMNS,
    }

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "status",
            "status_label",
            "phase",
            "phase_label",
            "awaiting_confirmation",
            "progress",
            "summary",
            "created_at",
            "confirmed_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_status_label(self, job: ImportJob) -> str:
        return str(job.get_status_display())

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        return jobs.progress(job)


class ImportIssueSerializer(serializers.ModelSerializer[ImportIssue]):
    """One error of one row of the file (``column`` empty: the whole row)."""

    class Meta:
        model = ImportIssue
        fields = ["id", "row", "household_ref", "column", "code", "message"]
        read_only_fields = fields


class RowOrderPagination(CursorPagination):
    """A job's errors in the file's row order."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ("row", "id")


class ImportJobViewSet(RegistryViewSet):
    """Household imports as background jobs: upload, check, confirm, cancel."""

    read_scope = Scope.HOUSEHOLDS_WRITE
    write_scope = Scope.HOUSEHOLDS_WRITE
    http_method_names = ["get", "post", "head", "options"]
    serializer_class = ImportJobSerializer
    ordering = ("created_at", "id")
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        return imports.import_job_list(actor=self.actor)

    def get_object(self) -> ImportJob:
        job = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if job is None:
            raise Http404
        return job

    def get_serializer_class(self) -> Any:
        if self.action == "errors":
            return ImportIssueSerializer
        if self.action == "create":
            return ImportUploadSerializer
        return ImportJobSerializer

    def _accepted(self, job: ImportJob) -> Response:
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer},
    )
    def create(self, request: Request) -> Response:
        """Upload a household file: 202 with the job, checked in the background (a dry run)."""
        upload = self.validated(ImportUploadSerializer)["file"]
        job = imports.import_job_create(actor=self.actor, upload=upload, filename=upload.name)
        job.refresh_from_db()
        return self._accepted(job)

    def retrieve(self, request: Request, pk: str) -> Response:
        """The job: status, progress, totals of the check (or of the import)."""
        return Response(ImportJobSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        """Import the checked file (no new upload): 202, then written in chunks."""
        job = imports.import_job_confirm(actor=self.actor, job=self.get_object())
        job.refresh_from_db()
        return self._accepted(job)

    @extend_schema(request=None, responses={200: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Stop the job at its next chunk (what was committed stays)."""
        job = imports.import_job_cancel(actor=self.actor, job=self.get_object())
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data)

    @extend_schema(responses={200: ImportIssueSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=RowOrderPagination)
    def errors(self, request: Request, pk: str) -> Response:
        """Every row's errors, in the file's row order (paginated)."""
        queryset = ImportIssue.objects.filter(job=self.get_object())
        page = self.paginate_queryset(queryset)
        assert page is not None
        return self.get_paginated_response(ImportIssueSerializer(page, many=True).data)
