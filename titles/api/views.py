"""Titles API: title files, their transitions, history, objections and documents. Views are
thin: reads through selectors (scoped), writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from farmers.consent import personal_visible
from registry.api.base import RegistryViewSet
from registry.api.lean import Children
from registry.api.pagination import CursorPagination
from registry.choices import Scope
from registry.exceptions import PermissionDenied
from titles import selectors, services
from titles.filters import TitleApplicationFilterSet
from titles.models import TitleApplication, TitleDocument

from .serializers import (
    ObjectionCreateSerializer,
    ObjectionDecisionSerializer,
    ObjectionPage,
    ObjectionSerializer,
    StatusChangePage,
    TitleApplicationCreateSerializer,
    TitleApplicationSerializer,
    TitleDocumentPage,
    TitleDocumentSerializer,
    TitleDocumentUploadSerializer,
    TitleStatusChangeSerializer,
    TitleTransitionSerializer,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The pagination cursor value."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="Page size."
    ),
]


class OldestFirst(CursorPagination):
    """Cursor pages of a file's sub-records, oldest first."""

    ordering = ("created_at", "id")


class HistoryPages(CursorPagination):
    ordering = ("at", "id")


class TitleApplicationViewSet(RegistryViewSet):
    """Land-title files: file a draft, read, move through the workflow; sub-resources for the
    history, objections and documents."""

    read_scope = Scope.TITLES_READ
    write_scope = Scope.TITLES_WRITE
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = TitleApplicationFilterSet
    serializer_class = TitleApplicationSerializer
    lookup_value_regex = UUID_PATTERN
    # The list (``registry.api.lean``): each file's document types in one query a page, for
    # the documents still missing (``selectors.with_document_types`` on the serializer path).
    lean_related = {
        "documents": Children(
            queryset=TitleDocument.objects.all, fk="application_id", columns=("type",)
        )
    }

    def lean_columns(self) -> list[str]:
        # With ``district_id``: the file's programme, which the consent policy reads.
        return ["program_id"]

    @property
    def ordering(self) -> tuple[str, str]:
        """The overdue queue comes most overdue first (an index range scan on ``due_on``)."""
        request = getattr(self, "request", None)
        if request is not None and str(request.query_params.get("overdue", "")).lower() in (
            "true",
            "1",
        ):
            return ("due_on", "id")
        return ("created_at", "id")

    def get_queryset(self) -> QuerySet[TitleApplication]:
        return selectors.with_document_types(selectors.title_application_list(actor=self.actor))

    def get_object(self) -> TitleApplication:
        return selectors.title_application_get(actor=self.actor, application_id=self.kwargs["pk"])

    def _detail(self, application: TitleApplication, *, created: bool = False) -> Response:
        """The file as GET returns it now (read again through the selector), with its ETag."""
        fresh = selectors.title_application_get(actor=self.actor, application_id=application.pk)
        return self.respond(fresh, created=created)

    def _page(self, queryset: QuerySet[Any], serializer: type[Any], pages: type[Any]) -> Response:
        paginator = pages()
        page = paginator.paginate_queryset(queryset, self.request, view=None)
        assert page is not None
        return paginator.get_paginated_response(serializer(page, many=True).data)

    @extend_schema(
        request=TitleApplicationCreateSerializer,
        responses={200: TitleApplicationSerializer, 201: TitleApplicationSerializer},
    )
    def create(self, request: Request) -> Response:
        """File a draft title application (idempotent on a client-chosen ``id``)."""
        data = self.validated(TitleApplicationCreateSerializer)
        application, created = services.title_application_create(actor=self.actor, **data)
        return self._detail(application, created=created)

    @extend_schema(request=TitleTransitionSerializer, responses=TitleApplicationSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Move the file: ``{"to": "<state>", "note", "reason", "partida_number",
        "registered_on", "on"}`` (``on``: the act's date); 409 ``invalid_transition`` lists the
        allowed next states."""
        data = self.validated(TitleTransitionSerializer)
        application = self.get_object()
        application = services.title_application_transition(
            actor=self.actor,
            application=application,
            expected_version=self.if_match(application),
            **data,
        )
        return self._detail(application)

    @extend_schema(parameters=PAGE_PARAMETERS, responses=StatusChangePage)
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        """Every move of the file (from, to, who, note, when), oldest first."""
        application = self.get_object()
        return self._page(
            selectors.status_change_list(application=application),
            TitleStatusChangeSerializer,
            HistoryPages,
        )

    @extend_schema(
        methods=["GET"], parameters=PAGE_PARAMETERS, responses=ObjectionPage, request=None
    )
    @extend_schema(
        methods=["POST"], request=ObjectionCreateSerializer, responses={201: ObjectionSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def objections(self, request: Request, pk: str) -> Response:
        """Objections to the title; POST files one (only while the public notice is open)."""
        application = self.get_object()
        if request.method == "POST":
            data = self.validated(ObjectionCreateSerializer)
            objection = services.objection_file(actor=self.actor, application=application, **data)
            return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)
        return self._page(
            selectors.objection_list(application=application), ObjectionSerializer, OldestFirst
        )

    @extend_schema(request=ObjectionDecisionSerializer, responses=ObjectionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"objections/(?P<objection_id>{UUID_PATTERN})/decision",
    )
    def objection_decision(self, request: Request, pk: str, objection_id: str) -> Response:
        """Decide an objection: ``upheld`` or ``dismissed``, with a note."""
        data = self.validated(ObjectionDecisionSerializer)
        objection = services.objection_decide(
            actor=self.actor,
            application=self.get_object(),
            objection_id=objection_id,
            **data,
        )
        return Response(ObjectionSerializer(objection).data)

    @extend_schema(
        methods=["GET"], parameters=PAGE_PARAMETERS, responses=TitleDocumentPage, request=None
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": TitleDocumentUploadSerializer},
        responses={201: TitleDocumentSerializer},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def documents(self, request: Request, pk: str) -> Response:
        """The file's documents; POST uploads one (PDF, JPEG or PNG, at most 10 MB)."""
        application = self.get_object()
        if request.method == "POST":
            data = self.validated(TitleDocumentUploadSerializer)
            document = services.document_upload(
                actor=self.actor, application=application, type=data["type"], file=data["file"]
            )
            return Response(TitleDocumentSerializer(document).data, status=status.HTTP_201_CREATED)
        return self._page(
            selectors.document_list(application=application), TitleDocumentSerializer, OldestFirst
        )

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=rf"documents/(?P<document_id>{UUID_PATTERN})/file",
    )
    def document_file(self, request: Request, pk: str, document_id: str) -> FileResponse:
        """Download a document (only within the caller's scope, and only where the family's
        consent covers the caller: 403 ``consent_missing`` otherwise, an ID copy or a proof of
        possession being personal data; docs/data-protection.md)."""
        document = selectors.document_get(
            actor=self.actor, application_id=pk, document_id=document_id
        )
        if not personal_visible(self.actor, self.get_object()):
            raise PermissionDenied(
                _("The family's consent does not cover sharing its documents with you."),
                code="consent_missing",
            )
        response = FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            as_attachment=True,
            filename=f"{document.type}-{document.sha256[:12]}{_extension(document.content_type)}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["ETag"] = f'"{document.sha256}"'
        return response


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
        content_type, ""
    )
