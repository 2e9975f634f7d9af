"""Support given to families (its cost feeds cost-per-result)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import clean_choice, clean_decimal
from registry.history import change_record
from registry.models import Organization
from registry.services import field_error

from ..choices import SupportKind
from ..models import Support
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
    description: str = "",
    override_reason: str = "",
    channel: str = "api",
) -> Support:
    """Record something the programme gave the family (its cost feeds cost-per-result).

    Refused (409 ``household_suspended``) while the household is relapsed or excluded, unless
    programme staff give an ``override_reason`` (kept on the row and in the change record)."""
    owner = _household_for_write(actor, household)
    override = suspension_check(actor, owner, override_reason, attr="household")
    kind = clean_choice(kind, SupportKind, "kind")
    require_not_before_enrolment(owner, given_on, "given_on")
    cost = clean_decimal(cost_pen, "cost_pen", max_value=Decimal("10000000"))
    source = None
    if funding_source:
        source = Organization.objects.filter(code=funding_source).first()
        if source is None:
            raise field_error("funding_source", _("Unknown organization code."), "does_not_exist")
    support = Support.objects.create(
        household=owner,
        kind=kind,
        cost_pen=cost.quantize(Decimal("0.01")),
        given_on=given_on,
        funding_source=source,
        description=description[:250],
        suspension_override=override,
    )
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
