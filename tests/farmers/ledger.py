"""A small, exactly known transition ledger for indicator and dashboard tests (synthetic rows:
indicators only read households' stage, district, programme and status, the ledger and support)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household, StageChange, Support
from registry.choices import OrganizationKind
from registry.models import Organization, Program
from tests.factories import OrganizationFactory, ProgramFactory

PICHARI, SIVIA, KIMBIRI = "080910", "050407", "080907"
_seq = itertools.count(1)


def household(
    program: Program,
    district: str,
    stage: str = Stage.ENROLLED,
    created: date = date(2026, 1, 10),
    status: str = HouseholdStatus.ACTIVE,
) -> Household:
    """A synthetic household row (indicators only read these columns)."""
    n = next(_seq)
    return Household.objects.create(
        code=f"HH-T{n:08d}",
        program=program,
        district_id=district,
        stage=stage,
        status=status,
        head_name=f"Persona Secreta {n}",
        created_at=timezone.make_aware(datetime.combine(created, datetime.min.time())),
    )


def many_households(program: Program, district: str, count: int, prefix: str) -> None:
    """``count`` active, enrolled households at once (for query budgets that must not grow)."""
    Household.objects.bulk_create(
        [
            Household(
                code=f"HH-{prefix}{n:06d}",
                program=program,
                district_id=district,
                stage=Stage.ENROLLED,
                status=HouseholdStatus.ACTIVE,
                head_name="x",
            )
            for n in range(count)
        ]
    )


def change(h: Household, before: str, after: str, on: date) -> None:
    StageChange.objects.create(
        household=h,
        from_stage=before,
        to_stage=after,
        effective_on=on,
        reason="test",
        district_id=h.district_id,
        program_id=h.program_id,
    )


def support(h: Household, cost: str, source: Organization | None) -> None:
    Support.objects.create(
        household=h,
        kind="inputs",
        cost_pen=Decimal(cost),
        funding_source=source,
        given_on=h.created_at.date(),
    )


def seed_ledger(program: Program) -> dict[str, Any]:
    """Pichari/pirdais: 6 families, all committed in Feb, 5 coca-free in Apr, 2 of them relapsed
    in Jun. Sivia/pirdais: 4 enrolled in March. Pichari/otro: 5 committed in March. Plus one
    rejected family (never counted)."""
    usaid = OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)
    other = ProgramFactory.create(code="otro")  # run by another agency
    pichari = []
    for n in range(6):
        h = household(program, PICHARI)
        change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 2, 15))
        if n >= 1:
            change(h, Stage.COMMITTED, Stage.COCA_FREE, date(2026, 4, 10))
        if n >= 4:
            change(h, Stage.COCA_FREE, Stage.RELAPSED, date(2026, 6, 20))
        h.stage = [Stage.COMMITTED, *[Stage.COCA_FREE] * 3, *[Stage.RELAPSED] * 2][n]
        h.save(update_fields=["stage"])
        support(h, "100.00", usaid)
        pichari.append(h)
    for _n in range(4):
        h = household(program, SIVIA, created=date(2026, 3, 5))
        support(h, "10.00", None)
    for _n in range(5):
        h = household(other, PICHARI, stage=Stage.COMMITTED)
        change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 3, 1))
        support(h, "200.00", usaid)
    rejected = household(program, PICHARI, status=HouseholdStatus.REJECTED, stage=Stage.COCA_FREE)
    support(rejected, "999.00", usaid)
    return {"pichari": pichari, "usaid": usaid, "other": other}


def seed_titles_and_sales(program: Program, other: Program) -> dict[str, Any]:
    """Title files, contracts and deliveries written directly (as the seeders do), for the
    dashboard's land-title and sales cards.

    pirdais: in Pichari a file submitted 10/03/2026, title issued 01/06/2026, registered
    11/07/2026 (123 days), one in legal review (submitted 01/04/2026) and one in public notice
    (submitted 02/05/2026); in Sivia one submitted 01/02/2026 and rejected. A file of ``otro``
    (surveyed) is never shown to pirdais' people. Sales: a Pichari cacao (dry beans) contract,
    active, with 100.25 kg accepted (S/ 954.75) and 200 kg paid (S/ 1,900.00), 50 kg rejected
    and 30 kg only recorded; a Sivia coffee (parchment) contract, completed, with 46 kg accepted
    (S/ 500.00); and an ``otro`` contract with 1,000 kg accepted. The records hang on the
    households of :func:`seed_ledger` (call it first)."""
    from farmers.models import Plot
    from markets.models import Contract, Delivery
    from titles.models import TitleApplication

    authority = Organization.objects.filter(code="dra-cusco").first() or (
        OrganizationFactory.create(
            code="dra-cusco", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
        )
    )
    buyer = Organization.objects.filter(code="coop-pangoa").first() or (
        OrganizationFactory.create(code="coop-pangoa", kind=OrganizationKind.BUYER)
    )

    def existing(prog: Program, district: str) -> Household:
        # A household of ``seed_ledger``: the household figures stay as they were.
        found = Household.objects.filter(
            program=prog, district_id=district, status=HouseholdStatus.ACTIVE
        ).order_by("code")
        return found.first() or household(prog, district)

    def title_file(prog: Program, district: str, status: str, **dates: Any) -> None:
        h = existing(prog, district)
        plot = Plot.objects.create(
            household=h,
            name="Chacra",
            tenure="possession",
            geometry={},
            area_ha=Decimal("1.00"),
            min_lon=0,
            min_lat=0,
            max_lon=0,
            max_lat=0,
        )
        TitleApplication.objects.create(
            household=h,
            plot=plot,
            authority=authority,
            district_id=district,
            program=prog,
            status=status,
            partida_number="11012345" if status == "registered" else "",
            rejection_reason="litigation" if status == "rejected" else "",
            **dates,
        )

    title_file(
        program,
        PICHARI,
        "registered",
        submitted_on=date(2026, 3, 10),
        title_issued_on=date(2026, 6, 1),
        registered_on=date(2026, 7, 11),
    )
    title_file(program, PICHARI, "legal_review", submitted_on=date(2026, 4, 1))
    title_file(program, PICHARI, "public_notice", submitted_on=date(2026, 5, 2))
    title_file(program, SIVIA, "rejected", submitted_on=date(2026, 2, 1))
    title_file(other, PICHARI, "surveyed", submitted_on=date(2026, 3, 1))

    def contract(prog: Program, district: str, form: str, status: str) -> Contract:
        h = existing(prog, district)
        return Contract.objects.create(
            household=h,
            buyer=buyer,
            district_id=district,
            program=prog,
            crop="coffee" if form.startswith("coffee") else "cacao",
            product_form=form,
            season_start=date(2026, 1, 1),
            season_end=date(2026, 12, 31),
            volume_kg=Decimal("5000"),
            price_pen_per_kg=Decimal("9.50"),
            price_pen=Decimal("9.50"),
            status=status,
        )

    def delivery(c: Contract, kg: str, amount: str, on: date, status: str) -> None:
        assert c.household_id is not None
        Delivery.objects.create(
            contract=c,
            household_id=c.household_id,
            buyer=buyer,
            district_id=c.district_id,
            program_id=c.program_id,
            delivered_on=on,
            weight_kg=Decimal(kg),
            quality_grade="a",
            price_pen_per_kg=Decimal("9.50"),
            price_pen=Decimal("9.50"),
            amount_pen=Decimal(amount),
            status=status,
            rejection_reason="moisture" if status == "rejected" else "",
            paid_on=on if status == "paid" else None,
            paid_amount_pen=Decimal(amount) if status == "paid" else None,
        )

    cacao = contract(program, PICHARI, "cacao_dry", "active")
    delivery(cacao, "100.25", "954.75", date(2026, 5, 10), "accepted")
    delivery(cacao, "200.00", "1900.00", date(2026, 6, 10), "paid")
    delivery(cacao, "50.00", "475.00", date(2026, 6, 12), "rejected")
    delivery(cacao, "30.00", "285.00", date(2026, 6, 14), "recorded")
    coffee = contract(program, SIVIA, "coffee_parchment", "completed")
    delivery(coffee, "46.00", "500.00", date(2026, 4, 1), "accepted")
    elsewhere = contract(other, PICHARI, "cacao_dry", "active")
    delivery(elsewhere, "1000.00", "9500.00", date(2026, 5, 1), "accepted")
    return {"authority": authority, "buyer": buyer}
