"""Farmers API: households, plots, agreements and verification visits. Views are thin: reads
through selectors (scoped), writes through services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import consent, policies, selectors, services
from farmers.filters import (
    AgreementFilterSet,
    EradicationFilterSet,
    HouseholdFilterSet,
    PlotFilterSet,
    StageChangeFilterSet,
    VerificationFilterSet,
)
from farmers.geometry import MAX_UPLOAD_BYTES, parse_boundary_file, to_geojson
from farmers.models import (
    Agreement,
    Eradication,
    Household,
    Plot,
    StageChange,
    Verification,
)
from registry.api.base import RegistryViewSet
from registry.api.lean import Children, Row
from registry.api.logged import LoggedReadsMixin
from registry.api.pagination import CursorPagination
from registry.choices import Scope
from registry.exceptions import PayloadTooLarge, PermissionDenied

from .serializers import (
    AgreementCreateSerializer,
    AgreementSerializer,
    ConsentCreateSerializer,
    ConsentSerializer,
    CorrectionCreateSerializer,
    CorrectionSerializer,
    EradicationCreateSerializer,
    EradicationSerializer,
    EradicationTransitionSerializer,
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
    household_mask,
    personal_shown,
    stage_logged,
    stage_shown,
)


class LedgerPagination(CursorPagination):
    """Ledger pages in id order (oldest first), whatever the view's own ordering."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ("id",)


class OldestFirstPagination(CursorPagination):
    """A record's sub-list (e.g. a visit's corrections) in the order they were made."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ("created_at", "id")


class FarmersViewSet(LoggedReadsMixin, RegistryViewSet):
    """The farmers API's base: households scopes, and coca figures (and the stage, which is
    coca data) shown only where the caller may read them (``farmers.policies``), every response
    carrying them to a caller holding coca:read logged."""

    read_scope = Scope.HOUSEHOLDS_READ
    write_scope: str | None = Scope.HOUSEHOLDS_WRITE
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["show_coca"] = policies.may_read_coca(self.actor)
        return context

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        """Whether the response shows ``record``'s logged fields (its coca figures here)."""
        return coca_shown(context, record)

    def lean_columns(self) -> list[str]:
        """A household's record on the lean list path: its household's district and
        programme, which the coca and consent policies read (``row.household``)."""
        model = self.get_serializer_class().Meta.model  # type: ignore[attr-defined]
        if any(field.name == "household" for field in model._meta.concrete_fields):
            return ["household__district_id", "household__program_id"]
        return []

    def personal_shown(self, context: dict[str, Any], record: Any) -> bool:
        """A pseudonymised record (``farmers.consent``) shows no personal data: not logged."""
        return personal_shown(context, record)


