"""Exclusion proposals: the transition engine proposes an exclusion (the household stays
``relapsed``); programme staff of the programme's agency confirm or dismiss it
(``workflow.EXCLUSION_MACHINE`` through the kernel's ``registry.workflow.transition``). The
decision is a fact the engine reads (``farmers.transition.decisions``): a confirmed proposal
excludes the household, a dismissed one leaves it relapsed."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.utils.translation import gettext_lazy as _

from registry.actors import Actor
from registry.exceptions import PermissionDenied
from registry.workflow import Flow, transition

from .. import policies
from ..models import ExclusionProposal
from ..transition import recompute_on_commit
from ..workflow import EXCLUSION_MACHINE
from .common import _lock_decision, _need_note, _record_decision

DENIED = _("Only the programme's staff decide about exclusions.")

EXCLUSION_FLOW: Flow[ExclusionProposal] = Flow(
    machine=EXCLUSION_MACHINE,
    lock=lambda actor, record: _lock_decision(ExclusionProposal, actor, record),
    parties=lambda step: policies.decision_parties(
        cast(Actor, step.actor), step.instance.household
    ),
    denied=lambda step: PermissionDenied(DENIED, code="not_programme_staff"),
    fields={"note": _need_note},
    apply=_record_decision,
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
