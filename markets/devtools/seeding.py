"""Bulk generation of contracts and deliveries for benchmarks (``seed_deliveries --count N``).

Reuses the households of a programme (``seed_households``) and gives them active contracts with
benchmark buyers, then ``per_contract`` deliveries each: ``recorded``, ``accepted``, ``paid`` or
``rejected``, with amounts computed as the service does (kg × price, half-up to the céntimo) and
the contracts' running totals brought up to date. Set-based: on PostgreSQL one
``INSERT ... SELECT generate_series`` per chunk of contracts; elsewhere (SQLite) the same rows
are built in Python and written with ``bulk_create``. Rows bypass the services on purpose (they
are synthetic and valid by construction); history rows are not written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from farmers.models import Household
from registry.choices import OrganizationKind
from registry.models import Organization, Program

from ..choices import ContractStatus
from ..models import BuyerOffer, Contract, Delivery
from ..services import amount_for, buyer_register

SEASON_START = date(2026, 1, 1)
SEASON_END = date(2026, 12, 31)
MARK = "seed-deliveries"


def bench_buyers(count: int) -> list[Organization]:
    """``bench-buyer-1`` … ``bench-buyer-N`` (valid RUCs), created through the service."""
    from stdnum.pe import ruc as stdnum_ruc

    buyers = []
    for n in range(1, count + 1):
        code = f"bench-buyer-{n}"
        existing = Organization.objects.filter(code=code, kind=OrganizationKind.BUYER).first()
        if existing is None:
            base = f"20{77_000_000 + n:08d}"
            existing, _created = buyer_register(
                actor=None,
                code=code,
                name=f"Benchmark buyer {n}",
                ruc=base + stdnum_ruc.calc_check_digit(base),
                channel="seed",
            )
        buyers.append(existing)
    return buyers


def seed_deliveries(
    *,
    count: int,
    program: Program,
    buyers: list[Organization],
    per_contract: int = 10,
    chunk_contracts: int = 10_000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create ``count`` deliveries on ``ceil(count / per_contract)`` new active contracts of the
    programme's households (several contracts per household when there are too few)."""
    households = Household.objects.filter(program=program).count()
    if households == 0:
        raise ValueError("The programme has no households: run seed_households first.")
    contracts = -(-count // per_contract)
    batch = uuid.uuid4().hex[:8]
    done = 0
    for first in range(0, contracts, chunk_contracts):
        size = min(chunk_contracts, contracts - first)
        deliveries = min(size * per_contract, count - done)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _chunk_postgresql(program, buyers, first, size, deliveries, per_contract, batch)
            else:
                _chunk_portable(program, buyers, first, size, deliveries, per_contract, households)
        done += deliveries
        if progress is not None:
            progress(done, count)
    return done


def _chunk_postgresql(
    program: Program,
    buyers: list[Organization],
    first: int,
    size: int,
    deliveries: int,
    per_contract: int,
    batch: str,
) -> None:
    mark = f"{MARK}:{batch}:{first}"
    buyer_ids = [b.pk for b in buyers]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH hh AS (
                SELECT id, district_id, program_id,
                       row_number() OVER (ORDER BY created_at, id) - 1 AS n
                FROM farmers_household WHERE program_id = %(program)s
            ), total AS (SELECT count(*) AS c FROM hh),
            picks AS (
                SELECT s.i, hh.id, hh.district_id, hh.program_id
                FROM generate_series(%(first)s, %(first)s + %(size)s - 1) AS s(i)
                JOIN total ON true
                JOIN hh ON hh.n = s.i %% total.c
            )
            INSERT INTO markets_contract (
                id, household_id, buyer_id, district_id, program_id, crop, product_form,
                season_start, season_end, volume_kg, price_rule, price_pen_per_kg,
                price_floor_pen_per_kg, price_unit, price_pen, price_floor_pen,
                reference_price_note, quality_terms, certification,
                status, status_reason, signed_on, activated_on, closed_on, delivered_kg,
                accepted_kg, accepted_value_pen, suspension_override, request_hash, version,
                created_at, updated_at
            )
            SELECT gen_random_uuid(), p.id,
                   (%(buyers)s::bigint[])[1 + (p.i %% %(nbuyers)s)],
                   p.district_id, p.program_id,
                   CASE WHEN p.i %% 2 = 0 THEN 'cacao' ELSE 'coffee' END,
                   CASE WHEN p.i %% 2 = 0 THEN 'cacao_dry' ELSE 'coffee_parchment' END,
                   %(start)s, %(end)s, 5000, 'fixed',
                   CASE WHEN p.i %% 2 = 0 THEN 9.50 ELSE 14.20 END,
                   NULL, 'kg', CASE WHEN p.i %% 2 = 0 THEN 9.50 ELSE 14.20 END, NULL,
                   '', '', 'none', 'active', '', %(start)s, %(start)s, NULL, 0, 0, 0, '',
                   %(mark)s, 1,
                   now() - (p.i * interval '7 seconds'), now()
            FROM picks p
            """,
            {
                "program": program.pk,
                "first": first,
                "size": size,
                "buyers": buyer_ids,
                "nbuyers": len(buyer_ids),
                "start": SEASON_START,
                "end": SEASON_END,
                "mark": mark,
            },
        )
        # The programme offered each family to its buyer (buyers reach offered families only).
        cursor.execute(
            """
            INSERT INTO markets_buyeroffer (
                id, household_id, buyer_id, district_id, program_id, note, offered_at
            )
            SELECT gen_random_uuid(), household_id, buyer_id, min(district_id), min(program_id),
                   '', min(created_at)
            FROM markets_contract WHERE request_hash = %(mark)s
            GROUP BY household_id, buyer_id
            ON CONFLICT (household_id, buyer_id) WHERE withdrawn_at IS NULL DO NOTHING
            """,
            {"mark": mark},
        )
        # Accepted and paid deliveries count as confirmed by the programme (evidence).
        cursor.execute(
            """
            INSERT INTO markets_delivery (
                id, contract_id, household_id, buyer_id, district_id, program_id, delivered_on,
                weight_kg, quality_grade, price_pen_per_kg, price_unit, price_pen,
                price_reason, price_below_contract, amount_pen, receipt_reference,
                status, exceeds_volume, rejection_reason, note, payment_reference, paid_on,
                paid_amount_pen, confirmed_at, suspension_override, request_hash, version,
                created_at, updated_at
            )
            SELECT gen_random_uuid(), c.id, c.household_id, c.buyer_id, c.district_id,
                   c.program_id, d.day, d.kg,
                   (ARRAY['a', 'b', 'c'])[1 + g %% 3], c.price_pen_per_kg, c.price_unit,
                   c.price_pen, '', false, round(d.kg * c.price_pen, 2), 'GR-' || g,
                   d.status, false,
                   CASE WHEN d.status = 'rejected' THEN 'moisture' ELSE '' END, '',
                   CASE WHEN d.status = 'paid' THEN 'TRF-' || g ELSE '' END,
                   CASE WHEN d.status = 'paid' THEN d.day + 7 END,
                   CASE WHEN d.status = 'paid' THEN round(d.kg * c.price_pen, 2) END,
                   CASE WHEN d.status IN ('accepted', 'paid') THEN c.created_at END,
                   '', '', 1, c.created_at + g * interval '1 hour', c.created_at
            FROM markets_contract c
            CROSS JOIN generate_series(1, %(per)s) AS g
            CROSS JOIN LATERAL (
                SELECT %(start)s::date + ((g * 29 + abs(hashtext(c.id::text)) %% 20) %% 330)
                           AS day,
                       (40 + (g * 37 + abs(hashtext(c.id::text))) %% 400)::numeric(12, 2) AS kg,
                       CASE (g + abs(hashtext(c.id::text)) / 20) %% 10
                           WHEN 0 THEN 'rejected'
                           WHEN 1 THEN 'recorded'
                           WHEN 2 THEN 'recorded'
                           WHEN 3 THEN 'paid'
                           WHEN 4 THEN 'paid'
                           WHEN 5 THEN 'paid'
                           ELSE 'accepted'
                       END AS status
            ) AS d
            WHERE c.request_hash = %(mark)s
            ORDER BY c.created_at, g
            LIMIT %(limit)s
            """,
            {"per": per_contract, "start": SEASON_START, "mark": mark, "limit": deliveries},
        )
        cursor.execute(
            """
            UPDATE markets_contract c
            SET delivered_kg = t.delivered, accepted_kg = t.accepted, accepted_value_pen = t.value
            FROM (
                SELECT contract_id,
                       coalesce(sum(weight_kg) FILTER (WHERE status <> 'rejected'), 0) AS delivered,
                       coalesce(sum(weight_kg) FILTER (WHERE status IN ('accepted', 'paid')), 0)
                           AS accepted,
                       coalesce(sum(amount_pen) FILTER (WHERE status IN ('accepted', 'paid')), 0)
                           AS value
                FROM markets_delivery
                WHERE contract_id IN (SELECT id FROM markets_contract WHERE request_hash = %(mark)s)
                GROUP BY contract_id
            ) AS t
            WHERE c.id = t.contract_id
            """,
            {"mark": mark},
        )
        cursor.execute(
            "UPDATE markets_contract SET request_hash = '' WHERE request_hash = %(mark)s",
            {"mark": mark},
        )


def _status_for(g: int) -> str:
    if g % 10 == 0:
        return "rejected"
    if g % 10 in (1, 2):
        return "recorded"
    if g % 10 in (3, 4, 5):
        return "paid"
    return "accepted"


def _chunk_portable(
    program: Program,
    buyers: list[Organization],
    first: int,
    size: int,
    deliveries: int,
    per_contract: int,
    households: int,
) -> None:
    rows = list(
        Household.objects.filter(program=program)
        .order_by("created_at", "id")
        .values_list("id", "district_id", "program_id")
    )
    now = timezone.now()
    contracts: list[Contract] = []
    new_deliveries: list[Delivery] = []
    left = deliveries
    for i in range(first, first + size):
        household_id, district_id, program_id = rows[i % households]
        cacao = i % 2 == 0
        price = Decimal("9.50") if cacao else Decimal("14.20")
        contract = Contract(
            household_id=household_id,
            buyer_id=buyers[i % len(buyers)].pk,
            district_id=district_id,
            program_id=program_id,
            crop="cacao" if cacao else "coffee",
            product_form="cacao_dry" if cacao else "coffee_parchment",
            season_start=SEASON_START,
            season_end=SEASON_END,
            volume_kg=Decimal("5000"),
            price_pen_per_kg=price,
            price_pen=price,
            status=ContractStatus.ACTIVE,
            signed_on=SEASON_START,
            activated_on=SEASON_START,
            created_at=now - timedelta(seconds=7 * i),
            updated_at=now,
        )
        seed = contract.pk.int % 1000
        for g in range(1, per_contract + 1):
            if left == 0:
                break
            left -= 1
            kg = Decimal(40 + (g * 37 + seed) % 400)
            status = _status_for(g + seed // 20)
            day = SEASON_START + timedelta(days=(g * 29 + seed % 20) % 330)
            amount = amount_for(kg, price)
            new_deliveries.append(
                Delivery(
                    contract=contract,
                    household_id=household_id,
                    buyer_id=contract.buyer_id,
                    district_id=district_id,
                    program_id=program_id,
                    delivered_on=day,
                    weight_kg=kg,
                    quality_grade="abc"[g % 3],
                    price_pen_per_kg=price,
                    price_pen=price,
                    amount_pen=amount,
                    receipt_reference=f"GR-{g}",
                    status=status,
                    rejection_reason="moisture" if status == "rejected" else "",
                    payment_reference=f"TRF-{g}" if status == "paid" else "",
                    paid_on=day + timedelta(days=7) if status == "paid" else None,
                    paid_amount_pen=amount if status == "paid" else None,
                    confirmed_at=now if status in ("accepted", "paid") else None,
                    created_at=contract.created_at + timedelta(hours=g),
                    updated_at=contract.created_at,
                )
            )
            if status != "rejected":
                contract.delivered_kg += kg
            if status in ("accepted", "paid"):
                contract.accepted_kg += kg
                contract.accepted_value_pen += amount
        contracts.append(contract)
    Contract.objects.bulk_create(contracts, batch_size=2000)
    Delivery.objects.bulk_create(new_deliveries, batch_size=2000)
    # The programme offered each family to its buyer (buyers reach offered families only).
    pairs = {(c.household_id, c.buyer_id): c for c in contracts}
    live = set(
        BuyerOffer.objects.filter(
            household_id__in={h for h, _b in pairs}, withdrawn_at__isnull=True
        ).values_list("household_id", "buyer_id")
    )
    BuyerOffer.objects.bulk_create(
        [
            BuyerOffer(
                household_id=c.household_id,
                buyer_id=c.buyer_id,
                district_id=c.district_id,
                program_id=c.program_id,
                offered_at=c.created_at,
            )
            for pair, c in pairs.items()
            if pair not in live and c.household_id is not None
        ],
        batch_size=2000,
    )


__all__: list[Any] = ["bench_buyers", "seed_deliveries"]
