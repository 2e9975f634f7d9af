"""Farmers API: households, plots, agreements and verification visits. Views are thin: reads
through selectors (scoped), writes through services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import selectors, services
from farmers.filters import (
    AgreementFilterSet,
    HouseholdFilterSet,
    PlotFilterSet,
    StageChangeFilterSet,
    VerificationFilterSet,
)
from farmers.geometry import MAX_UPLOAD_BYTES, parse_boundary_file, to_geojson
from farmers.models import Agreement, Household, Plot, StageChange, Verification
from registry.actors import Actor
from registry.api.authentication import get_actor
from registry.api.mixins import ETagMixin, conditional_response, etag_for, not_modified
from registry.api.pagination import CursorPagination
from registry.choices import Scope
from registry.exceptions import PayloadTooLarge
from registry.history import access_log_record

from .serializers import (
    AgreementCreateSerializer,
    AgreementSerializer,
    HouseholdCreateSerializer,
    HouseholdDetailSerializer,
    HouseholdLookupSerializer,
    HouseholdSerializer,
    HouseholdTransitionSerializer,
    HouseholdUpdateSerializer,
    PlotCreateSerializer,
    PlotSerializer,
    PlotUpdateSerializer,
    PlotUploadSerializer,
    StageChangeSerializer,
    VerificationCreateSerializer,
    VerificationPhotoSerializer,
    VerificationSerializer,
    VerificationTransitionSerializer,
    coca_shown,
)


class LedgerPagination(CursorPagination):
    """Ledger pages in id order (oldest first), whatever the view's own ordering."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ("id",)


