"""Moves of a title file through its workflow (``workflow.TITLE_MACHINE``), on the kernel's one
transition path (``registry.workflow.transition``): the guards and field rules of the table,
what a move writes (milestones, the SLA clock of ``titles.clock``, the SUNARP registration),
the status-history row, and the household's recompute after commit."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.models import PlotOverlap
from farmers.transition import recompute_on_commit
from registry.actors import Actor
from registry.choices import WebhookEventType
from registry.cleaning import choice_message
from registry.exceptions import Conflict, InvalidTransition, NotFound
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies, selectors, summaries
from ..choices import (
    LIVE_STATUSES,
    ObjectionDecision,
    RejectionReason,
    TitleDocumentType,
    TitleStatus,
)
from ..clock import clock_move, settings_for
from ..models import PARTIDA_RE, TitleApplication, TitleStatusChange
from ..sla import title_alerts_resolve
from ..workflow import (
    ACT_DATE,
    BACK_TO_ORIGIN,
    DOCUMENTS,
    NO_OVERLAP,
    NONE_UPHELD,
    NOTICE_CLOSED,
    OBJECTIONS_DECIDED,
    PROCEDURE,
    TITLE_MACHINE,
    next_states,
    required_documents,
)
from .procedure import check_possession, check_tenure

S = TitleStatus
CLOSED_STATUSES = (S.REJECTED, S.WITHDRAWN)
# Moves that change a household's evidence for the transition engine.
EVIDENCE_MOVES = (S.SUBMITTED, S.REGISTERED, S.REJECTED, S.WITHDRAWN)
# The date each state stamps on the file when it is entered (not on a return from ``observed``).
MILESTONES: dict[str, str] = {
    S.SUBMITTED: "submitted_on",
    S.SURVEYED: "surveyed_on",
    S.LEGAL_REVIEW: "legal_review_on",
    S.TITLE_ISSUED: "title_issued_on",
    S.SENT_TO_SUNARP: "sent_to_sunarp_on",
    S.REJECTED: "closed_on",
    S.WITHDRAWN: "closed_on",
}


def locked_application(actor: Actor, application: Any) -> TitleApplication:
    """Lock a file the actor may see, or 404."""
    pk = application.pk if isinstance(application, TitleApplication) else application
    locked = (
        selectors.title_application_list(actor=actor).select_for_update(of=("self",)).filter(pk=pk)
    ).first()
    if locked is None:
        raise NotFound()
    return locked


def _apply(step: Step[TitleApplication]) -> None:
    """What a move changes on the file: the SLA clock (``titles.clock``) and milestone dates,
    both on the move's act date (``on``, the registration date, or today), the fields the move
    brings (rejection reason, SUNARP registration)."""
    application, before, to = step.instance, step.before, step.to
    # The file's dashboard cells before the move (its dates are still the old ones).
    step.context["summary"] = summaries.cells_of(application, status=before)
    if step.data.get("on") is not None and ACT_DATE not in step.move.guards:
        raise field_error(
            "on",
            _("This move takes no act date: it is recorded today."),
            "not_applicable",
        )
    today = step.today
    if to == S.REGISTERED:
        today = step.data["registered_on"]
    note = step.data.get("note", "")
    returning = before == S.OBSERVED and to == application.observed_from
    milestone = MILESTONES.get(to)
    if milestone and not returning:
        setattr(application, milestone, today)
    if to == S.REJECTED and "reason" in step.move.requires:
        application.rejection_reason = step.data["reason"]
    if to == S.REGISTERED:
        application.partida_number = step.data["partida_number"]
        application.registry_zone = (step.data.get("registry_zone") or "").strip()[:60]
        application.registered_on = step.data["registered_on"]
    application.note = note
    clock_move(
        application, before=before, to=to, today=today, cfg=settings_for(application.program_id)
    )
    application.full_clean(exclude=["household", "plot", "authority", "district", "program"])
    if note:
        step.changes["note"] = note


def _history(step: Step[TitleApplication]) -> None:
    TitleStatusChange.objects.create(
        application=step.instance,
        from_status=step.before,
        to_status=step.to,
        **(step.actor.stamp() if step.actor is not None else {}),
        note=step.data.get("note", ""),
    )


def _after(step: Step[TitleApplication]) -> None:
    # The alerts of the state the file leaves no longer hold.
    title_alerts_resolve(step.instance)
    # The dashboard's title cells, in the move's transaction.
    summaries.changed(step.instance, step.context["summary"])


def _enqueue(step: Step[TitleApplication]) -> None:
    if step.to in EVIDENCE_MOVES:
        recompute_on_commit([step.instance.household_id])


def _act_date(step: Step[TitleApplication]) -> None:
    """The date of the act the move records (``on``, default today): not after today, not
    before the previous act (the day the file entered its state). The move then runs on it:
    its guards, milestone and clock."""
    on = step.data.get("on")
    if on is None:
        return
    previous = step.instance.status_since
    if on > step.today:
        raise field_error("on", _("The date of the act cannot be in the future."), "future")
    if previous is not None and on < previous:
        raise field_error(
            "on",
            _("The date of the act cannot precede the previous act (%(day)s).")
            % {"day": previous.strftime("%d/%m/%Y")},
            "before_previous_act",
        )
    step.today = on
    step.changes["on"] = on.isoformat()


def _procedure(step: Step[TitleApplication]) -> None:
    """At submission: the plot's tenure can be titled, the possession is old enough."""
    application = step.instance
    check_tenure(application.plot.tenure)
    check_possession(
        application.procedure,
        application.possession_started_on,
        settings_for(application.program_id),
        step.today,
        required=True,
    )


