"""Writes of the titles app: file a title application, move it through its workflow (with the
SLA clock), record objections and their decisions, and attach documents. Every write checks
the actor's scope and role, runs in a transaction and leaves history in it."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.choices import HouseholdStatus
from farmers.models import Household, Plot, PlotOverlap
from farmers.services import request_hash
from farmers.transition import recompute_on_commit
from registry import policies
from registry.actors import Actor, organization_area
from registry.alerts import alerts_resolve_missing
from registry.choices import AlertKind, ChangeAction, OrganizationKind, Role, Scope
from registry.dates import add_months
from registry.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
)
from registry.history import change_record
from registry.idempotency import replays_lost_race
from registry.models import Organization, Program
from registry.services import field_error
from registry.workflow import Flow, Step, apply_move, system_step, transition

from . import selectors
from .choices import (
    LIVE_STATUSES,
    OPEN_STATUSES,
    ObjectionDecision,
    RejectionReason,
    TitleDocumentType,
    TitleStatus,
)
from .models import (
    PARTIDA_RE,
    Objection,
    TitleApplication,
    TitleDocument,
    TitleSettings,
    TitleStatusChange,
)
from .workflow import (
    ACTOR_PARTIES,
    ANYONE,
    AUTHORITY,
    BACK_TO_ORIGIN,
    DOCUMENTS,
    FILERS,
    MOVERS,
    NO_OVERLAP,
    NONE_UPHELD,
    NOTICE_CLOSED,
    OBJECTIONS_DECIDED,
    OFFICER,
    PROGRAMME,
    REQUIRED_DOCUMENTS,
    STATE_PARTY,
    TITLE_MACHINE,
    allowed_moves,
)

S = TitleStatus
CLOSED_STATUSES = (S.REJECTED, S.WITHDRAWN)
# Moves that change a household's evidence for the transition engine.
EVIDENCE_MOVES = (S.SUBMITTED, S.REGISTERED, S.REJECTED, S.WITHDRAWN)

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
DOCUMENT_CONTENT_TYPES = sorted(set(DOCUMENT_SIGNATURES.values()))


# --- who may act ---------------------------------------------------------------------------------


def actor_parties(
    actor: Actor, *, district_id: str, program_id: int, authority_id: int | None
) -> set[str]:
    """The workflow parties (``officer``, ``programme``, ``authority``) ``actor`` may act as on a
    file in ``district_id`` / ``program_id`` filed with ``authority_id``.

    A key acts for its organization: the file's authority → ``authority``; a programme agency →
    ``programme``; an implementer → ``officer``. A person acts by role in the organizations whose
    area covers the file: field officers and supervisors → ``officer``; programme staff →
    ``officer`` and ``programme``; anyone in the file's authority → ``authority``.
    """
    if actor.unrestricted:
        return set(ACTOR_PARTIES)
    if not actor.covers(district=district_id, program=program_id, scope=Scope.TITLES_WRITE):
        return set()
    if actor.api_key is not None:
        organization = actor.api_key.organization
        if organization.pk == authority_id:
            return {AUTHORITY}
        if organization.kind == OrganizationKind.TITLING_AUTHORITY:
            return set()
        if organization.kind == OrganizationKind.PROGRAM_AGENCY:
            return {OFFICER, PROGRAMME}
        return {OFFICER}
    if actor.user is None:
        return set()
    parties: set[str] = set()
    memberships = (
        actor.user.memberships.filter(is_active=True, organization__is_active=True)
        .select_related("organization")
        .prefetch_related("districts")
    )
    for membership in memberships:
        own = frozenset(d.ubigeo for d in membership.districts.all())
        area = organization_area(membership.organization, districts=own or None)
        if area.districts is None and area.programs is None:
            continue
        if area.districts is not None and district_id not in area.districts:
            continue
        if area.programs is not None and program_id not in area.programs:
            continue
        if membership.organization_id == authority_id:
            parties.add(AUTHORITY)
        elif membership.organization.kind == OrganizationKind.TITLING_AUTHORITY:
            continue
        elif membership.role == Role.PROGRAM_STAFF:
            parties |= {OFFICER, PROGRAMME}
        else:
            parties.add(OFFICER)
    return parties


def _parties_for(actor: Actor, application: TitleApplication) -> set[str]:
    return actor_parties(
        actor,
        district_id=application.district_id,
        program_id=application.program_id,
        authority_id=application.authority_id,
    )


def _require_party(actor: Actor, application: TitleApplication, allowed: frozenset[str]) -> None:
    if not _parties_for(actor, application) & allowed:
        raise PermissionDenied(_("Your role may not make this change to the title file."))


def _locked(actor: Actor, application: Any) -> TitleApplication:
    """Lock a file the actor may see, or 404."""
    pk = application.pk if isinstance(application, TitleApplication) else application
    locked = (
        selectors.title_application_list(actor=actor).select_for_update(of=("self",)).filter(pk=pk)
    ).first()
    if locked is None:
        raise NotFound()
    return locked


# --- SLA clock -----------------------------------------------------------------------------------


def settings_for(program_id: int) -> TitleSettings:
    """The programme's SLA targets (the defaults of DESIGN.md §5 when it has none saved)."""
    found = TitleSettings.objects.filter(program_id=program_id).first()
    return found if found is not None else TitleSettings(program_id=program_id)


