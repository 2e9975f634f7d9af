"""Data-subject requests (Law 29733, ARCO rights; its regulation DS 016-2024-JUS): the register,
the deadlines in working days and the answer of each kind (``workflow.REQUEST_MACHINE`` through
the kernel's ``registry.workflow``).

- ``request_register``: programme staff record a request (kind, person, received on, channel,
  identity check); ``due_on`` is ``received_on`` plus the programme's working days for the kind
  (``Program.dsr_access_days`` / ``dsr_other_days``; ``registry.workdays``: weekends and
  Peruvian holidays skipped).
- ``request_transition``: take it in progress, extend it once (a reason; the deadline moves by
  the same period again), refuse it (a reason), or answer it. Answering applies the request in
  the same transaction: a rectification goes through ``household_update`` (its change record
  names the request), a cancellation anonymises (``farmers.services.anonymise``), an opposition
  narrows the consent (a new consent record without the opposed purposes). An answer about a
  person whose data was already cancelled is a 409 ``person_anonymised``; any error writes
  nothing.
- ``request_alerts_sync``: the daily alert of requests close to (or past) their deadline.
- ``access_file`` (``farmers.services.access_file``): everything held about the person.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.actors import Actor
from registry.alerts import AlertSpec, alerts_raise_many, alerts_resolve_missing
from registry.choices import AlertKind, AlertSeverity, ChangeAction, Role
from registry.cleaning import clean_choice
from registry.exceptions import Conflict, NotFound, PermissionDenied
from registry.history import change_record
from registry.models import Program
from registry.services import field_error
from registry.workdays import add_working_days, working_days_between
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import (
    OPEN_REQUEST_STATUSES,
    ConsentPurpose,
    RequestChannel,
    RequestKind,
    RequestStatus,
)
from ..models import MEMBER_FIELDS, DataSubjectRequest, Household, Member
from ..workflow import PERSON_PRESENT, REQUEST_MACHINE
from .anonymise import household_anonymise
from .common import _record_decision
from .consent import consent_record
from .registration import household_update

KEY_PREFIX = "dsr:"


def request_period(program: Program, kind: str) -> int:
    """The programme's working days to answer a request of ``kind`` (access: 20 by default;
    rectification, cancellation, opposition: 10)."""
    return program.dsr_access_days if kind == RequestKind.ACCESS else program.dsr_other_days


def request_due_on(program: Program, kind: str, received_on: date) -> date:
    """The deadline of a request received on ``received_on``, in working days."""
    return add_working_days(received_on, request_period(program, kind))


def _staff_household(actor: Actor, household: Any) -> Household:
    """The household locked for a request, if ``actor`` is its programme's staff (404 when the
    actor cannot see it, 403 when it sees it but is not programme staff)."""
    pk = household.pk if isinstance(household, Household) else household
    found = (
        Household.objects.select_for_update()
        .select_related("program")
        .filter(policies.household_q(actor))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound()
    if not policies.is_programme_staff(actor, found):
        raise _not_staff()
    return found


def _not_staff() -> PermissionDenied:
    return PermissionDenied(
        gettext_lazy("Only the programme's staff handle data-subject requests."),
        code="not_programme_staff",
    )


@transaction.atomic
def request_register(
    *,
    actor: Actor,
    household: Any,
    kind: str,
    received_on: date,
    channel: str,
    identity_check: str,
    member: Any = None,
    details: str = "",
    via: str = "admin",
    today: date | None = None,
) -> DataSubjectRequest:
    """Record a data-subject request of a member (or of the household as a whole) with its
    deadline. Field errors: ``kind``, ``channel`` (unknown), ``identity_check`` (empty),
    ``received_on`` (in the future), ``member`` (not of this household)."""
    owner = _staff_household(actor, household)
    kind = clean_choice(kind, RequestKind, "kind")
    channel = clean_choice(channel, RequestChannel, "channel")
    if not (identity_check or "").strip():
        raise field_error(
            "identity_check", _("Say how the requester's identity was checked."), "required"
        )
    if received_on > (today or timezone.localdate()):
        raise field_error("received_on", _("The date cannot be in the future."), "future_date")
    person = None
    if member is not None:
        member_pk = member.pk if isinstance(member, Member) else member
        person = Member.objects.filter(household=owner, pk=member_pk).first()
        if person is None:
            raise field_error(
                "member", _("This person is not a member of this household."), "does_not_exist"
            )
    request = DataSubjectRequest.objects.create(
        household=owner,
        member=person,
        kind=kind,
        received_on=received_on,
        channel=channel,
        identity_check=identity_check.strip(),
        details=(details or "").strip(),
        due_on=request_due_on(owner.program, kind, received_on),
        **actor.stamp(),
    )
    change_record(
        instance=request,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "household": owner.code,
            "member": str(person.pk) if person else None,
            "kind": kind,
            "received_on": received_on.isoformat(),
            "due_on": request.due_on.isoformat(),
        },
        channel=via,
    )
    return request


# --- the flow ------------------------------------------------------------------------------


def _lock_request(actor: Actor, record: Any) -> DataSubjectRequest:
    pk = record.pk if isinstance(record, DataSubjectRequest) else record
    locked = (
        DataSubjectRequest.objects.select_for_update(of=("self",))
        .select_related("household", "household__program", "member")
        .filter(policies.request_q(actor))
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _need_reason(step: Step[Any]) -> None:
    if not (step.data.get("reason") or "").strip():
        raise field_error("reason", _("Give the reason."), "required")


def is_cancelled(household: Household, member: Member | None) -> bool:
    """Whether a cancellation of this person (or of the whole household) was answered."""
    about = Q(member__isnull=True) if member is None else Q(member__isnull=True) | Q(member=member)
    return (
        DataSubjectRequest.objects.filter(
            household=household, kind=RequestKind.CANCELLATION, status=RequestStatus.ANSWERED
        )
        .filter(about)
        .exists()
    )


def _person_present(step: Step[DataSubjectRequest]) -> None:
    request = step.instance
    if is_cancelled(request.household, request.member):
        raise Conflict(
            _("This person's data were cancelled (anonymised): there is nothing left to act on."),
            code="person_anonymised",
            attr="to",
        )


def _apply(step: Step[DataSubjectRequest]) -> None:
    request = step.instance
    if step.to == RequestStatus.EXTENDED:
        request.extension_reason = step.data["reason"].strip()
        request.due_on = add_working_days(
            request.due_on, request_period(request.household.program, request.kind)
        )
        step.changes["due_on"] = request.due_on.isoformat()
        step.changes["reason"] = request.extension_reason
    elif step.to in (RequestStatus.ANSWERED, RequestStatus.REFUSED):
        if step.to == RequestStatus.REFUSED:
            step.data["note"] = step.data.get("reason", "")
        _record_decision(step)


def _after(step: Step[DataSubjectRequest]) -> None:
    """Answering applies the request (same transaction: an error rolls everything back; the
    change records it writes name the request); the alerts of a request closed or extended are
    resolved."""
    request = step.instance
    if step.to == RequestStatus.ANSWERED:
        actor = cast(Actor, step.actor)
        if request.kind == RequestKind.RECTIFICATION:
            _rectify(actor, request, step.data.get("changes"), step)
        elif request.kind == RequestKind.CANCELLATION:
            household_anonymise(
                actor=actor, household=request.household, member=request.member, request=request
            )
        elif request.kind == RequestKind.OPPOSITION:
            _narrow_consent(actor, request, step.data.get("purposes"))
    if step.to != RequestStatus.IN_PROGRESS:  # closed, or a new deadline
        alerts_resolve_missing(AlertKind.DSR_DUE, [], key_prefix=f"{KEY_PREFIX}{request.pk}:")


REQUEST_FLOW: Flow[DataSubjectRequest] = Flow(
    machine=REQUEST_MACHINE,
    lock=_lock_request,
    parties=lambda step: policies.decision_parties(
        cast(Actor, step.actor), step.instance.household
    ),
    denied=lambda step: _not_staff(),
    fields={"reason": _need_reason},
    guards={PERSON_PRESENT: _person_present},
    apply=_apply,
    after=_after,
)


def request_transition(
    *,
    actor: Actor,
    request: Any,
    to: str,
    reason: str = "",
    note: str = "",
    changes: dict[str, Any] | None = None,
    purposes: list[str] | None = None,
    expected_version: int | None = None,
    channel: str = "admin",
    today: date | None = None,
) -> DataSubjectRequest:
    """Move a request: ``in_progress``; ``extended`` (once, ``reason``); ``refused``
    (``reason``); ``answered`` (``note``: the answer; a rectification needs ``changes``, the
    member's new values; an opposition ``purposes``, the purposes opposed)."""
    return transition(
        REQUEST_FLOW,
        actor=actor,
        record=request,
        to=to,
        data={"reason": reason, "note": note, "changes": changes, "purposes": purposes},
        expected_version=expected_version,
        channel=channel,
        today=today,
    )


def _rectify(
    actor: Actor, request: DataSubjectRequest, changes: Any, step: Step[Any]
) -> dict[str, Any]:
    """Apply a rectification through ``household_update`` (history names the request)."""
    if request.member is None:
        raise field_error(
            "member", _("A rectification names the person whose data change."), "required"
        )
    wanted = {k: v for k, v in (changes or {}).items() if k in MEMBER_FIELDS}
    if not wanted:
        raise field_error(
            "changes",
            _("Give the corrected values (%(fields)s).")
            % {
                "fields": ", ".join(
                    str(field.verbose_name)
                    for field in Member._meta.concrete_fields
                    if field.name in MEMBER_FIELDS
                )
            },
            "required",
        )
    household = household_update(
        actor=actor,
        household=request.household,
        data={"members": [{"id": str(request.member.pk), **wanted}]},
        expected_version=None,
        channel=step.channel,
        cause={"data_subject_request": str(request.pk)},
    )
    request.household = household
    return {"member": str(request.member.pk), "fields": sorted(wanted)}


def _narrow_consent(actor: Actor, request: DataSubjectRequest, purposes: Any) -> dict[str, Any]:
    """An opposition: a new consent record, dated today and signed off by the actor, with the
    latest consent's purposes minus the opposed ones (the older records stay as they were)."""
    opposed = [clean_choice(p, ConsentPurpose, "purposes") for p in (purposes or [])]
    if not opposed:
        raise field_error("purposes", _("Choose the purposes the person opposes."), "required")
    latest = request.household.consents.order_by("-signed_on", "-created_at", "-id").first()
    current = list(latest.purposes) if latest else []
    kept = [p for p in current if p not in opposed]
    consent = consent_record(
        actor=actor,
        household=request.household,
        purposes=kept,
        reason=_("Opposition (data-subject request)"),
        channel="admin",
        cause={"data_subject_request": str(request.pk)},
        detail={"opposed": opposed},
    )
    return {"consent": consent.pk, "opposed": opposed, "purposes": kept}


# --- alerts --------------------------------------------------------------------------------


def request_alerts_sync(*, today: date | None = None) -> dict[str, int]:
    """Raise an alert for every open request within its programme's ``dsr_warn_days`` working
    days of the deadline (``info``) or past it (``warning``); resolve the alerts of requests no
    longer in either condition (answered, refused, extended). Idempotent."""
    today = today or timezone.localdate()
    rows = (
        DataSubjectRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES)
        .values_list(
            "pk",
            "household_id",
            "household__district_id",
            "household__program_id",
            "household__program__dsr_warn_days",
            "household__code",
            "kind",
            "due_on",
        )
        .order_by()
    )
    specs: list[AlertSpec] = []
    overdue = 0
    for pk, household_id, district_id, program_id, warn, code, kind, due_on in rows.iterator(
        chunk_size=2000
    ):
        late = due_on < today
        if not late and working_days_between(today, due_on) > warn:
            continue
        overdue += late
        if late:
            message = _("Data-subject request (%(kind)s) of %(code)s is overdue (due %(due)s).")
        else:
            message = _("Data-subject request (%(kind)s) of %(code)s is due on %(due)s.")
        specs.append(
            AlertSpec(
                kind=AlertKind.DSR_DUE,
                key=f"{KEY_PREFIX}{pk}:{due_on.isoformat()}" + ("" if late else ":approaching"),
                message=message
                % {
                    "kind": RequestKind(kind).label,
                    "code": code,
                    "due": due_on.strftime("%d/%m/%Y"),
                },
                district_id=district_id,
                program_id=program_id,
                household_id=household_id,
                subject=DataSubjectRequest(pk=pk),
                severity=AlertSeverity.WARNING if late else AlertSeverity.INFO,
                owner_role=Role.PROGRAM_STAFF,
                due_on=due_on,
                details={"request": str(pk), "kind": kind},
            )
        )
    created = alerts_raise_many(specs)
    resolved = alerts_resolve_missing(
        AlertKind.DSR_DUE, [spec.key for spec in specs], key_prefix=KEY_PREFIX
    )
    return {
        "overdue": overdue,
        "approaching": len(specs) - overdue,
        "created": created,
        "resolved": resolved,
    }
