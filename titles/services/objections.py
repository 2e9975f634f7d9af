"""Objections filed during a title file's public notice, and their decisions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.exceptions import Conflict, InvalidTransition, NotFound
from registry.history import change_record
from registry.services import field_error
from registry.workflow import apply_move, system_step

from .. import policies
from ..choices import ObjectionDecision
from ..models import Objection
from .transitions import TITLE_FLOW, S, locked_application


@transaction.atomic
def objection_file(
    *,
    actor: Actor,
    application: Any,
    objector_name: str,
    grounds: str,
    channel: str = "api",
    today: date | None = None,
) -> Objection:
    """Record an objection filed during the public notice; the file moves to ``objected``."""
    today = today or timezone.localdate()
    locked = locked_application(actor, application)
    policies.require_title_application(actor, locked, "object")
    errors: dict[str, list[ValidationError]] = {}
    name = " ".join((objector_name or "").split())
    if not name:
        errors["objector_name"] = [ValidationError(_("Name the objector."), code="required")]
    if not (grounds or "").strip():
        errors["grounds"] = [ValidationError(_("State the grounds."), code="required")]
    if errors:
        raise ValidationError(errors)
    if (
        locked.status not in (S.PUBLIC_NOTICE, S.OBJECTED)
        or locked.notice_starts_on is None
        or locked.notice_ends_on is None
        or not locked.notice_starts_on <= today <= locked.notice_ends_on
    ):
        raise Conflict(
            _("Objections can only be filed while the public notice is open."),
            code="notice_closed",
        )
    objection = Objection.objects.create(
        application=locked,
        objector_name=name[:200],
        grounds=grounds.strip(),
        filed_on=today,
        **actor.stamp(),
    )
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"objection": [None, str(objection.pk)]},
        channel=channel,
    )
    if locked.status == S.PUBLIC_NOTICE:
        note = _("Objection filed by %(name)s.") % {"name": objection.objector_name}
        step = system_step(
            TITLE_FLOW,
            actor=actor,
            instance=locked,
            to=S.OBJECTED,
            data={"note": note},
            channel=channel,
            today=today,
        )
        apply_move(TITLE_FLOW, step)
    return objection


@transaction.atomic
def objection_decide(
    *,
    actor: Actor,
    application: Any,
    objection_id: Any,
    decision: str,
    note: str,
    channel: str = "api",
) -> Objection:
    """Decide an objection: ``upheld`` (the file will be rejected) or ``dismissed``."""
    locked = locked_application(actor, application)
    policies.require_title_application(actor, locked, "decide")
    objection = (
        Objection.objects.select_for_update().filter(pk=objection_id, application=locked).first()
    )
    if objection is None:
        raise NotFound()
    choices = [ObjectionDecision.UPHELD, ObjectionDecision.DISMISSED]
    if objection.decision != ObjectionDecision.PENDING:
        raise InvalidTransition(objection.decision, decision, [])
    if decision not in choices:
        raise InvalidTransition(objection.decision, decision, choices)
    if not (note or "").strip():
        raise field_error("note", _("Explain the decision in a note."), "required")
    objection.decision = decision
    objection.decision_note = note.strip()
    objection.decided_on = timezone.localdate()
    objection.save()
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"objection": [str(objection.pk), decision]},
        channel=channel,
    )
    return objection
