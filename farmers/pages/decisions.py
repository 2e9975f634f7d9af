"""Field pages of the decisions about a family (issue 15): file the family's appeal of its
relapse or exclusion, propose a correction of a confirmed visit, and the list of exclusions and
appeals waiting for programme staff ("Decisiones pendientes").

All of it is coca data: a page answers 404 for a household whose coca data the person may not
read (coca:read in its area), like the API's ``decision_q``. Thin views: the appeal, correction
and decision services validate, record the history (channel ``web``) and queue the recompute;
programme staff decide here through the same transitions as the admin and the API, others only
read."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farmers import policies, selectors, services
from farmers.choices import (
    AppealKind,
    AppealStatus,
    CorrectableField,
    ExclusionStatus,
    Stage,
)
from farmers.models import Appeal, ExclusionProposal, Household
from registry.actors import Actor
from registry.cleaning import clean_choice
from registry.exceptions import NotFound
from registry.history import access_log_record
from registry.services import field_error

from .base import field_page, form_number, service_errors

LIST_LIMIT = 50
DAY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
EXCLUSION = "exclusion"
APPEAL = "appeal"


def _household_with_coca(actor: Actor, household_id: Any) -> Household:
    """The household in the actor's area whose coca data the actor may read, else 404."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    if not policies.household_can(actor, household, "read_coca"):
        raise NotFound()
    return household


def _iso_day(value: str) -> str:
    """``dd/mm/aaaa`` (how people write dates) → ``aaaa-mm-dd``; anything else unchanged."""
    match = DAY.match(value or "")
    if match is None:
        return value
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


