"""Decisions about people through the API (issue 15): exclusions the engine proposed, the
families' appeals, and corrections of confirmed visits, each decided by a second person or by
programme staff through its workflow (``farmers/workflow.py``). The contract's combined
``stage-reviews/`` is ``farmers/api/stage_reviews.py``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import selectors, services
from farmers.models import Appeal, ExclusionProposal, VisitCorrection
from registry.choices import Scope

from .serializers import (
    AppealCreateSerializer,
    AppealSerializer,
    AppealTransitionSerializer,
    CorrectionSerializer,
    CorrectionTransitionSerializer,
    ExclusionProposalSerializer,
    ExclusionTransitionSerializer,
)
from .views import FarmersViewSet


class ExclusionProposalViewSet(FarmersViewSet):
    """Exclusions the transition engine proposed after repeated relapses (coca data): the family
    stays ``relapsed`` until programme staff of the programme's agency confirm or dismiss."""

    read_scope = Scope.COCA_READ
    ordering = ("-created_at", "-id")
    detail_serializer_class = ExclusionProposalSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"transition": Scope.COCA_READ}

    def get_queryset(self) -> QuerySet[ExclusionProposal]:
        return selectors.exclusion_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        if self.action == "transition":
            return ExclusionTransitionSerializer
        return ExclusionProposalSerializer

    @extend_schema(request=ExclusionTransitionSerializer, responses=ExclusionProposalSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Programme staff confirm (``{"to": "confirmed"}``: the household becomes ``excluded``)
        or dismiss (``{"to": "dismissed", "note": "..."}``) a proposed exclusion."""
        data = self.validated(ExclusionTransitionSerializer)
        proposal = self.get_object()
        proposal = services.exclusion_transition(
            actor=self.actor,
            proposal=proposal,
            to=data["to"],
            note=data["note"],
            expected_version=self.if_match(proposal),
        )
        return self.respond(proposal)


class AppealViewSet(FarmersViewSet):
    """A family's appeals of its relapse or exclusion (coca data): filed by programme people in
    the area (households:write), decided by programme staff of the programme's agency."""

    read_scope = Scope.COCA_READ
    ordering = ("-created_at", "-id")
    detail_serializer_class = AppealSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"create": Scope.HOUSEHOLDS_WRITE, "transition": Scope.COCA_READ}

    def get_queryset(self) -> QuerySet[Appeal]:
        return selectors.appeal_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": AppealCreateSerializer,
            "transition": AppealTransitionSerializer,
        }.get(self.action, AppealSerializer)

    @extend_schema(request=AppealCreateSerializer, responses={201: AppealSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(AppealCreateSerializer)
        appeal = services.appeal_file(actor=self.actor, **data)
        return self.respond(appeal, created=True)

    @extend_schema(request=AppealTransitionSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Programme staff uphold (the relapse is overturned, or the exclusion dismissed) or
        reject an appeal, with the decision ``note``."""
        data = self.validated(AppealTransitionSerializer)
        appeal = self.get_object()
        appeal = services.appeal_transition(
            actor=self.actor,
            appeal=appeal,
            to=data["to"],
            note=data["note"],
            expected_version=self.if_match(appeal),
        )
        return self.respond(appeal)


class CorrectionViewSet(FarmersViewSet):
    """Corrections of confirmed visits (coca data), approved or rejected by a second person."""

    read_scope = Scope.COCA_READ
    ordering = ("-created_at", "-id")
    detail_serializer_class = CorrectionSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"transition": Scope.HOUSEHOLDS_REVIEW}

    def get_queryset(self) -> QuerySet[VisitCorrection]:
        return selectors.correction_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        if self.action == "transition":
            return CorrectionTransitionSerializer
        return CorrectionSerializer

    @extend_schema(request=CorrectionTransitionSerializer, responses=CorrectionSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """A second person approves (the visit is corrected, the stage recomputed) or rejects
        (with a ``reason``) a correction; whoever proposed it may not."""
        data = self.validated(CorrectionTransitionSerializer)
        correction = self.get_object()
        correction = services.correction_transition(
            actor=self.actor,
            correction=correction,
            to=data["to"],
            reason=data["reason"],
            expected_version=self.if_match(correction),
        )
        return self.respond(correction)