def recompute_clock(application: TitleApplication, cfg: TitleSettings) -> None:
    """Set ``due_on`` and ``warn_on`` from the state, when its clock started and the targets.

    The due date is the earlier of the state's target and the whole file's; ``observed`` runs
    the family's own deadline (the programme's and authority's clocks are paused).
    """
    status = application.status
    if status not in OPEN_STATUSES:
        application.due_on = application.warn_on = None
        return
    start = application.clock_started_on or application.status_since
    if status == S.OBSERVED:
        start = application.status_since
        due = start + timedelta(days=cfg.observed_days)
    elif status == S.PUBLIC_NOTICE and application.notice_ends_on is not None:
        start = application.notice_starts_on or start
        due = application.notice_ends_on
    else:
        due = start + timedelta(days=cfg.target_days(status) or 0)
    if status != S.OBSERVED and application.file_due_on is not None:
        due = min(due, application.file_due_on)
    span = max((due - start).days, 0)
    application.due_on = due
    application.warn_on = min(
        start + timedelta(days=math.ceil(span * cfg.alert_percent / 100)), due
    )


def _apply(step: Step[TitleApplication]) -> None:
    """What a move changes on the file: the clock split, milestone dates, due dates, the fields
    the move brings (rejection reason, SUNARP registration)."""
    application, before, to, today = step.instance, step.before, step.to, step.today
    note = step.data.get("note", "")
    cfg = settings_for(application.program_id)
    returning = before == S.OBSERVED and to == application.observed_from
    spent = max((today - application.status_since).days, 0)
    party = STATE_PARTY.get(before)
    if party is not None:
        setattr(application, f"{party}_days", getattr(application, f"{party}_days") + spent)
    if to == S.OBSERVED:
        application.observed_from = before
    elif before == S.OBSERVED:
        # The family's time does not count against the programme or the authority.
        if returning and application.clock_started_on is not None:
            application.clock_started_on += timedelta(days=spent)
        if application.file_due_on is not None:
            application.file_due_on += timedelta(days=spent)
        application.observed_from = ""
    else:
        application.clock_started_on = today
    milestones: dict[str, str] = {
        S.SUBMITTED: "submitted_on",
        S.SURVEYED: "surveyed_on",
        S.LEGAL_REVIEW: "legal_review_on",
        S.TITLE_ISSUED: "title_issued_on",
        S.SENT_TO_SUNARP: "sent_to_sunarp_on",
        S.REJECTED: "closed_on",
        S.WITHDRAWN: "closed_on",
    }
    milestone = milestones.get(to)
    if milestone and not returning:
        setattr(application, milestone, today)
    if to == S.SUBMITTED and application.file_due_on is None:
        application.file_due_on = add_months(today, cfg.file_months)
    if to == S.PUBLIC_NOTICE:
        program = Program.objects.only("public_notice_days").get(pk=application.program_id)
        application.notice_starts_on = today
        application.notice_ends_on = today + timedelta(days=program.public_notice_days)
    if to == S.REJECTED and "reason" in step.move.requires:
        application.rejection_reason = step.data["reason"]
    if to == S.REGISTERED:
        application.partida_number = step.data["partida_number"]
        application.registry_zone = (step.data.get("registry_zone") or "").strip()[:60]
        application.registered_on = step.data["registered_on"]
    application.status_since = today
    application.note = note
    recompute_clock(application, cfg)
    application.full_clean(exclude=["household", "plot", "authority", "district", "program"])
    if note:
        step.changes["note"] = note


