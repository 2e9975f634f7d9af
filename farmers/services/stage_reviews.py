"""Stage reviews (the contract's ``stage-reviews/``): filing the family's appeal of what its
household is in now, for callers that do not say whether it is the relapse or the exclusion."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from registry.actors import Actor

from ..choices import AppealKind, Stage
from ..models import Appeal
from .appeals import appeal_file
from .common import _household_for_write


@transaction.atomic
def appeal_file_now(
    *,
    actor: Actor,
    household: Any,
    grounds: str,
    kind: str | None = None,
    evidence_note: str = "",
    channel: str = "api",
) -> Appeal:
    """``appeal_file`` with ``kind`` defaulting to what the household is in now: its exclusion
    when it is ``excluded``, else its relapse (``nothing_to_appeal`` when it is not relapsed
    either). The household is locked first (404 outside the actor's area)."""
    if kind is None:
        owner = _household_for_write(actor, household)
        kind = AppealKind.EXCLUSION if owner.stage == Stage.EXCLUDED else AppealKind.RELAPSE
    return appeal_file(
        actor=actor,
        household=household,
        kind=kind,
        grounds=grounds,
        evidence_note=evidence_note,
        channel=channel,
    )
