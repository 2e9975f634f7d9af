"""Appeals: the family appeals its relapse or an exclusion; programme staff uphold or reject
it with a note (``workflow.APPEAL_MACHINE`` through the kernel's ``registry.workflow``). An
upheld appeal is a fact the engine reads (``farmers.transition.decisions``): the relapse is
overturned, or the exclusion dismissed; the recompute is queued after the commit. An appeal on
nothing (no relapse, no exclusion to appeal) is a 409 on ``kind`` and writes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.exceptions import Conflict, PermissionDenied
from registry.history import change_record
from registry.workflow import Flow, transition

from .. import policies
from ..choices import AppealKind, ExclusionStatus, Stage
from ..models import Appeal, ExclusionProposal, StageChange
from ..transition import recompute_on_commit
from ..workflow import APPEAL_MACHINE
from .common import _household_for_write, _lock_decision, _need_note, _record_decision


def _nothing_to_appeal() -> Conflict:
    return Conflict(
        _("There is no relapse or exclusion of this household to appeal."),
        code="nothing_to_appeal",
        attr="kind",
    )


@transaction.atomic
def appeal_file(
    *,
    actor: Actor,
    household: Any,
    kind: str,
    grounds: str,
    evidence_note: str = "",
    channel: str = "api",
) -> Appeal:
    """File the family's appeal of its current relapse (``kind="relapse"``) or of its exclusion
    (proposed or confirmed). Filed by programme people with households:write in the area."""
    owner = _household_for_write(actor, household)
    stage_change = proposal = None
    if kind == AppealKind.RELAPSE:
        if owner.stage != Stage.RELAPSED:
            raise _nothing_to_appeal()
        stage_change = (
            StageChange.objects.filter(household=owner, to_stage=Stage.RELAPSED)
            .order_by("-id")
            .first()
        )
        relapse_on = owner.stage_since
    else:
        proposal = (
            ExclusionProposal.objects.filter(
                household=owner,
                status__in=[ExclusionStatus.PROPOSED, ExclusionStatus.CONFIRMED],
            )
            .order_by("-relapse_on")
            .first()
        )
        if proposal is None:
            raise _nothing_to_appeal()
        relapse_on = proposal.relapse_on
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                household=owner,
                kind=kind,
                relapse_on=relapse_on,
                stage_change=stage_change,
                proposal=proposal,
                grounds=grounds.strip(),
                evidence_note=evidence_note.strip(),
                **actor.stamp(),
            )
    except IntegrityError:
        raise Conflict(
            _("An appeal of this is already waiting for a decision."),
            code="appeal_pending",
            attr="kind",
        ) from None
    change_record(
        instance=appeal,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "kind": kind, "relapse_on": relapse_on.isoformat()},
        channel=channel,
    )
    return appeal


APPEAL_FLOW: Flow[Appeal] = Flow(
    machine=APPEAL_MACHINE,
    lock=lambda actor, record: _lock_decision(Appeal, actor, record),
    parties=lambda step: policies.decision_parties(
        cast(Actor, step.actor), step.instance.household
    ),
    denied=lambda step: PermissionDenied(
        gettext_lazy("Only the programme's staff decide appeals."), code="not_programme_staff"
    ),
    fields={"note": _need_note},
    apply=_record_decision,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
)


def appeal_transition(
    *,
    actor: Actor,
    appeal: Any,
    to: str,
    note: str = "",
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> Appeal:
    """Programme staff uphold or reject an appeal, with the decision note."""
    return transition(
        APPEAL_FLOW,
        actor=actor,
        record=appeal,
        to=to,
        data={"note": note},
        expected_version=expected_version,
        channel=channel,
        today=today,
    )
