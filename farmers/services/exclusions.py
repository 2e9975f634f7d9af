"""Exclusion proposals: the transition engine proposes an exclusion (the household stays
``relapsed``); programme staff of the programme's agency confirm or dismiss it
(``workflow.EXCLUSION_MACHINE`` through the kernel's ``registry.workflow.transition``). The
decision is a fact the engine reads (``farmers.transition.decisions``): a confirmed proposal
excludes the household, a dismissed one leaves it relapsed."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.exceptions import NotFound, PermissionDenied
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies
from ..models import ExclusionProposal
from ..transition import recompute_on_commit
from ..workflow import EXCLUSION_MACHINE


def _lock(actor: Actor, proposal: Any) -> ExclusionProposal:
    pk = proposal.pk if isinstance(proposal, ExclusionProposal) else proposal
    locked = (
        ExclusionProposal.objects.select_for_update()
        .select_related("household")
        .filter(policies.exclusion_q(actor))
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _need_note(step: Step[Any]) -> None:
    if not (step.data.get("note") or "").strip():
        raise field_error("note", _("Give the reason."), "required")


def _apply(step: Step[ExclusionProposal]) -> None:
    proposal = step.instance
    actor = cast(Actor, step.actor)
    stamp = actor.stamp("decided")
    proposal.decided_by = stamp["decided_by"]
    proposal.decided_by_key = stamp["decided_by_key"]
    proposal.decided_at = timezone.now()
    proposal.decision_note = (step.data.get("note") or "").strip()
    if proposal.decision_note:
        step.changes["note"] = proposal.decision_note


DENIED = _("Only the programme's staff decide about exclusions.")

EXCLUSION_FLOW: Flow[ExclusionProposal] = Flow(
    machine=EXCLUSION_MACHINE,
    lock=_lock,
    parties=lambda step: policies.decision_parties(
        cast(Actor, step.actor), step.instance.household
    ),
    denied=lambda step: PermissionDenied(DENIED, code="not_programme_staff"),
    fields={"note": _need_note},
    apply=_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
)


def exclusion_transition(
    *,
    actor: Actor,
    proposal: Any,
    to: str,
    note: str = "",
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> ExclusionProposal:
    """Programme staff confirm (the household becomes ``excluded`` on the engine's recompute) or
    dismiss (with a note: it stays ``relapsed``) an exclusion the engine proposed."""
    return transition(
        EXCLUSION_FLOW,
        actor=actor,
        record=proposal,
        to=to,
        data={"note": note},
        expected_version=expected_version,
        channel=channel,
        today=today,
    )
