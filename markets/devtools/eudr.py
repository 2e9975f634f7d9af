"""The EUDR file benchmark (``benchmark_eudr --plots N``): builds the GeoJSON file of a contract
whose seller has N plots (half under 4 ha, points; half from 4 ha up, 24-vertex polygons), as
``GET contracts/{id}/eudr/`` does (queries, geometry, JSON text), and reports the seconds.
With ``--members N`` the contract is a producer organisation's, with N member households that
each delivered under it from one plot of their own (``benchmark_eudr_members``).

Everything it writes (a buyer, an organisation, memberships, a contract, deliveries, the plots,
consents) is rolled back at the end; it needs one household in the database (N for
``--members N``: ``seed_households``, or the demo).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from farmers.models import Consent, Household, Plot
from registry.choices import OrganizationKind
from registry.models import Organization

from .. import eudr
from ..choices import ContractStatus, DeliveryStatus, PriceRule
from ..models import Contract, Delivery, ProducerMembership

SIDES = 24
LON, LAT = -73.83, -12.52
DEG_PER_M = 1 / 111_320


def _plot(household: Household | Any, n: int) -> Plot:
    """A 24-vertex polygon: 1 ha (a point in the file) or 6 ha (a polygon), on a grid."""
    area_ha = Decimal("1") if n % 2 else Decimal("6")
    radius = math.sqrt(float(area_ha) * 10_000 / math.pi) * DEG_PER_M
    cx = LON + (n % 100) * 0.003
    cy = LAT + (n // 100) * 0.003
    ring = [
        [
            cx + radius * math.cos(2 * math.pi * k / SIDES),
            cy + radius * math.sin(2 * math.pi * k / SIDES),
        ]
        for k in range(SIDES)
    ]
    ring.append(ring[0])
    now = timezone.now()
    return Plot(
        household=household,
        name=f"bench-eudr-{n}",
        tenure="possession",
        geometry={"type": "Polygon", "coordinates": [ring]},
        area_ha=area_ha,
        crops=["cacao"],
        min_lon=cx - radius,
        max_lon=cx + radius,
        min_lat=cy - radius,
        max_lat=cy + radius,
        created_at=now,
        updated_at=now,
    )


def _active_contract(
    where: Household, buyer: Organization, volume_kg: Decimal, **seller: Any
) -> Contract:
    """An active fixed-price cacao contract for 2026 in ``where``'s district and programme,
    sold by ``seller`` (``household=`` or ``seller_organization=``)."""
    return Contract.objects.create(
        **seller,
        buyer=buyer,
        district_id=where.district_id,
        program_id=where.program_id,
        crop="cacao",
        product_form="cacao_dry",
        season_start=date(2026, 1, 1),
        season_end=date(2026, 12, 31),
        volume_kg=volume_kg,
        price_rule=PriceRule.FIXED,
        price_pen=Decimal("9.50"),
        price_pen_per_kg=Decimal("9.50"),
        status=ContractStatus.ACTIVE,
    )


def _timed_file(contract: Contract, repeat: int) -> tuple[Any, str, list[float]]:
    """Build and serialise ``contract``'s EUDR file ``repeat`` times: the last file, what it
    holds ("N points, M polygons, S MB") and each run's seconds."""
    timings = []
    for _i in range(repeat):
        started = time.perf_counter()
        built = eudr.eudr_collection(contract)
        text = eudr.json_text(built.data)
        timings.append(time.perf_counter() - started)
    points = sum(1 for f in built.data["features"] if f["geometry"]["type"] == "Point")
    polygons = len(built.data["features"]) - points
    return built, f"{points} points, {polygons} polygons, {len(text) / 1e6:.1f} MB", timings


