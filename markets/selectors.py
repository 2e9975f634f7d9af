"""Reads of the markets app: a buyer's key sees its own contracts and deliveries only, everyone
else those in their area (404 outside it); the evidence provider for the transition engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import (
    CharField,
    DateField,
    DecimalField,
    F,
    Prefetch,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least

from farmers.choices import VerificationStatus
from farmers.consent import with_consent
from farmers.models import CropInstallation, Verification
from farmers.transition.evidence import CONTRACT_ACTIVE, DELIVERY_ACCEPTED, Fact, batch_q
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.exceptions import NotFound
from registry.models import Organization

from . import policies
from .models import BuyerOffer, Contract, ContractStatusChange, Delivery, ProducerMembership
from .workflow import ACCEPTED_DELIVERY_STATES, ACTIVATED_STATES


def buyer_list(*, actor: Actor) -> QuerySet[Organization]:
    """Active buyer organizations with their contact details (reference data)."""
    return Organization.objects.filter(kind=OrganizationKind.BUYER, is_active=True).select_related(
        "buyer_profile"
    )


def buyer_get(*, actor: Actor, code: str) -> Organization:
    """One active buyer by code, or 404."""
    buyer = buyer_list(actor=actor).filter(code=code).first()
    if buyer is None:
        raise NotFound()
    return buyer


def offer_list(*, actor: Actor) -> QuerySet[BuyerOffer]:
    """Offers of households to buyers the actor may see: a buyer's key its own live offers
    (the families it may propose contracts to), everyone else the offers in their area."""
    queryset = BuyerOffer.objects.filter(policies.offer_q(actor))
    return queryset.select_related("household", "buyer", "program").only(
        *[f.name for f in BuyerOffer._meta.concrete_fields],
        "household__id",
        "household__code",
        "household__district_id",
        "buyer__id",
        "buyer__code",
        "program__id",
        "program__code",
    )


def offer_get(*, actor: Actor, offer_id: Any) -> BuyerOffer:
    """One visible offer, or 404."""
    offer = offer_list(actor=actor).filter(pk=offer_id).first()
    if offer is None:
        raise NotFound()
    return offer


def contract_list(*, actor: Actor) -> QuerySet[Contract]:
    """Contracts the actor may see, with household (or selling organisation) and buyer joined
    and the household's current consent annotated (``farmers.consent``; one query a page)."""
    return (
        with_consent(Contract.objects.filter(policies.contract_q(actor)), "household_id")
        .select_related("household", "buyer", "seller_organization")
        .only(
            *[f.name for f in Contract._meta.concrete_fields],
            *REF_FIELDS,
            "seller_organization__id",
            "seller_organization__code",
        )
        .annotate(funding_source_code=F("funding_source__code"))
    )


def membership_list(*, actor: Actor) -> QuerySet[ProducerMembership]:
    """Memberships of producer organisations the actor may see (a producer organisation's key:
    its own; everyone else: in their area), with household and organisation joined (one query
    a page)."""
    return (
        ProducerMembership.objects.filter(policies.membership_q(actor))
        .select_related("household", "organization")
        .only(
            *[f.name for f in ProducerMembership._meta.concrete_fields],
            *REF_FIELDS[:5],
            "organization__id",
            "organization__code",
            "organization__name",
        )
    )


def membership_get(*, actor: Actor, membership_id: Any) -> ProducerMembership:
    """One visible membership, or 404."""
    membership = membership_list(actor=actor).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound()
    return membership


def producer_organization_list(*, actor: Actor) -> QuerySet[Organization]:
    """Active producer organisations (reference data: name, RUC, district)."""
    return Organization.objects.filter(kind=OrganizationKind.PRODUCER_ORG, is_active=True)


