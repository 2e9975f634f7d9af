"""The farmers API's crop installations (issue 16): what a family planted on its plots."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import selectors, services
from farmers.filters import CropInstallationFilterSet
from farmers.models import CropInstallation
from registry.choices import Scope

from .serializers import (
    CropInstallationCreateSerializer,
    CropInstallationSerializer,
    CropInstallationTransitionSerializer,
)
from .views import FarmersViewSet


class CropInstallationViewSet(FarmersViewSet):
    """Crops installed on a family's plots (crop from the programme's licit list, variety, area,
    plants, planting date, the support that paid). A field officer marks one ``producing`` or
    ``lost`` (with a reason) through ``transition/`` (``If-Match`` checked when sent)."""

    filterset_class = CropInstallationFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = CropInstallationSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"transition": Scope.HOUSEHOLDS_WRITE}

    def get_queryset(self) -> QuerySet[CropInstallation]:
        return selectors.installation_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": CropInstallationCreateSerializer,
            "transition": CropInstallationTransitionSerializer,
        }.get(self.action, CropInstallationSerializer)

    def _respond(self, record: CropInstallation, created: bool | None = None) -> Response:
        return self.respond(self.get_queryset().get(pk=record.pk), created=created)

    @extend_schema(
        request=CropInstallationCreateSerializer,
        responses={200: CropInstallationSerializer, 201: CropInstallationSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(CropInstallationCreateSerializer)
        record, created = services.installation_create(actor=self.actor, **data)
        return self._respond(record, created)

    @extend_schema(
        request=CropInstallationTransitionSerializer, responses=CropInstallationSerializer
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Mark the installation ``producing`` or ``lost`` (with a reason)."""
        data = self.validated(CropInstallationTransitionSerializer)
        record = self.get_object()
        record = services.installation_transition(
            actor=self.actor,
            installation=record,
            to=data["to"],
            reason=data["reason"],
            expected_version=self.if_match(record),
        )
        return self._respond(record)