class FarmersViewSet(ETagMixin, viewsets.GenericViewSet[Any]):
    """Common behaviour: scopes, the actor, coca visibility and its access log."""

    read_scope = Scope.HOUSEHOLDS_READ
    write_scope: str | None = Scope.HOUSEHOLDS_WRITE
    http_method_names = ["get", "post", "patch", "head", "options"]
    coca_resource: str | None = None
    coca_fields: tuple[str, ...] = ()

    @property
    def actor(self) -> Actor:
        return get_actor(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["actor"] = self.actor
        context["show_coca"] = self.actor.has_scope(Scope.COCA_READ)
        return context

    def validated(self, serializer_class: type[Any]) -> dict[str, Any]:
        """The request body checked by ``serializer_class`` (400 with field errors if not)."""
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def log_coca_read(self, objects: list[Any]) -> None:
        """Every response carrying coca fields is logged: who, which records, which request."""
        if not self.coca_resource or not self.actor.has_scope(Scope.COCA_READ):
            return
        context = self.get_serializer_context()
        shown = [o for o in objects if coca_shown(context, o)]
        access_log_record(
            actor=self.actor,
            resource=self.coca_resource,
            object_ids=[str(o.pk) for o in shown],
            fields=list(self.coca_fields),
            path=self.request.get_full_path(),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        assert page is not None
        self.log_coca_read(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.representation(instance)
        etag = etag_for(instance, data)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        self.log_coca_read([instance])
        return Response(data, headers={"ETag": etag})


class HouseholdViewSet(FarmersViewSet):
    """Farmer households: register (members and consent in one request), read, update, review."""

    filterset_class = HouseholdFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = HouseholdDetailSerializer
    action_scopes = {"transition": Scope.HOUSEHOLDS_REVIEW, "lookup": Scope.HOUSEHOLDS_READ}

    def get_queryset(self) -> QuerySet[Household]:
        return selectors.household_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": HouseholdCreateSerializer,
            "partial_update": HouseholdUpdateSerializer,
            "transition": HouseholdTransitionSerializer,
            "retrieve": HouseholdDetailSerializer,
            "stage_history": StageChangeSerializer,
        }.get(self.action, HouseholdSerializer)

    def get_object(self) -> Household:
        return selectors.household_get(actor=self.actor, household_id=self.kwargs["pk"])

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action not in ("list", "stage_history") and "pk" in self.kwargs:
            household = self._detail_object()
            context["possible_duplicates"] = selectors.possible_duplicates_for(
                actor=self.actor, household=household
            )
        return context

    def _detail_object(self) -> Household:
        if not hasattr(self, "_object"):
            self._object = self.get_object()
        return self._object

    def _detail(self, household: Household, *, created: bool | None = None) -> Response:
        fresh = selectors.household_get(actor=self.actor, household_id=household.pk)
        self._object = fresh
        self.kwargs["pk"] = str(fresh.pk)
        serializer = HouseholdDetailSerializer(fresh, context=self.get_serializer_context())
        data = serializer.data
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(data, status=code, headers={"ETag": etag_for(fresh, data)})

    @extend_schema(
        request=HouseholdCreateSerializer,
        responses={200: HouseholdDetailSerializer, 201: HouseholdDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(HouseholdCreateSerializer)
        household, created = services.household_register(actor=self.actor, **data)
        return self._detail(household, created=created)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        household = self._detail_object()
        data = self.representation(household)
        return conditional_response(request, data, etag_for(household, data))

    @extend_schema(request=HouseholdUpdateSerializer, responses=HouseholdDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(HouseholdUpdateSerializer)
        household = services.household_update(
            actor=self.actor,
            household=self._detail_object(),
            data=data,
            expected_version=self.if_match(self._detail_object()),
        )
        return self._detail(household)

    @extend_schema(
        request=HouseholdLookupSerializer,
        responses=inline_serializer(
            "HouseholdLookupResult", {"results": HouseholdSerializer(many=True)}
        ),
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="lookup",
        pagination_class=None,
        filter_backends=[],
    )
    def lookup(self, request: Request) -> Response:
        """Households in my area with a member holding this ID document (body, not URL)."""
        data = self.validated(HouseholdLookupSerializer)
        households = selectors.household_lookup(actor=self.actor, **data)
        serializer = HouseholdSerializer(
            households, many=True, context=self.get_serializer_context()
        )
        return Response({"results": serializer.data})

    @extend_schema(responses=StageChangeSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path="stage-history",
        pagination_class=LedgerPagination,
        filter_backends=[],
        serializer_class=StageChangeSerializer,
    )
    def stage_history(self, request: Request, pk: str) -> Response:
        """The household's stage ledger, oldest first (cursor-paginated)."""
        household = self._detail_object()
        page = self.paginate_queryset(
            selectors.stage_history(actor=self.actor, household=household)
        )
        assert page is not None
        self.coca_resource = "stage_changes"
        self.coca_fields = StageChangeSerializer.coca_fields
        self.log_coca_read(page)
        return self.get_paginated_response(
            StageChangeSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(request=HouseholdTransitionSerializer, responses=HouseholdDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Review: ``{"to": "active"}``, ``{"to": "rejected", "reason": ...}``, or deactivate."""
        data = self.validated(HouseholdTransitionSerializer)
        household = services.household_transition(
            actor=self.actor,
            household=self._detail_object(),
            to=data["to"],
            reason=data["reason"],
            expected_version=self.if_match(self._detail_object()),
        )
        return self._detail(household)


class StageChangeViewSet(FarmersViewSet):
    """Every stage change in the caller's area, oldest first: partners sync it incrementally
    by following ``next`` (or by asking for events ``after`` the last id they stored)."""

    filterset_class = StageChangeFilterSet
    write_scope = None  # read-only: other methods answer 405
    ordering = "id"
    pagination_class = LedgerPagination
    http_method_names = ["get", "head", "options"]
    coca_resource = "stage_changes"
    coca_fields = StageChangeSerializer.coca_fields
    serializer_class = StageChangeSerializer

    def get_queryset(self) -> QuerySet[StageChange]:
        return selectors.stage_change_list(actor=self.actor)


class PlotViewSet(FarmersViewSet):
    """Plots with GeoJSON boundaries (WGS84); area and overlaps are computed on save."""

    filterset_class = PlotFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = PlotSerializer

    def get_queryset(self) -> QuerySet[Plot]:
        return selectors.plot_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": PlotCreateSerializer,
            "partial_update": PlotUpdateSerializer,
            "upload": PlotUploadSerializer,
        }.get(self.action, PlotSerializer)

    def _fresh(self, plot: Plot) -> Plot:
        return self.get_queryset().get(pk=plot.pk)

    def _respond(self, plot: Plot, created: bool | None = None) -> Response:
        fresh = self._fresh(plot)
        data = PlotSerializer(fresh, context=self.get_serializer_context()).data
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(data, status=code, headers={"ETag": etag_for(fresh, data)})

    @extend_schema(
        request=PlotCreateSerializer, responses={200: PlotSerializer, 201: PlotSerializer}
    )
    def create(self, request: Request) -> Response:
        data = self.validated(PlotCreateSerializer)
        plot, created = services.plot_create(actor=self.actor, **data)
        return self._respond(plot, created)

    @extend_schema(request=PlotUpdateSerializer, responses=PlotSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(PlotUpdateSerializer)
        plot = self.get_object()
        plot = services.plot_update(
            actor=self.actor, plot=plot, data=data, expected_version=self.if_match(plot)
        )
        return self._respond(plot)

    @extend_schema(
        request={"multipart/form-data": PlotUploadSerializer}, responses={201: PlotSerializer}
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request: Request) -> Response:
        """Record a plot from a GeoJSON, KML or GPX file (e.g. a walked GPS track)."""
        data = self.validated(PlotUploadSerializer)
        upload = data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(
                _("The file is larger than %(max)s MB.") % {"max": MAX_UPLOAD_BYTES // 2**20},
                attr="file",
            )
        try:
            shape = parse_boundary_file(upload.name, upload.read())
        except ValidationError as exc:
            raise ValidationError({"file": exc.error_list}) from exc
        plot, _created = services.plot_create(
            actor=self.actor,
            household=data["household"],
            name=data["name"],
            tenure=data["tenure"],
            geometry=to_geojson(shape),
        )
        return self._respond(plot, True)


class AgreementViewSet(FarmersViewSet):
    """Voluntary coca-reduction agreements."""

    filterset_class = AgreementFilterSet
    ordering = ("created_at", "id")
    coca_resource = "agreements"
    coca_fields = AgreementSerializer.coca_fields
    detail_serializer_class = AgreementSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Agreement]:
        return selectors.agreement_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return AgreementCreateSerializer if self.action == "create" else AgreementSerializer

    @extend_schema(
        request=AgreementCreateSerializer,
        responses={200: AgreementSerializer, 201: AgreementSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(AgreementCreateSerializer)
        agreement, created = services.agreement_create(actor=self.actor, **data)
        data = AgreementSerializer(agreement, context=self.get_serializer_context()).data
        self.log_coca_read([agreement])
        return Response(
            data, status=201 if created else 200, headers={"ETag": etag_for(agreement, data)}
        )


class VerificationViewSet(FarmersViewSet):
    """Field verification visits, confirmed or rejected by a supervisor."""

    filterset_class = VerificationFilterSet
    ordering = ("created_at", "id")
    coca_resource = "verifications"
    coca_fields = VerificationSerializer.coca_fields
    detail_serializer_class = VerificationSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"transition": Scope.HOUSEHOLDS_REVIEW}

    def get_queryset(self) -> QuerySet[Verification]:
        return selectors.verification_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": VerificationCreateSerializer,
            "transition": VerificationTransitionSerializer,
            "photo": VerificationPhotoSerializer,
        }.get(self.action, VerificationSerializer)

    def _respond(self, visit: Verification, created: bool | None = None) -> Response:
        data = VerificationSerializer(visit, context=self.get_serializer_context()).data
        self.log_coca_read([visit])
        return Response(
            data, status=201 if created else 200, headers={"ETag": etag_for(visit, data)}
        )

    @extend_schema(
        request=VerificationCreateSerializer,
        responses={200: VerificationSerializer, 201: VerificationSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(VerificationCreateSerializer)
        visit, created = services.verification_create(actor=self.actor, **data)
        return self._respond(visit, created)

    @extend_schema(
        request={"multipart/form-data": VerificationPhotoSerializer},
        responses=VerificationSerializer,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def photo(self, request: Request, pk: str) -> Response:
        """Attach the visit's photo (JPEG or PNG, at most 8 MB); its SHA-256 is stored."""
        data = self.validated(VerificationPhotoSerializer)
        visit = services.verification_attach_photo(
            actor=self.actor,
            verification=self.get_object(),
            photo=data["photo"],
        )
        return self._respond(visit)

    @extend_schema(request=VerificationTransitionSerializer, responses=VerificationSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """A supervisor confirms (``{"to": "confirmed"}``) or rejects a visit (with a reason)."""
        data = self.validated(VerificationTransitionSerializer)
        visit = services.verification_transition(
            actor=self.actor,
            verification=self.get_object(),
            to=data["to"],
            reason=data["reason"],
        )
        return self._respond(visit)