def benchmark_eudr(*, plots: int, repeat: int, write: Callable[[str], Any]) -> float:
    """Build the EUDR file of a contract with ``plots`` plots ``repeat`` times; write and return
    the best time in seconds. ``ValueError`` when there is no household to borrow."""
    household = Household.objects.order_by("created_at").first()
    if household is None:
        raise ValueError("Seed first: seed_households (or the demo).")
    with transaction.atomic():
        buyer = Organization.objects.create(
            code="bench-eudr-buyer", name="Benchmark EUDR", kind=OrganizationKind.BUYER
        )
        contract = _active_contract(household, buyer, Decimal("1000"), household=household)
        Consent.objects.create(
            household=household,
            signed_on=timezone.localdate(),
            purposes=["registry", "partner_sharing", "buyer_sharing"],
        )
        Plot.objects.filter(household=household).update(is_active=False)
        Plot.objects.bulk_create([_plot(household, n) for n in range(plots)], batch_size=1000)
        _built, shape, timings = _timed_file(contract, repeat)
        best = min(timings)
        write(
            f"EUDR file of a contract with {plots} plots ({shape}): "
            f"first {timings[0]:.3f} s, best of {repeat}: {best:.3f} s"
        )
        transaction.set_rollback(True)
    return best


def benchmark_eudr_members(*, members: int, repeat: int, write: Callable[[str], Any]) -> float:
    """Build the EUDR file of a producer organisation's contract with ``members`` delivering
    members (one plot each, half points, half polygons) ``repeat`` times; write and return the
    best time in seconds. ``ValueError`` when there are fewer households than ``members``."""
    households = list(
        Household.objects.order_by("created_at", "id").only("id", "district_id", "program_id")[
            :members
        ]
    )
    if len(households) < members:
        raise ValueError(f"Seed first: {members} households are needed (seed_households).")
    first = households[0]
    with transaction.atomic():
        buyer = Organization.objects.create(
            code="bench-eudr-buyer", name="Benchmark EUDR", kind=OrganizationKind.BUYER
        )
        coop = Organization.objects.create(
            code="bench-eudr-coop",
            name="Benchmark EUDR cooperative",
            kind=OrganizationKind.PRODUCER_ORG,
            district_id=first.district_id,
        )
        contract = _active_contract(first, buyer, Decimal("1000000"), seller_organization=coop)
        today = timezone.localdate()
        ids = [h.pk for h in households]
        ProducerMembership.objects.bulk_create(
            [
                ProducerMembership(
                    organization=coop,
                    household=h,
                    district_id=h.district_id,
                    program_id=h.program_id,
                    joined_on=date(2026, 1, 1),
                )
                for h in households
            ],
            batch_size=2000,
        )
        Consent.objects.bulk_create(
            [
                # The purpose an EUDR file needs (``farmers.consent.EUDR_PURPOSE``).
                Consent(household=h, signed_on=today, purposes=["registry", eudr.SHARING_PURPOSE])
                for h in households
            ],
            batch_size=2000,
        )
        Delivery.objects.bulk_create(
            [
                Delivery(
                    contract=contract,
                    household=h,
                    buyer=buyer,
                    district_id=h.district_id,
                    program_id=h.program_id,
                    delivered_on=date(2026, 6, 1),
                    weight_kg=Decimal("100"),
                    quality_grade="a",
                    price_pen_per_kg=Decimal("9.50"),
                    price_pen=Decimal("9.50"),
                    amount_pen=Decimal("950"),
                    status=DeliveryStatus.ACCEPTED,
                )
                for h in households
            ],
            batch_size=2000,
        )
        Plot.objects.filter(household_id__in=ids).update(is_active=False)
        Plot.objects.bulk_create([_plot(h, n) for n, h in enumerate(households)], batch_size=1000)
        built, shape, timings = _timed_file(contract, repeat)
        best = min(timings)
        write(
            f"EUDR file of a producer organisation's contract with {members} delivering members "
            f"({len(built.household_ids)} shown; {shape}): "
            f"first {timings[0]:.3f} s, best of {repeat}: {best:.3f} s"
        )
        transaction.set_rollback(True)
    if len(built.household_ids) != members:
        # A file missing members times less than the benchmark claims: say so, loudly.
        raise RuntimeError(f"Only {len(built.household_ids)} of {members} members in the file.")
    return best
