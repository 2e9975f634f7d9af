"""What every farmers write shares: the household locked for a write, the replay check of
idempotent creates, the reason a rejection needs."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import Scope
from registry.exceptions import NotFound
from registry.services import field_error
from registry.workflow import Step

from .. import policies
from ..models import Household, Plot


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


def _plot_for_write(actor: Actor, plot_id: Any) -> Plot:
    """The plot (with its household locked) the actor may record something on, or 404."""
    plot = (
        Plot.objects.filter(pk=plot_id).only("pk", "household_id", "area_ha", "is_active").first()
    )
    if plot is None:
        raise NotFound()
    plot.household = _household_for_write(actor, plot.household_id)
    return plot


def _need_review_reason(step: Step[Any]) -> None:
    if not (step.data.get("reason") or "").strip():
        raise field_error("reason", _("Give the reason."), "required")


def _need_note(step: Step[Any]) -> None:
    if not (step.data.get("note") or "").strip():
        raise field_error("note", _("Give the reason."), "required")


def _record_decision(step: Step[Any]) -> None:
    """A decision about people (an exclusion, an appeal): who decided, when, and the note."""
    record = step.instance
    stamp = cast(Actor, step.actor).stamp("decided")
    record.decided_by = stamp["decided_by"]
    record.decided_by_key = stamp["decided_by_key"]
    record.decided_at = timezone.now()
    record.decision_note = (step.data.get("note") or "").strip()
    if record.decision_note:
        step.changes["note"] = record.decision_note


def _lock_decision(model: Any, actor: Actor, record: Any) -> Any:
    """Lock an exclusion proposal or an appeal the actor may see (coca data), or 404."""
    pk = record.pk if isinstance(record, model) else record
    locked = (
        model.objects.select_for_update()
        .select_related("household")
        .filter(policies.decision_q(actor))
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked
