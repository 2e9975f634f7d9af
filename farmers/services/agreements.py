"""Voluntary coca-reduction agreements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import clean_decimal
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.services import field_error

from ..models import Agreement
from ..transition import recompute_on_commit
from .common import _household_for_write, _may_write
from .enrolment import require_not_before_enrolment


@replays_lost_race(Agreement)
@transaction.atomic
def agreement_create(
    *,
    actor: Actor,
    household: Any,
    signed_on: date,
    coca_ha_committed: Any,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Agreement, bool]:
    """Record a voluntary coca-reduction agreement. Idempotent on ``id``."""
    payload = {"household": str(household), "signed_on": signed_on, "coca": str(coca_ha_committed)}
    digest = request_hash(payload)
    existing = replayed(Agreement, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    if signed_on > (today or timezone.localdate()):
        raise field_error("signed_on", _("The date cannot be in the future."), "future_date")
    require_not_before_enrolment(owner, signed_on, "signed_on")
    coca = clean_decimal(coca_ha_committed, "coca_ha_committed", max_value=Decimal("1000"))
    agreement = Agreement.objects.create(
        household=owner,
        signed_on=signed_on,
        coca_ha_committed=coca,
        **actor.stamp(),
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    owner.touch()
    recompute_on_commit([owner.pk])
    change_record(
        instance=agreement,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "signed_on": str(signed_on)},
        channel=channel,
    )
    return agreement, True