def _history(step: Step[TitleApplication]) -> None:
    TitleStatusChange.objects.create(
        application=step.instance,
        from_status=step.before,
        to_status=step.to,
        actor_user=step.actor.user if step.actor is not None else None,
        actor_api_key=step.actor.api_key if step.actor is not None else None,
        note=step.data.get("note", ""),
    )


def _after(step: Step[TitleApplication]) -> None:
    # The alerts of the state the file leaves no longer hold.
    alerts_resolve_missing(AlertKind.TITLE_OVERDUE, [], key_prefix=f"title:{step.instance.pk}:")


def _enqueue(step: Step[TitleApplication]) -> None:
    if step.to in EVIDENCE_MOVES:
        recompute_on_commit([step.instance.household_id])


def next_states(application: TitleApplication) -> list[str]:
    """The states this file may move to through ``transition/`` now (``observed`` returns only
    where it came from)."""
    states = allowed_moves(application.status)
    if application.status == S.OBSERVED:
        homes: set[str] = {S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW}
        back = homes - {application.observed_from}
        states = [state for state in states if state not in back]
    return states


# --- create ---------------------------------------------------------------------------------


@replays_lost_race(TitleApplication)
@transaction.atomic
def title_application_create(
    *,
    actor: Actor,
    household: Any,
    plot: Any,
    authority: str,
    id: Any = None,
    note: str = "",
    channel: str = "api",
) -> tuple[TitleApplication, bool]:
    """File a draft title application for a household's plot with a titling authority.

    Idempotent on a client-chosen ``id``: the same payload returns the existing file, another
    payload is a 409 ``idempotency_conflict``.
    """
    digest = request_hash(
        {"household": str(household), "plot": str(plot), "authority": authority, "note": note}
    )
    if id is not None:
        existing = TitleApplication.objects.filter(pk=id).first()
        if existing is not None:
            visible = selectors.title_application_list(actor=actor).filter(pk=id).exists()
            if existing.request_hash == digest and visible:
                return existing, False
            raise Conflict(
                _("This id was already used for a different title application."),
                code="idempotency_conflict",
                attr="id",
            )
    owner = (
        Household.objects.filter(
            actor.area_q(
                district_path="district_id", program_path="program_id", scope=Scope.TITLES_WRITE
            )
        )
        .filter(pk=household)
        .first()
    )
    if owner is None:
        raise field_error(
            "household", _("No household with this id in your area."), "does_not_exist"
        )
    errors: dict[str, list[ValidationError]] = {}
    if owner.status != HouseholdStatus.ACTIVE:
        errors["household"] = [
            ValidationError(
                _("Only reviewed (active) households can apply for a title."),
                code="inactive_household",
            )
        ]
    land = Plot.objects.filter(pk=plot, household=owner, is_active=True).first()
    if land is None:
        errors["plot"] = [
            ValidationError(_("Choose an active plot of this household."), code="invalid_plot")
        ]
    titling = Organization.objects.filter(
        code=authority, kind=OrganizationKind.TITLING_AUTHORITY, is_active=True
    ).first()
    if titling is None:
        errors["authority"] = [
            ValidationError(
                _("No active titling authority with the code “%(code)s”.") % {"code": authority},
                code="does_not_exist",
            )
        ]
    elif not titling.districts.filter(pk=owner.district_id).exists():
        # A file its authority cannot see would be stuck: neither party could move it.
        errors["authority"] = [
            ValidationError(
                _("This titling authority does not cover the plot's district (%(district)s).")
                % {"district": owner.district_id},
                code="authority_out_of_area",
            )
        ]
    if errors:
        raise ValidationError(errors)
    assert land is not None and titling is not None
    if not (
        actor_parties(
            actor,
            district_id=owner.district_id,
            program_id=owner.program_id,
            authority_id=titling.pk,
        )
        & FILERS
    ):
        raise PermissionDenied(
            _("Only field officers and programme staff file title applications.")
        )
    clash = TitleApplication.objects.filter(plot=land).exclude(status__in=CLOSED_STATUSES).first()
    if clash is not None:
        raise Conflict(
            _("This plot already has an open title application."),
            code="duplicate",
            attr="plot",
            extra={"application": str(clash.pk)},
        )
    today = timezone.localdate()
    application = TitleApplication(
        household=owner,
        plot=land,
        authority=titling,
        district_id=owner.district_id,
        program_id=owner.program_id,
        status=S.DRAFT,
        status_since=today,
        clock_started_on=today,
        note=note.strip(),
        created_by=actor.user,
        created_by_key=actor.api_key,
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    application.save(force_insert=True)
    TitleStatusChange.objects.create(
        application=application,
        from_status="",
        to_status=S.DRAFT,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        note=application.note,
    )
    change_record(
        instance=application,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"plot": str(land.pk), "authority": titling.code},
        channel=channel,
    )
    return application, True