class HouseholdViewSet(FarmersViewSet):
    """Farmer households: register (members and consent in one request), read, update, review."""

    filterset_class = HouseholdFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = HouseholdDetailSerializer
    action_scopes = {"transition": Scope.HOUSEHOLDS_REVIEW, "lookup": Scope.HOUSEHOLDS_READ}
    # The stage is coca data: every response showing it to a caller with coca:read is logged.
    logged_resource = "households"
    coca_fields: tuple[str, ...] = HouseholdSerializer.stage_fields
    personal_fields: tuple[str, ...] = HouseholdSerializer.personal_fields

    # The list: rows, not instances (``registry.api.lean``), members in one query a page.
    lean_children = {"members": Children(queryset=selectors.live_members, fk="household_id")}

    def lean_columns(self) -> list[str]:
        # With ``district_id``: what the stage and consent policies read (the consent's
        # purposes annotated by ``selectors.household_list``).
        return ["program_id", consent.ANNOTATION]

    def mask_row(self, context: dict[str, Any], row: Row, data: dict[str, Any]) -> None:
        household_mask(
            context,
            row,
            data,
            stage=self._answer("stage", context, row, stage_shown),
            personal=self._answer("personal", context, row, personal_shown),
        )

    def _answer(self, question: str, context: dict[str, Any], record: Any, ask: Any) -> bool:
        """``ask(context, record)``, asked once per record and request (the access log and
        the masking of a list page ask the same questions of each row)."""
        answers = self.__dict__.setdefault("_answers", {})
        key = _answer_key(question, record)
        if key not in answers:
            answers[key] = bool(ask(context, record))
        return bool(answers[key])

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        # ``stage_logged`` for a household or a list row (its district and programme).
        return self._answer("stage", context, record, stage_shown) and policies.household_can(
            self.actor, record, "read_coca"
        )

    def personal_shown(self, context: dict[str, Any], record: Any) -> bool:
        return self._answer("personal", context, record, personal_shown)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """A ``stage`` filter needs the stage: 403 ``missing_scope`` for who may see none, and
        only households whose stage the caller sees for the others."""
        if self.action == "list" and self.request.query_params.get("stage"):
            policies.require_stages(self.actor)
            queryset = queryset.filter(policies.stage_q(self.actor))
        # A search's page is found by key first (``CursorPagination``): the walk along the
        # ordering that skips the households not matching reads ``hh_created_idx``, which holds
        # the searched words and the area's columns, instead of the table (farmers 0031).
        self.page_keys_first = self.action == "list" and bool(self.request.query_params.get("q"))
        return super().filter_queryset(queryset)

    def get_queryset(self) -> QuerySet[Household]:
        return selectors.household_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": HouseholdCreateSerializer,
            "partial_update": HouseholdUpdateSerializer,
            "transition": HouseholdTransitionSerializer,
            "retrieve": HouseholdDetailSerializer,
            "stage_history": StageChangeSerializer,
            "consents": ConsentSerializer,
        }.get(self.action, HouseholdSerializer)

    def get_object(self) -> Household:
        """The household of the URL (fetched once per request)."""
        if not hasattr(self, "_object"):
            self._object = selectors.household_get(actor=self.actor, household_id=self.kwargs["pk"])
        return self._object

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action not in ("list", "stage_history", "consents") and "pk" in self.kwargs:
            context["possible_duplicates"] = selectors.possible_duplicates_for(
                actor=self.actor, household=self.get_object()
            )
        return context

    def _detail(self, household: Household, *, created: bool | None = None) -> Response:
        fresh = selectors.household_get(actor=self.actor, household_id=household.pk)
        self._object = fresh
        self.kwargs["pk"] = str(fresh.pk)
        response = self.respond(fresh, created=created)
        self.log_reads([fresh])
        return response

    @extend_schema(
        request=HouseholdCreateSerializer,
        responses={200: HouseholdDetailSerializer, 201: HouseholdDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(HouseholdCreateSerializer)
        household, created = services.household_register(actor=self.actor, **data)
        return self._detail(household, created=created)

    @extend_schema(request=HouseholdUpdateSerializer, responses=HouseholdDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(HouseholdUpdateSerializer)
        household = services.household_update(
            actor=self.actor,
            household=self.get_object(),
            data=data,
            expected_version=self.if_match(self.get_object()),
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
        households = list(selectors.household_lookup(actor=self.actor, **data))
        serializer = HouseholdSerializer(
            households, many=True, context=self.get_serializer_context()
        )
        response = Response({"results": serializer.data})
        self.log_reads(households)
        return response

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
        """The household's stage ledger, oldest first (cursor-paginated); the stage is coca
        data: 403 ``missing_scope`` for who may not see this household's stage."""
        household = self.get_object()
        policies.require_stages(self.actor, household)
        self.logged_resource = "stage_changes"
        self.coca_fields = StageChangeSerializer.coca_fields
        self.personal_fields = ()
        page = self.paginate_queryset(
            selectors.stage_history(actor=self.actor, household=household)
        )
        assert page is not None
        return self.get_paginated_response(
            StageChangeSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(methods=["GET"], request=None, responses=ConsentSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ConsentCreateSerializer, responses={201: ConsentSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=ConsentSerializer,
        filterset_class=None,
        filter_backends=[],
    )
    def consents(self, request: Request, pk: str) -> Response:
        """The versions of the family's consent in the order they were recorded, the last one
        current (GET), or record a new one
        (POST ``{"purposes", "reason", "signed_on"}``: a withdrawal is ``"purposes": []``, a
        narrowing drops some). It takes effect at once in every read, export, webhook and EUDR
        file (docs/data-protection.md)."""
        household = self.get_object()
        if request.method == "GET":
            pages = OldestFirstPagination()
            rows = selectors.consent_list(actor=self.actor, household=household)
            page = pages.paginate_queryset(rows, request, view=self)
            assert page is not None
            return pages.get_paginated_response(ConsentSerializer(page, many=True).data)
        data = self.validated(ConsentCreateSerializer)
        version = services.consent_record(actor=self.actor, household=household, **data)
        return Response(ConsentSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HouseholdTransitionSerializer, responses=HouseholdDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Review: ``{"to": "active"}``, ``{"to": "rejected", "reason": ...}``, or deactivate."""
        data = self.validated(HouseholdTransitionSerializer)
        household = services.household_transition(
            actor=self.actor,
            household=self.get_object(),
            to=data["to"],
            reason=data["reason"],
            expected_version=self.if_match(self.get_object()),
        )
        return self._detail(household)


def _answer_key(question: str, record: Any) -> tuple[Any, ...]:
    """What the answer to ``question`` about a household depends on: its district and
    programme (the stage), and its current consent's purposes (the personal data) when the
    record carries them (``consent.with_consent``); else the record itself. The rows of a
    page share a few keys: each question is asked once per key, not per row."""
    if question == "stage":
        return (question, record.district_id, record.program_id)
    purposes = getattr(record, consent.ANNOTATION, None)
    if not isinstance(purposes, list):
        return (question, record.pk)
    return (question, record.district_id, record.program_id, tuple(purposes))


class StageChangeViewSet(FarmersViewSet):
    """Every stage change in the caller's area, oldest first: partners sync it incrementally
    by following ``next`` (or by asking for events ``after`` the last id they stored)."""

    filterset_class = StageChangeFilterSet
    write_scope = None  # read-only: other methods answer 405
    ordering = "id"
    pagination_class = LedgerPagination
    http_method_names = ["get", "head", "options"]
    logged_resource = "stage_changes"
    coca_fields = StageChangeSerializer.coca_fields
    serializer_class = StageChangeSerializer

    def check_permissions(self, request: Request) -> None:
        # The ledger is stage data: 403 ``missing_scope`` for who may see no stage at all (the
        # rows are those whose stage the caller sees: ``selectors.stage_change_list``).
        super().check_permissions(request)
        policies.require_stages(self.actor)

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        return stage_logged(context, record)

    def lean_columns(self) -> list[str]:
        # With the household's: the change's programme, which the stage policy reads.
        return [*super().lean_columns(), "program_id"]

    def get_queryset(self) -> QuerySet[StageChange]:
        return selectors.stage_change_list(actor=self.actor)


class PlotViewSet(FarmersViewSet):
    """Plots with GeoJSON boundaries (WGS84); area and overlaps are computed on save."""

    filterset_class = PlotFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = PlotSerializer
    logged_resource = "plots"
    personal_fields = ("geometry",)  # the exact location of a family's land
    # The list (``registry.api.lean``): the overlaps of a page in one query, in the order
    # ``selectors.plot_list`` prefetches them.
    lean_children = {"overlaps": Children(queryset=selectors.plot_overlaps, fk="plot_id")}

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
        return self.respond(self._fresh(plot), created=created)

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
    logged_resource = "agreements"
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
        response = self.respond(agreement, created=created)
        self.log_reads([agreement])
        return response


class VerificationViewSet(FarmersViewSet):
    """Field verification visits, confirmed or rejected by a supervisor."""

    filterset_class = VerificationFilterSet
    ordering = ("created_at", "id")
    logged_resource = "verifications"
    coca_fields = VerificationSerializer.coca_fields
    personal_fields = ("location",)  # where the family was found
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
        response = self.respond(visit, created=created)
        self.log_reads([visit])
        return response

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

    @extend_schema(methods=["GET"], request=None, responses=CorrectionSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=CorrectionCreateSerializer, responses={201: CorrectionSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=CorrectionSerializer,
        filterset_class=None,
    )
    def corrections(self, request: Request, pk: str) -> Response:
        """The corrections of a confirmed visit (GET, coca:read), or propose one (POST
        ``{"field", "value", "reason"}``): applied when a second person approves it at
        ``visit-corrections/{id}/transition/``."""
        if request.method == "GET":
            rows = selectors.correction_list(actor=self.actor).filter(verification_id=pk)
            pages = OldestFirstPagination()
            page = pages.paginate_queryset(rows, request, view=self)
            assert page is not None
            return pages.get_paginated_response(CorrectionSerializer(page, many=True).data)
        data = self.validated(CorrectionCreateSerializer)
        correction = services.correction_propose(actor=self.actor, verification=pk, **data)
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)

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


class EradicationViewSet(FarmersViewSet):
    """Coca eradicated on a family's plot: ``forced`` (CORAH) or ``voluntary``. Coca data:
    ``kind`` and ``hectares`` need coca:read (every read logged), and so does the ``kind``
    filter. A voluntary record (or a forced one recorded without ``households:review``) counts
    once a second person verifies it (``transition/``)."""

    filterset_class = EradicationFilterSet
    ordering = ("created_at", "id")
    logged_resource = "eradications"
    coca_fields = EradicationSerializer.coca_fields
    detail_serializer_class = EradicationSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"transition": Scope.HOUSEHOLDS_REVIEW}

    def get_queryset(self) -> QuerySet[Eradication]:
        return selectors.eradication_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": EradicationCreateSerializer,
            "transition": EradicationTransitionSerializer,
        }.get(self.action, EradicationSerializer)

    def filter_queryset(self, queryset: Any) -> Any:
        """A ``kind`` filter tells coca data: it needs coca:read (403 ``missing_scope``)."""
        if "kind" in self.request.query_params and not policies.may_read_coca(self.actor):
            raise PermissionDenied(
                _("Filtering by kind needs the coca:read scope."), code="missing_scope"
            )
        return super().filter_queryset(queryset)

    def _respond(self, record: Eradication, created: bool | None = None) -> Response:
        fresh = self.get_queryset().get(pk=record.pk)
        response = self.respond(fresh, created=created)
        self.log_reads([fresh])
        return response

    @extend_schema(
        request=EradicationCreateSerializer,
        responses={200: EradicationSerializer, 201: EradicationSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(EradicationCreateSerializer)
        record, created = services.eradication_create(actor=self.actor, **data)
        return self._respond(record, created)

    @extend_schema(request=EradicationTransitionSerializer, responses=EradicationSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """A second person verifies (``{"to": "verified"}``) or rejects (with a reason) a
        record; who recorded it cannot."""
        data = self.validated(EradicationTransitionSerializer)
        record = self.get_object()
        record = services.eradication_transition(
            actor=self.actor,
            eradication=record,
            to=data["to"],
            reason=data["reason"],
            expected_version=self.if_match(record),
        )
        return self._respond(record)