def _documents(step: Step[TitleApplication]) -> None:
    required = required_documents(step.instance.procedure, step.to)
    present = set(step.instance.documents.filter(type__in=required).values_list("type", flat=True))
    missing = [kind for kind in required if kind not in present]
    if missing:
        labels = ", ".join(str(TitleDocumentType(kind).label) for kind in missing)
        raise Conflict(
            _("Documents missing for this step: %(missing)s.") % {"missing": labels},
            code="missing_documents",
            extra={"missing": missing},
        )


def _notice_closed(step: Step[TitleApplication]) -> None:
    # The notice's last day is inside the window (objections are still filed that day): the
    # title issues from the day after.
    application = step.instance
    ends = application.notice_ends_on
    if ends is None or step.today <= ends:
        raise Conflict(
            _("The public notice is open until %(end)s inclusive: the title can issue after it.")
            % {"end": ends.strftime("%d/%m/%Y") if ends else "—"},
            code="public_notice_open",
            extra={"notice_ends_on": str(ends)},
        )


def _objections_decided(step: Step[TitleApplication]) -> None:
    if step.instance.objections.filter(decision=ObjectionDecision.PENDING).exists():
        raise Conflict(_("Decide every pending objection first."), code="objections_pending")


def _none_upheld(step: Step[TitleApplication]) -> None:
    if step.instance.objections.filter(decision=ObjectionDecision.UPHELD).exists():
        raise Conflict(
            _("An objection was upheld: the file cannot be titled (reject it instead)."),
            code="objection_upheld",
        )


def _back_to_origin(step: Step[TitleApplication]) -> None:
    # ``next_states`` already offers only the origin; kept so the table's guard has its check.
    if step.to != step.instance.observed_from:
        raise InvalidTransition(step.before, step.to, next_states(step.instance))


def overlap_conflicts(application: TitleApplication) -> list[TitleApplication]:
    """Live files or titles of other households on plots overlapping this file's plot."""
    overlapping = PlotOverlap.objects.filter(plot_id=application.plot_id).values("other_id")
    return list(
        TitleApplication.objects.filter(plot_id__in=overlapping, status__in=LIVE_STATUSES)
        .exclude(household_id=application.household_id)
        .select_related("household")
        .order_by("created_at")[:10]
    )