@transaction.atomic
def title_application_file(
    *,
    actor: Actor,
    household: Any,
    plot: Any,
    authority: str,
    documents: Sequence[tuple[str, Any]] = (),
    id: Any = None,
    note: str = "",
    channel: str = "web",
) -> tuple[TitleApplication, bool]:
    """File a title application and attach its first documents (``(type, file)`` pairs) in one
    transaction: any refusal writes nothing. Idempotent on the client ``id`` like
    ``title_application_create``: a retry of a filing already made returns the file and does not
    attach its documents again."""
    application, created = title_application_create(
        actor=actor,
        household=household,
        plot=plot,
        authority=authority,
        id=id,
        note=note,
        channel=channel,
    )
    if created:
        for kind, upload in documents:
            document_upload(
                actor=actor, application=application, type=kind, file=upload, channel=channel
            )
    return application, created


# --- transitions ---------------------------------------------------------------------------------


def _documents(step: Step[TitleApplication]) -> None:
    required = REQUIRED_DOCUMENTS.get(step.to, ())
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
    application = step.instance
    if application.notice_ends_on is None or step.today < application.notice_ends_on:
        raise Conflict(
            _("The public notice is open until %(end)s: the title cannot be issued before.")
            % {"end": application.notice_ends_on},
            code="public_notice_open",
            extra={"notice_ends_on": str(application.notice_ends_on)},
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
            _("Use one of: %(valid)s.") % {"valid": ", ".join(RejectionReason.values)},
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
    lock=lambda actor, application: _locked(actor, application),
    parties=lambda step: _parties_for(step.actor, step.instance) if step.actor else (),
    denied=lambda step: PermissionDenied(
        _("Your role may not make this change to the title file.")
    ),
    fields={
        "note": _need_note,
        "reason": _need_reason,
        "partida_number": _need_partida,
        "registered_on": _need_registered_on,
    },
    guards={
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
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> TitleApplication:
    """Move a title file along its workflow (``workflow.TITLE_MACHINE``, through the kernel's
    ``registry.workflow.transition``): check the move, the actor's role, the fields it needs and
    its guards, then update the clock and write history."""
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
        },
        expected_version=expected_version,
        channel=channel,
        today=today or timezone.localdate(),
    )


# --- objections ----------------------------------------------------------------------------------


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
    locked = _locked(actor, application)
    _require_party(actor, locked, MOVERS)
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
        filed_by=actor.user,
        filed_by_key=actor.api_key,
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
    locked = _locked(actor, application)
    _require_party(actor, locked, MOVERS)
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


# --- documents -----------------------------------------------------------------------------------