@field_page
def appeal_create(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """File the family's appeal of its relapse or of its exclusion (``services.appeal_file``):
    what it appeals and the family's reason; refused when there is nothing to appeal or an
    appeal is already waiting."""
    household = _household_with_coca(actor, household_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "kind": AppealKind.EXCLUSION if household.stage == Stage.EXCLUDED else AppealKind.RELAPSE
    }
    if request.method == "POST":
        values = dict(request.POST.items())
        with service_errors(errors):
            kind = clean_choice(request.POST.get("kind", ""), AppealKind, "kind")
            grounds = request.POST.get("grounds", "")
            if not grounds.strip():
                raise field_error("grounds", _("Write the family's reason."), "required")
            services.appeal_file(
                actor=actor,
                household=household.pk,
                kind=kind,
                grounds=grounds[:4000],
                evidence_note=request.POST.get("evidence_note", "")[:4000],
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    context = {
        "household": household,
        "kinds": AppealKind.choices,
        "suspended": services.is_suspended(household),
        "proposals": list(
            selectors.exclusion_list(actor=actor).filter(
                household=household,
                status__in=[ExclusionStatus.PROPOSED, ExclusionStatus.CONFIRMED],
            )[:5]
        ),
        "appeals": list(selectors.appeal_list(actor=actor).filter(household=household)[:20]),
        "errors": errors,
        "values": values,
    }
    return render(request, "field/appeal.html", context, status=_status(errors))


@field_page
def correction_create(
    request: HttpRequest, actor: Actor, household_id: uuid.UUID, visit_id: uuid.UUID
) -> HttpResponse:
    """Propose a correction of a confirmed visit (``services.correction_propose``): the field,
    its new value and why. A second person approves it in the admin or the API."""
    household = _household_with_coca(actor, household_id)
    visit = (
        selectors.verification_list(actor=actor).filter(household=household, pk=visit_id).first()
    )
    if visit is None:
        raise NotFound()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = dict(request.POST.items())
        field = request.POST.get("field", "")
        value = request.POST.get("value", "")
        with service_errors(errors):
            services.correction_propose(
                actor=actor,
                verification=visit.pk,
                field=field,
                value=_iso_day(value)
                if field == CorrectableField.VISITED_ON
                else form_number(value),
                reason=request.POST.get("reason", "")[:4000],
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    corrections = list(selectors.correction_list(actor=actor).filter(verification=visit)[:20])
    access_log_record(
        actor=actor,
        resource="visit_corrections",
        object_ids=[str(visit.pk), *(str(c.pk) for c in corrections)],
        fields=["coca_ha", "old_value", "new_value"],
        path=request.get_full_path(),
    )
    context = {
        "household": household,
        "visit": visit,
        "fields": CorrectableField.choices,
        "corrections": corrections,
        "errors": errors,
        "values": values,
    }
    return render(request, "field/correction.html", context, status=_status(errors))


def _status(errors: dict[str, list[str]]) -> int:
    return 400 if errors else 200


def _pending(
    request: HttpRequest, actor: Actor, errors: dict[str, dict[str, list[str]]] | None = None
) -> HttpResponse:
    """The pending exclusions and appeals in the actor's area, newest first, with the decide
    form on each row for programme staff of the household's programme."""
    if not policies.may_read_coca(actor):
        return render(request, "field/decisions.html", {"allowed": False}, status=403)
    exclusions = list(
        selectors.exclusion_list(actor=actor).filter(status=ExclusionStatus.PROPOSED)[:LIST_LIMIT]
    )
    appeals = list(
        selectors.appeal_list(actor=actor).filter(status=AppealStatus.FILED)[:LIST_LIMIT]
    )
    staff: dict[tuple[str, int], bool] = {}  # one policy check per district and programme
    rows: list[ExclusionProposal | Appeal] = [*exclusions, *appeals]
    for row in rows:
        key = (row.household.district_id, row.household.program_id)
        if key not in staff:
            staff[key] = policies.is_programme_staff(actor, row.household)
        row.can_decide = staff[key]  # type: ignore[union-attr]
        row.errors = (errors or {}).get(str(row.pk), [])  # type: ignore[union-attr]
    access_log_record(
        actor=actor,
        resource="exclusion_proposals",
        object_ids=[str(p.pk) for p in exclusions],
        fields=["evidence"],
        path=request.get_full_path(),
    )
    context = {
        "allowed": True,
        "exclusions": exclusions,
        "appeals": appeals,
        "limit": LIST_LIMIT,
        "exclusion_moves": [
            (ExclusionStatus.CONFIRMED, _("Confirm the exclusion")),
            (ExclusionStatus.DISMISSED, _("Dismiss the exclusion")),
        ],
        "appeal_moves": [
            (AppealStatus.UPHELD, _("Uphold the appeal")),
            (AppealStatus.REJECTED, _("Reject the appeal")),
        ],
    }
    return render(request, "field/decisions.html", context, status=409 if errors else 200)


@field_page
def pending_decisions(request: HttpRequest, actor: Actor) -> HttpResponse:
    """ "Decisiones pendientes": exclusions the engine proposed and families' appeals waiting
    for programme staff in the actor's area (read-only unless the person is programme staff
    of the household's programme)."""
    return _pending(request, actor)


@field_page
@require_POST
def decide(request: HttpRequest, actor: Actor, kind: str, record_id: uuid.UUID) -> HttpResponse:
    """Programme staff decide an exclusion (confirm / dismiss) or an appeal (uphold / reject)
    with a note, through the same transition as the admin and the API (``version`` guards
    against a decision taken meanwhile). A refusal is shown on the row; nothing is written."""
    lists = {
        EXCLUSION: selectors.exclusion_list(actor=actor),
        APPEAL: selectors.appeal_list(actor=actor),
    }
    if kind not in lists:
        raise NotFound()
    record = lists[kind].filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    version = request.POST.get("version", "")
    arguments: dict[str, Any] = {
        "actor": actor,
        "to": request.POST.get("to", ""),
        "note": request.POST.get("note", "")[:2000],
        "expected_version": int(version) if version.isdigit() else None,
        "channel": "web",
    }
    errors: dict[str, list[str]] = {}
    with service_errors(errors):
        if kind == EXCLUSION:
            services.exclusion_transition(proposal=record, **arguments)
        else:
            services.appeal_transition(appeal=record, **arguments)
        return redirect("field:decisions")
    return _pending(request, actor, {str(record.pk): [m for msgs in errors.values() for m in msgs]})
