"""Suspension: while a household is ``relapsed`` or ``excluded``, new support, new contracts
(and their activation) and deliveries are refused with 409 ``household_suspended``, unless
programme staff of the programme's agency override with a recorded reason
(``farmers.policies.require_suspension_override``). Markets' services call the same check."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.exceptions import Conflict

from .. import policies
from ..choices import Stage
from ..models import Household

SUSPENDED_STAGES = frozenset({Stage.RELAPSED, Stage.EXCLUDED})


def is_suspended(household: Household) -> bool:
    """Whether new support, contracts and deliveries are suspended for ``household``."""
    return household.stage in SUSPENDED_STAGES


def suspension_check(
    actor: Actor | None, household: Household, override_reason: Any = "", *, attr: str
) -> str:
    """Refuse a new item for a suspended household (409 ``household_suspended`` on ``attr``)
    unless programme staff give an ``override_reason``; return the reason to record ("" when
    there is nothing to override). Only programme staff may send a reason at all (403)."""
    reason = str(override_reason or "").strip()
    if reason:
        policies.require_suspension_override(actor, household)
    if not is_suspended(household):
        return ""
    if not reason:
        raise Conflict(
            _(
                "New support, contracts and deliveries are suspended for this household; "
                "programme staff may override with a reason."
            ),
            code="household_suspended",
            attr=attr,
        )
    return reason
