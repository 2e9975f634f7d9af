"""Helpers for the transition-engine tests: households with evidence written straight to the
tables (fast, valid by construction) and a test evidence provider."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone

from farmers.choices import HouseholdStatus, Stage, VerificationStatus
from farmers.models import Agreement, Consent, Household, Verification
from farmers.transition import evidence as evidence_module
from farmers.transition.evidence import Fact
from farmers.transition.rules import HouseholdEvidence
from registry.models import Program

_codes = itertools.count(1)
PICHARI = "080910"


def make_household(
    program: Program,
    case: HouseholdEvidence | None = None,
    *,
    district: str = PICHARI,
    stage: str = Stage.ENROLLED,
    hid: uuid.UUID | None = None,
) -> Household:
    """A household (and its agreements and confirmed visits) from a rules-table case."""
    case = case or HouseholdEvidence(household_id=None, registered_on=date(2023, 1, 10))
    household = Household.objects.create(
        id=hid or uuid.uuid4(),
        code=f"HH-T{next(_codes):08d}",
        program=program,
        district_id=district,
        status=HouseholdStatus.ACTIVE if case.active else HouseholdStatus.PENDING_REVIEW,
        stage=stage,
        head_name="Juana Quispe Huamán",
    )
    Household.objects.filter(pk=household.pk).update(
        # Midday in Lima: the engine reads the registration date in local time, so keeping
        # the wall-clock time of ``now`` would shift it a day between 19:00 and 24:00 Lima.
        created_at=timezone.make_aware(datetime.combine(case.registered_on, time(12)))
    )
    if case.consent:
        Consent.objects.create(
            household=household, signed_on=case.registered_on, purposes=["registry"]
        )
    add_evidence(household, agreements=case.agreements, visits=case.visits)
    return household


def add_evidence(
    household: Household, *, agreements: Sequence[date] = (), visits: Sequence[Any] = ()
) -> None:
    """Agreements and confirmed visits (``rules.Visit``) for ``household``."""
    Agreement.objects.bulk_create(
        Agreement(household=household, signed_on=on, coca_ha_committed=Decimal("1"))
        for on in agreements
    )
    Verification.objects.bulk_create(
        Verification(
            household=household,
            visited_on=v.on,
            method="field_visit",
            coca_ha=v.coca_ha,
            licit_crops=[{"crop": "cacao", "ha": str(v.licit_ha)}] if v.licit_ha else [],
            status=VerificationStatus.CONFIRMED,
        )
        for v in visits
    )


class FakeProvider:
    """An evidence provider answering from a dict; counts its calls (one per batch)."""

    def __init__(self) -> None:
        self.facts: dict[uuid.UUID, list[Fact]] = {}
        self.calls = 0

    def add(self, household_id: uuid.UUID, facts: Sequence[Fact]) -> None:
        self.facts.setdefault(household_id, []).extend(
            Fact(household_id, f.kind, f.on, f.ref, f.status, f.until, f.quantity, f.value_pen)
            for f in facts
        )

    def __call__(self, household_ids: Sequence[uuid.UUID], as_of: date) -> list[Fact]:
        self.calls += 1
        wanted = set(household_ids)
        return [f for hid, facts in self.facts.items() if hid in wanted for f in facts]


@contextmanager
def provider() -> Iterator[FakeProvider]:
    """Register a fake provider as ``"test"`` for the duration of the block."""
    fake = FakeProvider()
    saved = evidence_module.providers()
    evidence_module.register_provider("test", fake)
    try:
        yield fake
    finally:
        evidence_module._providers.clear()
        evidence_module._providers.update(saved)