@transaction.atomic
def document_upload(
    *, actor: Actor, application: Any, type: str, file: Any, channel: str = "api"
) -> TitleDocument:
    """Attach a document (PDF, JPEG or PNG, at most 10 MB) to a file; its SHA-256 is stored."""
    locked = _locked(actor, application)
    _require_party(actor, locked, ANYONE)
    if type not in TitleDocumentType.values:
        raise field_error(
            "type",
            _("Use one of: %(valid)s.") % {"valid": ", ".join(TitleDocumentType.values)},
            "invalid_choice",
        )
    if locked.status in CLOSED_STATUSES:
        raise Conflict(_("The file is closed: no more documents."), code="file_closed")
    if file.size > DOCUMENT_MAX_BYTES:
        raise PayloadTooLarge(
            _("The file is larger than %(max)s MB.") % {"max": DOCUMENT_MAX_BYTES // 2**20},
            attr="file",
            extra={"max_bytes": DOCUMENT_MAX_BYTES},
        )
    head = file.read(8)
    file.seek(0)
    content_type = next(
        (kind for signature, kind in DOCUMENT_SIGNATURES.items() if head.startswith(signature)),
        None,
    )
    if content_type is None:
        raise UnsupportedMediaType(
            _("Send the document as PDF, JPEG or PNG."),
            attr="file",
            extra={"allowed": DOCUMENT_CONTENT_TYPES},
        )
    sha = hashlib.sha256()
    for chunk in file.chunks():
        sha.update(chunk)
    file.seek(0)
    document = TitleDocument(
        application=locked,
        type=type,
        filename=str(getattr(file, "name", "") or "")[:200],
        size=file.size,
        content_type=content_type,
        sha256=sha.hexdigest(),
        uploaded_by=actor.user,
        uploaded_by_key=actor.api_key,
    )
    document.file.save(document.sha256[:16], file, save=False)
    document.save(force_insert=True)
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"document": [type, document.sha256]},
        channel=channel,
    )
    return document


# --- settings ------------------------------------------------------------------------------------


@transaction.atomic
def title_settings_save(
    *, actor: Actor, settings_obj: TitleSettings, channel: str = "admin"
) -> TitleSettings:
    """Save a programme's SLA targets (programme staff of its agency, ``registry.policies``);
    history in the same transaction."""
    if not policies.can_govern_program(actor, settings_obj.program_id):
        raise PermissionDenied()
    settings_obj.full_clean()
    created = settings_obj.pk is None
    settings_obj.save()
    change_record(
        instance=settings_obj,
        action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
        actor=actor,
        channel=channel,
    )
    return settings_obj


# --- SLA alerts ----------------------------------------------------------------------------------


def title_alerts_sync(*, today: date | None = None) -> dict[str, int]:
    """Raise an alert for every open file past its due date (``warning``) or past the warning
    share of its target (``info``, "approaching"); resolve the alerts of files no longer in
    either condition. Idempotent: a rerun raises nothing new."""
    from registry.alerts import AlertSpec, alerts_raise_many
    from registry.choices import AlertSeverity

    today = today or timezone.localdate()
    rows = (
        TitleApplication.objects.filter(status__in=OPEN_STATUSES, warn_on__lte=today)
        .values_list(
            "pk", "household_id", "district_id", "program_id", "status", "due_on", "household__code"
        )
        .order_by()
    )
    specs: list[AlertSpec] = []
    overdue = 0
    for pk, household_id, district_id, program_id, status, due_on, code in rows.iterator(
        chunk_size=2000
    ):
        late = due_on is not None and due_on < today
        overdue += late
        label = TitleStatus(status).label
        if late:
            message = _("Title file of %(code)s is overdue in “%(status)s” (due %(due)s).")
        else:
            message = _("Title file of %(code)s is due in “%(status)s” on %(due)s.")
        specs.append(
            AlertSpec(
                kind=AlertKind.TITLE_OVERDUE,
                key=f"title:{pk}:{status}" + ("" if late else ":approaching"),
                message=message % {"code": code, "status": label, "due": due_on},
                district_id=district_id,
                program_id=program_id,
                household_id=household_id,
                subject=TitleApplication(pk=pk),
                severity=AlertSeverity.WARNING if late else AlertSeverity.INFO,
                owner_role=Role.PROGRAM_STAFF,
                due_on=due_on,
                details={"application": str(pk), "status": status},
            )
        )
    created = alerts_raise_many(specs)
    resolved = alerts_resolve_missing(
        AlertKind.TITLE_OVERDUE, [spec.key for spec in specs], key_prefix="title:"
    )
    return {
        "overdue": overdue,
        "approaching": len(specs) - overdue,
        "created": created,
        "resolved": resolved,
    }
