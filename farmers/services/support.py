"""Support given to families (its cost feeds cost-per-result)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import clean_choice, clean_decimal, typed_number
from registry.funding import funding_resolve
from registry.history import change_record

from ..choices import SupportKind
from ..models import Support
from ..reporting import summaries
from .common import _household_for_write
from .enrolment import require_not_before_enrolment
from .suspension import suspension_check


@transaction.atomic
def support_record(
    *,
    actor: Actor,
    household: Any,
    kind: str,
    cost_pen: Any,
    given_on: date,
    funding_source: str | None = None,
    funding_agreement: str | None = None,
    description: str = "",
    override_reason: str = "",
    channel: str = "api",
) -> Support:
    """Record something the programme gave the family (its cost feeds cost-per-result).

    Its funding source is a funder organization; a funding agreement, when given, must be the
    funder's, fund the household's programme and hold ``given_on`` in its period.
    Refused (409 ``household_suspended``) while the household is relapsed or excluded, unless
    programme staff give an ``override_reason`` (kept on the row and in the change record)."""
    owner = _household_for_write(actor, household)
    override = suspension_check(actor, owner, override_reason, attr="household")
    kind = clean_choice(kind, SupportKind, "kind")
    require_not_before_enrolment(owner, given_on, "given_on")
    cost = clean_decimal(typed_number(cost_pen), "cost_pen", max_value=Decimal("10000000"))
    funding = funding_resolve(
        source=funding_source,
        agreement=funding_agreement,
        on=given_on,
        program_id=owner.program_id,
        date_attr="given_on",
    )
    support = Support.objects.create(
        household=owner,
        kind=kind,
        cost_pen=cost.quantize(Decimal("0.01")),
        given_on=given_on,
        funding_source=funding.source,
        funding_agreement=funding.agreement,
        description=description[:250],
        suspension_override=override,
    )
    summaries.support_added(support, owner)
    change_record(
        instance=support,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "household": owner.code,
            "kind": kind,
            "cost_pen": str(support.cost_pen),
            **({"override_reason": override} if override else {}),
        },
        channel=channel,
    )
    return support
