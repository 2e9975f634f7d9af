"""What every farmers write shares: the household locked for a write, the replay check of
idempotent creates, the reason a rejection needs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import Scope
from registry.exceptions import NotFound
from registry.services import field_error
from registry.workflow import Step

from .. import policies
from ..models import Household


def _may_write(actor: Actor) -> Any:
    """A retried create answers with the stored record only when ``actor`` may write it."""
    return lambda record: policies.record_can(actor, record, "write")


def _household_for_write(
    actor: Actor, household_id: Any, scope: str = Scope.HOUSEHOLDS_WRITE
) -> Household:
    """Lock a household the actor may change (``scope`` in its area), or 404."""
    household = (
        Household.objects.select_for_update()
        .filter(policies.household_q(actor, scope))
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise NotFound()
    return household


def _need_review_reason(step: Step[Any]) -> None:
    if not (step.data.get("reason") or "").strip():
        raise field_error("reason", _("Give the reason."), "required")
