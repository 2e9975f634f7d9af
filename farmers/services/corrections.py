"""Corrections of confirmed visits (maker–checker): a confirmed visit is never edited in place;
a correction records the field, old → new value and why; a second person (a reviewer in the
area, not who proposed it) approves it — then it is applied to the visit with a change record
and the engine recomputes — or rejects it (``workflow.CORRECTION_MACHINE``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import Conflict, NotFound, PermissionDenied
from registry.history import change_record
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import CorrectableField, VerificationStatus
from ..models import Verification, VisitCorrection
from ..transition import recompute_on_commit
from ..workflow import CORRECTION_MACHINE, MAKER_CHECKER
from .common import _need_review_reason, _record_decision


def _clean_value(field: str, value: Any) -> str:
    if field == CorrectableField.COCA_HA:
        return str(
            clean_decimal(value, "value", max_value=Decimal("1000")).quantize(Decimal("0.0001"))
        )
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise field_error("value", _("Enter a valid date (YYYY-MM-DD)."), "invalid") from None


@transaction.atomic
def correction_propose(
    *, actor: Actor, verification: Any, field: str, value: Any, reason: str, channel: str = "api"
) -> VisitCorrection:
    """Propose a correction of a confirmed visit (households:write in the area)."""
    visit = (
        Verification.objects.select_for_update()
        .filter(policies.verification_q(actor, Scope.HOUSEHOLDS_WRITE))
        .filter(pk=getattr(verification, "pk", verification))
        .first()
    )
    if visit is None:
        raise NotFound()
    if visit.status != VerificationStatus.CONFIRMED:
        raise Conflict(
            _("Only a confirmed visit is corrected; change a pending visit by reviewing it."),
            code="visit_not_confirmed",
            attr="field",
        )
    field = clean_choice(field, CorrectableField, "field")
    if not (reason or "").strip():
        raise field_error("reason", _("Give the reason."), "required")
    new = _clean_value(field, value)
    old = str(getattr(visit, field))
    if field == CorrectableField.COCA_HA:
        old = str(Decimal(old).quantize(Decimal("0.0001")))
    if new == old:
        raise field_error("value", _("The new value is the same as the old one."), "unchanged")
    correction = VisitCorrection.objects.create(
        verification=visit,
        household_id=visit.household_id,
        field=field,
        old_value=old,
        new_value=new,
        reason=reason.strip(),
        **actor.stamp(),
    )
    change_record(
        instance=correction,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"verification": str(visit.pk), field: [old, new]},
        channel=channel,
    )
    return correction


def _lock(actor: Actor, record: Any) -> VisitCorrection:
    locked = (
        VisitCorrection.objects.select_for_update()
        .select_related("household", "verification")
        .filter(policies.household_q(actor, prefix="household__"))
        .filter(pk=getattr(record, "pk", record))
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _maker_checker(step: Step[VisitCorrection]) -> None:
    if policies.made_by(cast(Actor, step.actor), step.instance):
        raise PermissionDenied(
            _("You proposed this correction: another person must approve it."),
            code="maker_checker",
        )


def _apply(step: Step[VisitCorrection]) -> None:
    step.data["note"] = step.data.get("reason", "")
    _record_decision(step)
    correction = step.instance
    if step.to != "approved":
        return
    visit = Verification.objects.select_for_update().get(pk=correction.verification_id)
    value: Any = correction.new_value
    if correction.field == CorrectableField.COCA_HA:
        value = Decimal(value)
    else:
        value = date.fromisoformat(value)
    setattr(visit, correction.field, value)
    visit.save(update_fields=[correction.field])
    change_record(
        instance=visit,
        action=ChangeAction.UPDATE,
        actor=step.actor,
        changes={
            correction.field: [correction.old_value, correction.new_value],
            "correction": str(correction.pk),
        },
        channel=step.channel,
    )


CORRECTION_FLOW: Flow[VisitCorrection] = Flow(
    machine=CORRECTION_MACHINE,
    lock=_lock,
    parties=lambda step: policies.reviewer_parties(
        cast(Actor, step.actor), step.instance.household, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not review visits."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _maker_checker},
    apply=_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
)


def correction_transition(
    *,
    actor: Actor,
    correction: Any,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    channel: str = "api",
) -> VisitCorrection:
    """A second person approves (applied to the visit, recomputed) or rejects a correction."""
    return transition(
        CORRECTION_FLOW,
        actor=actor,
        record=correction,
        to=to,
        data={"reason": reason},
        expected_version=expected_version,
        channel=channel,
    )
