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
