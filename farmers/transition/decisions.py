"""People's decisions as evidence: the provider that hands the engine programme staff's
decisions on exclusion proposals (``exclusion_confirmed`` / ``exclusion_dismissed`` facts,
``ref`` = the day of the relapse that triggered the proposal), in one query per batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from uuid import UUID

from django.db.models.functions import TruncDate

from farmers.choices import ExclusionStatus

from .evidence import EXCLUSION_CONFIRMED, EXCLUSION_DISMISSED, Fact, batch_q

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