def contract_get(*, actor: Actor, contract_id: Any) -> Contract:
    """One visible contract with its delivery schedule and status ledger, or 404."""
    contract = (
        contract_list(actor=actor)
        .prefetch_related(
            "schedule",
            Prefetch(
                "status_changes",
                queryset=ContractStatusChange.objects.order_by("at", "id"),
            ),
        )
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


# The only columns of the household and buyer a contract or delivery shows (narrow rows).
REF_FIELDS = (
    "household__id",
    "household__code",
    "household__head_name",
    "household__district_id",
    "household__community",
    "buyer__id",
    "buyer__code",
)


def delivery_list(*, actor: Actor) -> QuerySet[Delivery]:
    """Deliveries the actor may see, with household and buyer joined and the household's
    current consent annotated (``farmers.consent``; one query a page)."""
    return (
        with_consent(Delivery.objects.filter(policies.delivery_q(actor)), "household_id")
        .select_related("household", "buyer")
        .only(*[f.name for f in Delivery._meta.concrete_fields], *REF_FIELDS)
    )


def delivery_get(*, actor: Actor, delivery_id: Any) -> Delivery:
    """One visible delivery, or 404."""
    delivery = delivery_list(actor=actor).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound()
    return delivery


def totals_by_buyer_and_crop(contracts: QuerySet[Contract]) -> list[dict[str, Any]]:
    """Contracted kg, delivered (accepted) kg and value per buyer and crop, one query."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=20, decimal_places=2))
    rows = list(
        contracts.order_by()
        .values("buyer__code", "buyer__name", "crop", "product_form")
        .annotate(
            contracted_kg=Coalesce(Sum("volume_kg"), zero),
            accepted_kg=Coalesce(Sum("accepted_kg"), zero),
            accepted_value_pen=Coalesce(Sum("accepted_value_pen"), zero),
        )
        .order_by("buyer__code", "crop", "product_form")
    )
    for row in rows:  # SQLite's sums drop the scale: always two places
        for name in ("contracted_kg", "accepted_kg", "accepted_value_pen"):
            row[name] = Decimal(row[name]).quantize(Decimal("0.01"))
    return rows


def licit_hectares(household_ids: Iterable[Any]) -> dict[tuple[str, str], Decimal]:
    """``{(household_id, crop): ha}`` from each household's latest confirmed verification visit
    (one query): what field officers saw on the ground, not what the family declared."""
    ids = sorted({str(pk) for pk in household_ids})
    latest: dict[str, list[dict[str, Any]]] = {}
    rows = (
        Verification.objects.filter(household_id__in=ids, status=VerificationStatus.CONFIRMED)
        .order_by("household_id", "-visited_on", "-created_at")
        .values_list("household_id", "licit_crops")
    )
    for pk, crops in rows:
        latest.setdefault(str(pk), crops or [])
    hectares: dict[tuple[str, str], Decimal] = {}
    for household_id, entries in latest.items():
        for entry in entries:
            try:
                ha = Decimal(str(entry.get("ha", "0")))
            except (ArithmeticError, ValueError, AttributeError):
                continue
            key = (household_id, str(entry.get("crop", "")))
            hectares[key] = hectares.get(key, Decimal("0")) + ha
    return hectares


def stands_by_household(
    household_ids: Iterable[Any], crops: Iterable[str]
) -> dict[tuple[str, str], list[tuple[Decimal, date, date | None]]]:
    """``{(household_id, crop): [(area_ha, planted_on, lost_on), ...]}``: the households' crop
    installations of ``crops`` (lost ones too, with the day: they stood until then). One
    query."""
    ids = sorted({str(pk) for pk in household_ids})
    stands: dict[tuple[str, str], list[tuple[Decimal, date, date | None]]] = {}
    if not ids:
        return stands
    rows = (
        CropInstallation.objects.filter(household_id__in=ids, crop__in=sorted(set(crops)))
        .order_by()
        .values_list("household_id", "crop", "area_ha", "planted_on", "lost_on")
    )
    for pk, crop, area, planted_on, lost_on in rows:
        stands.setdefault((str(pk), crop), []).append((area, planted_on, lost_on))
    return stands


def market_facts(household_ids: Sequence[UUID], as_of: date) -> list[Fact]:
    """Evidence provider for the transition engine: for a batch of households, every contract
    that became active (``contract_active``, from its signature, or season start, until its
    season end or earlier close) and every accepted or paid delivery (``delivery_accepted``
    with kg and value) that the programme confirmed, with the contract's status now (for
    information only: a delivery accepted while the contract was live stays evidence when the
    contract is later suspended or terminated). One query (a UNION) for any batch."""
    if not household_ids:
        return []
    null_decimal = Value(None, output_field=DecimalField(max_digits=14, decimal_places=2))
    contracts = (
        Contract.objects.filter(batch_q(household_ids), status__in=sorted(ACTIVATED_STATES))
        .order_by()
        .values_list(
            "household_id",
            "id",
            Value(CONTRACT_ACTIVE, output_field=CharField()),
            Coalesce("signed_on", "activated_on", "season_start", output_field=DateField()),
            Least(Coalesce("closed_on", "season_end"), "season_end", output_field=DateField()),
            "status",
            null_decimal,
            null_decimal,
        )
    )
    deliveries = (
        # Only deliveries the programme confirmed count (a buyer's own acceptance does not).
        Delivery.objects.filter(
            batch_q(household_ids),
            status__in=ACCEPTED_DELIVERY_STATES,
            confirmed_at__isnull=False,
        )
        .order_by()
        .values_list(
            "household_id",
            "id",
            Value(DELIVERY_ACCEPTED, output_field=CharField()),
            "delivered_on",
            Value(None, output_field=DateField()),
            F("contract__status"),
            F("weight_kg"),
            F("amount_pen"),
        )
    )
    facts: list[Fact] = []
    for household_id, ref, kind, on, until, status, quantity, value in contracts.union(
        deliveries, all=True
    ):
        facts.append(
            Fact(
                household_id=household_id if isinstance(household_id, UUID) else UUID(household_id),
                kind=kind,
                on=on,
                ref=str(ref),
                status=status,
                until=until,
                quantity=quantity,
                value_pen=value,
            )
        )
    return facts


def manageable_buyers(actor: Actor | None) -> QuerySet[Organization]:
    """Buyers whose profile the person edits (``markets.policies.buyer_q``)."""
    return Organization.objects.filter(kind=OrganizationKind.BUYER).filter(policies.buyer_q(actor))


def market_access_section(household: Any) -> dict[str, list[dict[str, Any]]]:
    """What markets holds about a household, for a data-subject access request
    (``farmers.rights_sections``): its buyer offers, contracts and deliveries."""
    from farmers.rights_sections import record_rows

    from .models import BuyerOffer, Contract, Delivery

    return {
        "offers": record_rows(BuyerOffer.objects.filter(household=household).order_by("id")),
        "contracts": record_rows(
            Contract.objects.filter(household=household).order_by("created_at", "id")
        ),
        "deliveries": record_rows(
            Delivery.objects.filter(household=household).order_by("created_at", "id")
        ),
    }
