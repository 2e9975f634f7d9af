"""Markets API: buyers, contracts and deliveries. Views are thin: reads through selectors (a
buyer's key sees its own contracts only), writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from markets import eudr, selectors, services
from markets.filters import ContractFilterSet, DeliveryFilterSet, MembershipFilterSet
from markets.models import BuyerOffer, Contract, Delivery, ProducerMembership
from registry.api.base import RegistryViewSet
from registry.api.logged import LoggedReadsMixin
from registry.choices import Scope
from registry.exceptions import NotFound
from registry.models import Organization

from .serializers import (
    BuyerCreateSerializer,
    BuyerSerializer,
    ContractCreateSerializer,
    ContractDetailSerializer,
    ContractSerializer,
    ContractTransitionSerializer,
    DeliveryCreateSerializer,
    DeliverySerializer,
    DeliveryTransitionSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    OfferCreateSerializer,
    OfferSerializer,
    OfferWithdrawSerializer,
    ProducerOrganizationSerializer,
)


class MarketsViewSet(RegistryViewSet):
    """The markets app's scopes on the kernel's viewset base (actor, validation, ETags)."""

    read_scope = Scope.CONTRACTS_READ
    write_scope = Scope.CONTRACTS_WRITE
    http_method_names = ["get", "post", "head", "options"]

    def fetch(self, key: Any) -> Any:
        """One visible record by its ``lookup_field``, through the app's selector (404 if
        not)."""
        raise NotImplementedError

    def get_object(self) -> Any:
        return self.fetch(self.kwargs[self.lookup_field])

    def _detail(self, instance: Any, created: bool | None = None) -> Response:
        """``instance`` read again as GET shows it, with its ETag (201 when ``created``)."""
        return self.respond(self.fetch(getattr(instance, self.lookup_field)), created=created)


class BuyerViewSet(MarketsViewSet):
    """Buyers and cooperatives (organizations of kind buyer) with their contact details.

    Every key may read them; registering one needs ``contracts:write`` (a buyer's key may
    register only itself). Idempotent on ``code``.
    """

    read_scope = Scope.REFERENCE_READ
    detail_serializer_class = BuyerSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.buyer_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return BuyerCreateSerializer if self.action == "create" else BuyerSerializer

    def fetch(self, key: Any) -> Organization:
        return selectors.buyer_get(actor=self.actor, code=key)

    @extend_schema(
        request=BuyerCreateSerializer, responses={200: BuyerSerializer, 201: BuyerSerializer}
    )
    def create(self, request: Request) -> Response:
        data = self.validated(BuyerCreateSerializer)
        buyer, created = services.buyer_register(actor=self.actor, **data)
        return self._detail(buyer, created)


class ProducerOrganizationViewSet(MarketsViewSet):
    """Producer organisations (cooperatives and associations): reference data every key may
    read (name, RUC, district). They are registered by platform administrators."""

    read_scope = Scope.REFERENCE_READ
    http_method_names = ["get", "head", "options"]
    serializer_class = ProducerOrganizationSerializer
    detail_serializer_class = ProducerOrganizationSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.producer_organization_list(actor=self.actor)

    def fetch(self, key: Any) -> Organization:
        found = self.get_queryset().filter(code=key).first()
        if found is None:
            raise NotFound()
        return found


class MembershipViewSet(LoggedReadsMixin, MarketsViewSet):
    """Member households of producer organisations: who joined when, with which role, and
    when they left.

    Programme people see the memberships in their area and (with households:write) add
    members, change roles and record leaving; a producer organisation's key reads its own
    members. Partners' reads of members' names are logged in the access log.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    write_scope = Scope.HOUSEHOLDS_WRITE
    ordering = ("joined_on", "id")
    filterset_class = MembershipFilterSet
    detail_serializer_class = MembershipSerializer
    logged_resource = "producer_memberships"
    personal_fields = ("household.head_name",)

    def get_queryset(self) -> QuerySet[ProducerMembership]:
        return selectors.membership_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": MembershipCreateSerializer,
            "partial_update": MembershipUpdateSerializer,
        }.get(self.action, MembershipSerializer)

    def fetch(self, key: Any) -> ProducerMembership:
        return selectors.membership_get(actor=self.actor, membership_id=key)

    @extend_schema(request=MembershipCreateSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(MembershipCreateSerializer)
        membership = services.membership_create(actor=self.actor, **data)
        return self._detail(membership, True)

    @extend_schema(request=MembershipUpdateSerializer, responses=MembershipSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(MembershipUpdateSerializer)
        membership = self.get_object()
        membership = services.membership_update(
            actor=self.actor,
            membership=membership,
            role=data.get("role"),
            left_on=data.get("left_on"),
            expected_version=self.if_match(membership),
        )
        return self._detail(membership)


class OfferViewSet(MarketsViewSet):
    """Households the programme offered to buyers.

    A buyer's key lists the live offers to it: the only families it may propose contracts to
    (id, code and district). Programme staff and implementers see the offers in their area, make
    them (idempotent: a live offer is returned) and withdraw them.
    """

    # Oldest first; the id breaks ties so that cursors are stable.
    ordering = ("offered_at", "id")
    detail_serializer_class = OfferSerializer

    def get_queryset(self) -> QuerySet[BuyerOffer]:
        return selectors.offer_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": OfferCreateSerializer,
            "withdraw": OfferWithdrawSerializer,
        }.get(self.action, OfferSerializer)

    def fetch(self, key: Any) -> BuyerOffer:
        return selectors.offer_get(actor=self.actor, offer_id=key)

    @extend_schema(
        request=OfferCreateSerializer, responses={200: OfferSerializer, 201: OfferSerializer}
    )
    def create(self, request: Request) -> Response:
        data = self.validated(OfferCreateSerializer)
        offer, created = services.offer_create(actor=self.actor, **data)
        return self._detail(offer, created)

    @extend_schema(request=OfferWithdrawSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw the offer: the buyer may no longer see the family nor propose contracts to
        it (its existing contracts stay its own)."""
        data = self.validated(OfferWithdrawSerializer)
        offer = services.offer_withdraw(
            actor=self.actor, offer=self.get_object(), reason=data["reason"]
        )
        return self._detail(offer)


class ContractViewSet(MarketsViewSet):
    """Market-access contracts between a seller (a household or a producer organisation) and a
    buyer, and their workflow."""

    filterset_class = ContractFilterSet
    ordering = ("created_at", "id")
    detail_serializer_class = ContractDetailSerializer

    def get_queryset(self) -> QuerySet[Contract]:
        return selectors.contract_list(actor=self.actor)

    def lean_columns(self) -> list[str]:
        # The contract's programme, which the consent policy reads with its district.
        return ["program_id"]

    def get_serializer_class(self) -> Any:
        return {
            "create": ContractCreateSerializer,
            "transition": ContractTransitionSerializer,
            "retrieve": ContractDetailSerializer,
        }.get(self.action, ContractSerializer)

    def fetch(self, key: Any) -> Contract:
        return selectors.contract_get(actor=self.actor, contract_id=key)

    @extend_schema(
        request=ContractCreateSerializer,
        responses={200: ContractDetailSerializer, 201: ContractDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(ContractCreateSerializer)
        contract, created = services.contract_create(actor=self.actor, **data)
        return self._detail(contract, created)

    @extend_schema(request=ContractTransitionSerializer, responses=ContractDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Sign (``active``), cancel a draft, suspend (with a reason), resume, complete or
        terminate (with a reason). A move the workflow does not allow is a 409."""
        data = self.validated(ContractTransitionSerializer)
        contract = self.get_object()
        contract = services.contract_transition(
            actor=self.actor,
            contract=contract,
            to=data["to"],
            reason=data["reason"],
            override_reason=data["override_reason"],
            signed_on=data.get("signed_on"),
            expected_version=self.if_match(contract),
        )
        return self._detail(contract)

    @extend_schema(
        request=None,
        responses={
            (200, eudr.MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "GeoJSON FeatureCollection (RFC 7946): one Feature per plot supplying the "
                    "contract, for the EUDR due-diligence statement (docs/api.md)."
                ),
            )
        },
    )
    @action(detail=True, methods=["get"])
    def eudr(self, request: Request, pk: str) -> HttpResponse:
        """The EUDR geolocation of the plots that supply the contract (households that consented
        to sharing with partners only): a Point under 4 ha, the Polygon from 4 ha up. The read
        of producers' names and plots is logged."""
        text = eudr.eudr_read(self.actor, self.get_object(), request.get_full_path())
        return HttpResponse(text, content_type=eudr.MEDIA_TYPE)


class DeliveryViewSet(MarketsViewSet):
    """Deliveries against active contracts: quality check, acceptance and payment."""

    filterset_class = DeliveryFilterSet
    # Newest delivery first; the id breaks ties so that cursors are stable.
    ordering = ("-delivered_on", "-id")
    detail_serializer_class = DeliverySerializer

    def get_queryset(self) -> QuerySet[Delivery]:
        return selectors.delivery_list(actor=self.actor)

    def lean_columns(self) -> list[str]:
        # The household's reference, and the delivery's district and programme, which the
        # consent policy reads.
        return ["district_id", "program_id", *selectors.REF_FIELDS[:5]]

    def get_serializer_class(self) -> Any:
        return {
            "create": DeliveryCreateSerializer,
            "transition": DeliveryTransitionSerializer,
        }.get(self.action, DeliverySerializer)

    def fetch(self, key: Any) -> Delivery:
        return selectors.delivery_get(actor=self.actor, delivery_id=key)

    @extend_schema(
        request=DeliveryCreateSerializer,
        responses={200: DeliverySerializer, 201: DeliverySerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(DeliveryCreateSerializer)
        delivery, created = services.delivery_record(actor=self.actor, **data)
        return self._detail(delivery, created)

    @extend_schema(request=DeliveryTransitionSerializer, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Accept or reject (with a ``rejection_reason``) a recorded delivery, or record the
        payment of an accepted one (``payment_reference``, ``paid_on``, ``paid_amount_pen``)."""
        data = self.validated(DeliveryTransitionSerializer)
        delivery = self.get_object()
        delivery = services.delivery_transition(
            actor=self.actor,
            delivery=delivery,
            to=data["to"],
            rejection_reason=data.get("rejection_reason", ""),
            note=data["note"],
            payment_reference=data["payment_reference"],
            paid_on=data.get("paid_on"),
            paid_amount_pen=data.get("paid_amount_pen"),
            expected_version=self.if_match(delivery),
        )
        return self._detail(delivery)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        """The programme (its staff or an implementer in the area; never the buyer) confirms an
        accepted or paid delivery: only then does it count as evidence of a market link."""
        delivery = self.get_object()
        delivery = services.delivery_confirm(
            actor=self.actor, delivery=delivery, expected_version=self.if_match(delivery)
        )
        return self._detail(delivery)
