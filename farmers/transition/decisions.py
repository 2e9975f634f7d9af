"""People's decisions as evidence: the providers that hand the engine programme staff's
decisions on exclusion proposals (``exclusion_confirmed`` / ``exclusion_dismissed`` facts) and
upheld appeals (``relapse_overturned``, or ``exclusion_dismissed`` for an exclusion), ``ref``
= the ISO day of the relapse concerned; one query per batch each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from uuid import UUID

from django.db.models.functions import TruncDate

from farmers.choices import AppealKind, AppealStatus, ExclusionStatus

from .evidence import (
    EXCLUSION_CONFIRMED,
    EXCLUSION_DISMISSED,
    RELAPSE_OVERTURNED,
    Fact,
    batch_q,
)

KINDS = {
    ExclusionStatus.CONFIRMED: EXCLUSION_CONFIRMED,
    ExclusionStatus.DISMISSED: EXCLUSION_DISMISSED,
}


def decision_facts(household_ids: Sequence[UUID], as_of: date) -> Iterable[Fact]:
    """Decided exclusion proposals of the batch, as facts."""
    from farmers.models import ExclusionProposal

    rows = (
        ExclusionProposal.objects.filter(batch_q(household_ids), status__in=list(KINDS))
        .annotate(on=TruncDate("decided_at"))
        .order_by()
        .values_list("household_id", "status", "on", "relapse_on")
    )
    for household_id, status, on, relapse_on in rows:
        yield Fact(household_id, KINDS[status], on or relapse_on, ref=relapse_on.isoformat())


APPEAL_KINDS = {AppealKind.RELAPSE: RELAPSE_OVERTURNED, AppealKind.EXCLUSION: EXCLUSION_DISMISSED}


def appeal_facts(household_ids: Sequence[UUID], as_of: date) -> Iterable[Fact]:
    """Upheld appeals of the batch, as facts."""
    from farmers.models import Appeal

    rows = (
        Appeal.objects.filter(batch_q(household_ids), status=AppealStatus.UPHELD)
        .annotate(on=TruncDate("decided_at"))
        .order_by()
        .values_list("household_id", "kind", "on", "relapse_on")
    )
    for household_id, kind, on, relapse_on in rows:
        yield Fact(household_id, APPEAL_KINDS[kind], on or relapse_on, ref=relapse_on.isoformat())
