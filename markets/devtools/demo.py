"""Demo market data: two buyers, contracts with demo families and their deliveries, all through
the services. Idempotent: a contract's and its deliveries' ids derive from the family's random id
(reruns find them; nobody outside can compute them). The families are offered to the buyers
first: buyers reach offered families only. A cacao cooperative of the VRAEM (a producer
organisation) sells some of its members' cacao to the exporter under its own contract, so that
contract's EUDR file lists the members' plots."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from farmers.devtools.demo import DEMO_DISTRICTS, demo_households
from farmers.services.enrolment import enrolment_date
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.devtools import Writer
from registry.models import District, Organization
from registry.services import organization_areas_set, organization_upsert

from .. import services
from ..choices import ContractStatus, DeliveryStatus, PriceRule, ProductForm
from ..models import Contract, Delivery, HarvestCalendar, ProducerMembership, YieldNorm

NAMESPACE = uuid.UUID("0c6b1d7e-5a41-4c3e-9f0d-2b7a9e4d8c21")
BUYERS = [
    # code, name, RUC (check digit verified), district, contact, phone, email
    (
        "coop-pangoa",
        "Cooperativa Agraria Pangoa (demo)",
        "20131312955",
        "120606",
        "Esther Huamán",
        "+51964123456",
        "acopio@pangoa.example.org",
    ),
    (
        "exportadora-vraem",
        "Exportadora de Café y Cacao del VRAEM (demo)",
        "20601234565",
        "080910",
        "Luis Ccori",
        "+51987112233",
        "compras@exportadora.example.org",
    ),
]


def _buyers(actor: Actor) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for code, name, ruc, district, contact, phone, email in BUYERS:
        organization = Organization.objects.filter(code=code).first()
        if organization is None:
            organization, _created = services.buyer_register(
                actor=actor,
                code=code,
                name=name,
                ruc=ruc,
                district=district,
                contact_name=contact,
                phone=phone,
                email=email,
                channel="demo",
            )
        elif organization.kind == OrganizationKind.BUYER:
            if not hasattr(organization, "buyer_profile"):
                services.buyer_profile_update(
                    actor=actor,
                    organization=organization,
                    contact_name=contact,
                    phone=phone,
                    email=email,
                    channel="demo",
                )
        else:
            continue
        found[code] = organization
    return found


def seed_demo_contracts(write: Writer) -> None:
    """Contracts for the first approved demo families: cacao with the cooperative, coffee with
    the exporter; activated, with a schedule and deliveries accepted, paid or just recorded."""
    staff = get_user_model().objects.filter(username="personal.devida").first()
    if staff is None:
        return
    actor = Actor(user=staff, unrestricted=True)
    buyers = _buyers(actor)
    if len(buyers) < len(BUYERS):
        return
    today = timezone.localdate()
    made = 0
    families = demo_households(active_only=True)
    contract_ids = []
    for n in range(12):
        household = families.get(n)
        if household is None:
            continue
        cacao = n % 2 == 0
        # The programme offers the family to the buyer before any contract (as staff would in
        # the admin); families 12–13 are offered to the cooperative without a contract yet.
        services.offer_create(
            actor=actor,
            household=household,
            buyer="coop-pangoa" if cacao else "exportadora-vraem",
            channel="demo",
        )
        contract_id = uuid.uuid5(NAMESPACE, f"contract-{household.pk}")
        contract_ids.append(contract_id)
        contract = Contract.objects.filter(pk=contract_id).first()
        start = today - timedelta(days=150)
        if contract is None:
            contract, _created = services.contract_create(
                actor=actor,
                id=contract_id,
                household=household.pk,
                buyer="coop-pangoa" if cacao else "exportadora-vraem",
                crop="cacao" if cacao else "coffee",
                product_form=ProductForm.CACAO_DRY if cacao else ProductForm.COFFEE_PARCHMENT,
                season_start=start,
                season_end=today + timedelta(days=60),
                volume_kg="900" if cacao else None,
                volume_qq=None if cacao else "20",
                price_rule=PriceRule.FIXED if n % 3 else PriceRule.REFERENCE,
                # Cacao is priced per kg; coffee per quintal of 46 kg, as agreed in the field.
                price_pen_per_kg="9.50" if cacao else None,
                price_pen_per_qq=None if cacao else "650.00",
                price_floor_pen_per_kg=None if n % 3 or not cacao else "8.00",
                price_floor_pen_per_qq=None if n % 3 or cacao else "552.00",
                reference_price_note="" if n % 3 else "Bolsa de Nueva York − diferencial",
                quality_terms="Humedad máx. 7 %, fermentación ≥ 75 %"
                if cacao
                else "Humedad 10–12 %, taza ≥ 80 puntos",
                certification="organic" if n % 4 == 0 else "fair_trade" if n % 4 == 2 else "none",
                schedule=[
                    {"due_on": start + timedelta(days=45), "expected_kg": "200.00"},
                    {"due_on": start + timedelta(days=100), "expected_kg": "300.00"},
                ],
                channel="demo",
            )
            made += 1
        if contract.status == ContractStatus.DRAFT and n != 10:
            # Signed on paper when the season opened, digitised today: the deliveries below
            # fall after the signature and within the season.
            contract = services.contract_transition(
                actor=actor,
                contract=contract,
                to=ContractStatus.ACTIVE,
                signed_on=max(contract.season_start, enrolment_date(household)),
                channel="demo",
            )
        if contract.status != ContractStatus.ACTIVE:
            continue
        for k, (days, kg, grade) in enumerate([(40, "215.5", "a"), (95, "180.0", "b")]):
            delivery_id = uuid.uuid5(NAMESPACE, f"delivery-{household.pk}-{k}")
            delivery = Delivery.objects.filter(pk=delivery_id).first()
            day = contract.season_start + timedelta(days=days)
            signed = contract.signed_on or contract.season_start
            if delivery is None and n % 5 != 4 and signed <= day <= today:
                delivery, _created = services.delivery_record(
                    actor=actor,
                    id=delivery_id,
                    contract=contract.pk,
                    delivered_on=day,
                    weight_kg=kg,
                    quality_grade=grade,
                    price_pen_per_kg="9.80" if cacao else None,
                    price_pen_per_qq=None if cacao else "667.00",
                    receipt_reference=f"GR-{n:03d}-{k + 1}",
                    channel="demo",
                )
            if delivery is None or delivery.status != DeliveryStatus.RECORDED or k == 1:
                continue
            delivery = services.delivery_transition(
                actor=actor, delivery=delivery, to=DeliveryStatus.ACCEPTED, channel="demo"
            )
            if n % 3 != 1:
                services.delivery_transition(
                    actor=actor,
                    delivery=delivery,
                    to=DeliveryStatus.PAID,
                    payment_reference=f"TRF-{n:03d}",
                    paid_on=min(day + timedelta(days=7), today),
                    channel="demo",
                )
    for n in (12, 13):
        if n in families:
            services.offer_create(
                actor=actor, household=families[n], buyer="coop-pangoa", channel="demo"
            )
    _harvest_calendars(actor)
    members, delivered = _cooperative(actor, families)
    total = Contract.objects.filter(pk__in=contract_ids).count()
    write(
        f"Demo contracts:   {total} contracts ({made} new) with {len(buyers)} buyers; "
        f"{YieldNorm.objects.count()} yield norms, "
        f"{HarvestCalendar.objects.count()} harvest calendars; cooperative "
        f"{COOPERATIVE[0]}: {members} members, {delivered} deliveries through it"
    )


# code, name, RUC (check digit verified), district of its address (Pichari, VRAEM).
COOPERATIVE = ("coop-cacao-vraem", "Cooperativa Agraria Cacaotera del VRAEM (demo)", "20480123451")
COOPERATIVE_DISTRICT = "080910"
# Its members: cacao families that already sell (their own deliveries were confirmed), so the
# demo's ladder stays true; 12 and 13 are members that have not delivered through it yet.
COOPERATIVE_MEMBERS = (0, 2, 6, 8, 12, 13)
COOPERATIVE_SELLERS = (0, 2, 6, 8)


def _cooperative(actor: Actor, families: dict[int, Any]) -> tuple[int, int]:
    """The demo cooperative, its members, and its cacao contract with the exporter with one
    delivery per selling member (accepted; recorded by the programme, so confirmed)."""
    if not families:
        return 0, 0
    code, name, ruc = COOPERATIVE
    coop = Organization.objects.filter(code=code).first()
    if coop is None:
        coop, _created = organization_upsert(
            code=code,
            kind=OrganizationKind.PRODUCER_ORG,
            name=name,
            ruc=ruc,
            actor=actor,
            channel="demo",
        )
        coop.district_id = COOPERATIVE_DISTRICT
        coop.save(update_fields=["district"])
        program_id = next(iter(families.values())).program_id
        organization_areas_set(
            organization=coop,
            district_ubigeos=[],
            program_ids=[program_id],
            actor=actor,
            channel="demo",
        )
    if coop.kind != OrganizationKind.PRODUCER_ORG:
        return 0, 0
    today = timezone.localdate()
    joined: dict[int, Any] = {}
    for n in COOPERATIVE_MEMBERS:
        household = families.get(n)
        if household is None:
            continue
        membership = ProducerMembership.objects.filter(
            organization=coop, household=household, left_on__isnull=True
        ).first()
        if membership is None:
            membership = services.membership_create(
                actor=actor,
                organization=coop,
                household=household,
                joined_on=enrolment_date(household),
                role="president" if n == 0 else "treasurer" if n == 2 else "member",
                channel="demo",
            )
        joined[n] = membership.joined_on
    contract_id = uuid.uuid5(NAMESPACE, "cooperative-contract")
    contract = Contract.objects.filter(pk=contract_id).first()
    start = today - timedelta(days=150)
    if contract is None:
        contract, _created = services.contract_create(
            actor=actor,
            id=contract_id,
            seller_organization=code,
            buyer="exportadora-vraem",
            crop="cacao",
            product_form=ProductForm.CACAO_DRY,
            season_start=start,
            season_end=today + timedelta(days=60),
            volume_kg="6000",
            price_pen_per_kg="10.20",
            quality_terms="Humedad máx. 7 %, fermentación ≥ 75 %; lote de exportación a la UE",
            certification="organic",
            channel="demo",
        )
    if contract.status == ContractStatus.DRAFT:
        contract = services.contract_transition(
            actor=actor,
            contract=contract,
            to=ContractStatus.ACTIVE,
            signed_on=contract.season_start,
            channel="demo",
        )
    delivered = 0
    for n in COOPERATIVE_SELLERS:
        household = families.get(n)
        if household is None or n not in joined or contract.status != ContractStatus.ACTIVE:
            continue
        delivery_id = uuid.uuid5(NAMESPACE, f"cooperative-delivery-{household.pk}")
        delivery = Delivery.objects.filter(pk=delivery_id).first()
        day = max(contract.season_start + timedelta(days=60), joined[n])
        if delivery is None and day <= today:
            delivery, _created = services.delivery_record(
                actor=actor,
                id=delivery_id,
                contract=contract.pk,
                household=household.pk,
                delivered_on=day,
                weight_kg="120.0",
                quality_grade="a",
                receipt_reference=f"COOP-{n:03d}",
                channel="demo",
            )
        if delivery is not None and delivery.status == DeliveryStatus.RECORDED:
            delivery = services.delivery_transition(
                actor=actor, delivery=delivery, to=DeliveryStatus.ACCEPTED, channel="demo"
            )
        delivered += delivery is not None
    return len(joined), delivered


# Approximate main harvest months in the VRAEM (cacao mainly March–July, coffee April–
# September), from MIDAGRI's crop calendars and the cooperatives' collection seasons; a demo
# figure, not an agronomic reference: programme staff set the real ones in the admin.
DEMO_CALENDARS = {"cacao": [3, 4, 5, 6, 7], "coffee": [4, 5, 6, 7, 8, 9]}
CALENDAR_SOURCE = "Demo (aproximado): MIDAGRI, calendario de cosechas; acopio de cooperativas"


def _harvest_calendars(actor: Actor) -> None:
    """The demo's harvest calendars, one per crop and VRAEM department of the demo districts
    (through the service; unchanged calendars write nothing)."""
    departments = sorted(
        set(
            District.objects.filter(ubigeo__in=DEMO_DISTRICTS, is_vraem=True).values_list(
                "department_id", flat=True
            )
        )
    )
    for department in departments:
        for crop, months in DEMO_CALENDARS.items():
            services.harvest_calendar_save(
                actor=actor,
                crop=crop,
                months=months,
                department=department,
                source=CALENDAR_SOURCE,
                channel="demo",
            )