def _check_no_overlap(actor: Actor, application: TitleApplication) -> None:
    conflicts = overlap_conflicts(application)
    if not conflicts:
        return
    visible = set(
        selectors.title_application_list(actor=actor)
        .filter(pk__in=[c.pk for c in conflicts])
        .values_list("pk", flat=True)
    )
    named = [c for c in conflicts if c.pk in visible]
    detail = _("The plot overlaps another household's plot with a live title application.")
    extra: dict[str, Any] = {}
    if named:
        detail = _(
            "The plot overlaps the plot of household %(code)s, which has a live title file."
        ) % {"code": named[0].household.code}
        extra = {"conflicts": [str(c.pk) for c in named]}
    raise Conflict(detail, code="parcel_overlap", extra=extra)


def _need_note(step: Step[TitleApplication]) -> None:
    if not step.data.get("note"):
        raise field_error("note", _("Explain the reason in a note."), "required")


def _need_reason(step: Step[TitleApplication]) -> None:
    reason = step.data.get("reason")
    if not reason:
        raise field_error("reason", _("Choose the rejection reason."), "required")
    if reason not in RejectionReason.values:
        raise field_error(
            "reason",
            choice_message(RejectionReason),
            "invalid_choice",
        )


def _need_partida(step: Step[TitleApplication]) -> None:
    partida = step.data.get("partida_number")
    if not partida:
        raise field_error("partida_number", _("Give the SUNARP partida number."), "required")
    if not re.match(PARTIDA_RE, partida):
        raise field_error(
            "partida_number", _("A SUNARP partida number has 8 to 11 digits."), "invalid_partida"
        )


def _need_registered_on(step: Step[TitleApplication]) -> None:
    registered_on = step.data.get("registered_on")
    sent_on = step.instance.sent_to_sunarp_on
    if registered_on is None:
        raise field_error(
            "registered_on", _("Give the date of the SUNARP registration."), "required"
        )
    if registered_on > step.today:
        raise field_error(
            "registered_on", _("The registration date cannot be in the future."), "future"
        )
    if sent_on and registered_on < sent_on:
        raise field_error(
            "registered_on",
            _("The registration cannot precede the sending to SUNARP (%(day)s).")
            % {"day": sent_on},
            "before_sending",
        )


TITLE_FLOW: Flow[TitleApplication] = Flow(
    machine=TITLE_MACHINE,
    lock=lambda actor, application: locked_application(actor, application),
    parties=lambda step: policies.title_application_parties(step.actor, step.instance),
    denied=lambda step: policies.denied("move"),
    fields={
        "note": _need_note,
        "reason": _need_reason,
        "partida_number": _need_partida,
        "registered_on": _need_registered_on,
    },
    guards={
        ACT_DATE: _act_date,
        PROCEDURE: _procedure,
        DOCUMENTS: _documents,
        NO_OVERLAP: lambda step: _check_no_overlap(cast(Actor, step.actor), step.instance),
        NOTICE_CLOSED: _notice_closed,
        OBJECTIONS_DECIDED: _objections_decided,
        NONE_UPHELD: _none_upheld,
        BACK_TO_ORIGIN: _back_to_origin,
    },
    apply=_apply,
    history=_history,
    after=_after,
    enqueue=_enqueue,
    event=WebhookEventType.TITLE_APPLICATION_STATUS_CHANGED,
    next_states=lambda application: next_states(application),
    all_field_errors=True,
)


def title_application_transition(
    *,
    actor: Actor,
    application: Any,
    to: str,
    note: str = "",
    reason: str = "",
    partida_number: str = "",
    registry_zone: str = "",
    registered_on: date | None = None,
    on: date | None = None,
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> TitleApplication:
    """Move a title file along its workflow (``workflow.TITLE_MACHINE``, through the kernel's
    ``registry.workflow.transition``): check the move, the actor's role, the fields it needs and
    its guards, then update the clock and write history. ``on`` is the date of the act the move
    records (survey, legal report, notice, title, SUNARP dispatch; default ``today``)."""
    return transition(
        TITLE_FLOW,
        actor=actor,
        record=application,
        to=to,
        data={
            "note": (note or "").strip(),
            "reason": reason,
            "partida_number": (partida_number or "").strip(),
            "registry_zone": registry_zone,
            "registered_on": registered_on,
            "on": on,
        },
        expected_version=expected_version,
        channel=channel,
        today=today or timezone.localdate(),
    )
