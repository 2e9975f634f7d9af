"""The farmers API's technical assistance and training (issue 17): events with their attendance,
the practices families adopted afterwards, and the support items (read-only). Attendees are
personal data: households scopes, partners' reads logged."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import selectors, services
from farmers.filters import PracticeAdoptionFilterSet, SupportFilterSet, TrainingEventFilterSet
from farmers.models import PracticeAdoption, Support, TrainingEvent
from registry.choices import Scope

from .serializers.training import (
    AttendeesAddSerializer,
    PracticeAdoptionCreateSerializer,
    PracticeAdoptionSerializer,
    SupportSerializer,
    TrainingEventCreateSerializer,
    TrainingEventDetailSerializer,
    TrainingEventSerializer,
)
from .views import FarmersViewSet


class TrainingEventViewSet(FarmersViewSet):
    """Training and technical-assistance events (date, topic, place, facilitator, cost, funding
    source) and who attended; ``attendees/`` adds members (a resend adds nothing)."""

    filterset_class = TrainingEventFilterSet
    ordering = ("created_at", "id")
    logged_resource = "trainings"
    personal_fields = ("attendees",)
    detail_serializer_class = TrainingEventDetailSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"attendees": Scope.HOUSEHOLDS_WRITE}

    def personal_shown(self, context: dict[str, Any], record: Any) -> bool:
        return self.action != "list"

    def get_queryset(self) -> QuerySet[TrainingEvent]:
        return selectors.training_event_list(actor=self.actor)

    def get_object(self) -> TrainingEvent:
        return selectors.training_event_get(actor=self.actor, event_id=self.kwargs["pk"])

    def get_serializer_class(self) -> Any:
        return {
            "create": TrainingEventCreateSerializer,
            "attendees": AttendeesAddSerializer,
            "retrieve": TrainingEventDetailSerializer,
        }.get(self.action, TrainingEventSerializer)

    def _respond(self, event: TrainingEvent, created: bool | None = None) -> Response:
        fresh = selectors.training_event_get(actor=self.actor, event_id=event.pk)
        return self.respond(fresh, created=created)

    @extend_schema(
        request=TrainingEventCreateSerializer,
        responses={200: TrainingEventDetailSerializer, 201: TrainingEventDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(TrainingEventCreateSerializer)
        event, created = services.training_event_create(actor=self.actor, **data)
        return self._respond(event, created)

    @extend_schema(request=AttendeesAddSerializer, responses=TrainingEventDetailSerializer)
    @action(detail=True, methods=["post"])
    def attendees(self, request: Request, pk: str) -> Response:
        """Add members to the attendance; those already on it are skipped (idempotent)."""
        data = self.validated(AttendeesAddSerializer)
        event, _added = services.training_attendees_add(
            actor=self.actor, event=pk, members=data["members"]
        )
        return self._respond(event)


class PracticeAdoptionViewSet(FarmersViewSet):
    """Good practices families adopted (pruning, grafting, composting, fermentation, drying,
    integrated pest management...), optionally after a training event."""

    filterset_class = PracticeAdoptionFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = PracticeAdoptionSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[PracticeAdoption]:
        return selectors.practice_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return PracticeAdoptionCreateSerializer
        return PracticeAdoptionSerializer

    @extend_schema(
        request=PracticeAdoptionCreateSerializer,
        responses={200: PracticeAdoptionSerializer, 201: PracticeAdoptionSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(PracticeAdoptionCreateSerializer)
        record, created = services.practice_record(actor=self.actor, **data)
        return self.respond(record, created=created)


class SupportViewSet(FarmersViewSet):
    """Support items given to families (inputs, technical assistance, titling fees...): cost in
    PEN, funding source and agreement. Read-only here (recorded in the admin and by the
    services); funders read them only as aggregates (``indicators/``)."""

    filterset_class = SupportFilterSet
    ordering = ("given_on", "id")
    serializer_class = SupportSerializer
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Support]:
        return selectors.support_list(actor=self.actor)
