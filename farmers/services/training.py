"""Technical assistance and training: events, their attendance and the practices families
adopted afterwards. An event's cost counts once (not per family); its funding source is a funder
organization, and a funding agreement, when named, must hold the event's date."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.cleaning import clean_choice, clean_decimal, typed_number
from registry.exceptions import NotFound
from registry.funding import funding_resolve
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.models import District, Program
from registry.services import field_error

from .. import policies
from ..choices import HouseholdStatus, Practice, TrainingTopic
from ..models import Member, PracticeAdoption, TrainingAttendance, TrainingEvent
from .common import _household_for_write, _may_write
from .enrolment import require_not_before_enrolment

MAX_ATTENDEES = 500
MAX_COST = Decimal("10000000")
# Families still in review may attend; rejected, inactive or merged records may not.
ATTENDING_STATUSES = (HouseholdStatus.ACTIVE, HouseholdStatus.PENDING_REVIEW)


def _member_ids(values: Iterable[Any], attr: str) -> list[uuid.UUID]:
    """Member ids as UUIDs, in order, without repeats (``attr.N``: ``invalid``)."""
    ids: dict[uuid.UUID, None] = {}
    values = list(values)
    if len(values) > MAX_ATTENDEES:
        raise field_error(
            attr, _("At most %(max)s attendees a request.") % {"max": MAX_ATTENDEES}, "max_length"
        )
    for n, value in enumerate(values):
        try:
            ids[value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))] = None
        except ValueError as exc:
            raise field_error(f"{attr}.{n}", _("Enter a valid member id."), "invalid") from exc
    return list(ids)


def _may_train(actor: Actor) -> Any:
    """A retried create answers with the stored event only when ``actor`` may write there."""
    return lambda event: actor.covers(
        district=event.district_id, program=event.program_id, scope=Scope.HOUSEHOLDS_WRITE
    )


def training_members_check(
    *, actor: Actor, program_id: int, held_on: date, member_ids: list[uuid.UUID], attr: str
) -> dict[uuid.UUID, Member]:
    """The members who may attend an event of ``program_id`` held on ``held_on``: each one an
    active member of a family of that programme in the actor's area, enrolled by that date.
    One bad id refuses the whole list (field errors ``attr.N``)."""
    members = {
        m.pk: m
        for m in Member.objects.filter(pk__in=member_ids)
        .filter(policies.member_q(actor, Scope.HOUSEHOLDS_WRITE))
        .select_related("household")
    }
    errors: dict[str, list[ValidationError]] = {}
    for n, pk in enumerate(member_ids):
        member = members.get(pk)
        where = f"{attr}.{n}"
        if member is None or not member.is_active:
            message, code = _("No active member with this id in your area."), "does_not_exist"
        elif member.household.status not in ATTENDING_STATUSES:
            message, code = _("This member's household is not registered."), "inactive_household"
        elif member.household.program_id != program_id:
            message, code = _("This member's household is in another programme."), "other_program"
        else:
            try:
                require_not_before_enrolment(member.household, held_on, where)
            except ValidationError as exc:
                exc.update_error_dict(errors)
            continue
        errors[where] = [ValidationError(message, code=code)]
    if errors:
        raise ValidationError(errors)
    return members


def _add_attendees(
    actor: Actor, event: TrainingEvent, member_ids: list[uuid.UUID], attr: str
) -> list[TrainingAttendance]:
    """Put members on the event's attendance (those already on it are skipped), all or
    nothing (``training_members_check``)."""
    if not member_ids:
        return []
    members = training_members_check(
        actor=actor,
        program_id=event.program_id,
        held_on=event.held_on,
        member_ids=member_ids,
        attr=attr,
    )
    present = set(
        TrainingAttendance.objects.filter(event=event, member_id__in=member_ids).values_list(
            "member_id", flat=True
        )
    )
    rows = [
        TrainingAttendance(
            event=event,
            member_id=pk,
            household_id=members[pk].household_id,
            **actor.stamp(),
        )
        for pk in member_ids
        if pk not in present
    ]
    TrainingAttendance.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


@replays_lost_race(TrainingEvent)
@transaction.atomic
def training_event_create(
    *,
    actor: Actor,
    program: str,
    district: str,
    date: date,
    topic: str,
    facilitator: str,
    place: str = "",
    cost_pen: Any = "0",
    funding_source: str | None = None,
    funding_agreement: str | None = None,
    note: str = "",
    attendees: Iterable[Any] = (),
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[TrainingEvent, bool]:
    """Record a technical-assistance or training event of a programme in a district of the
    actor's area, with its attendance (member ids; more can be added later). Idempotent on
    ``id`` (an offline phone resends it): the same payload returns the stored event."""
    member_ids = _member_ids(attendees, "attendees")
    payload = {
        "program": program,
        "district": district,
        "date": date,
        "topic": topic,
        "facilitator": facilitator,
        "place": place,
        "cost": str(cost_pen),
        "funding": [funding_source or "", funding_agreement or ""],
        "note": note,
        "attendees": sorted(str(pk) for pk in member_ids),
    }
    digest = request_hash(payload)
    existing = replayed(TrainingEvent, id, digest, may_see=_may_train(actor))
    if existing is not None:
        return existing, False
    programme = Program.objects.filter(code=program, is_active=True).first()
    if programme is None:
        raise field_error("program", _("Unknown programme code."), "does_not_exist")
    place_district = District.objects.filter(ubigeo=district).first()
    if place_district is None:
        raise field_error("district", _("Unknown district ubigeo."), "does_not_exist")
    policies.require_in_area(actor, district=place_district, program=programme)
    if date > (today or timezone.localdate()):
        raise field_error("date", _("The date cannot be in the future."), "future_date")
    topic = clean_choice(topic, TrainingTopic, "topic")
    if not facilitator.strip():
        raise field_error("facilitator", _("Name who gave the training."), "required")
    cost = clean_decimal(typed_number(cost_pen), "cost_pen", max_value=MAX_COST)
    funding = funding_resolve(
        source=funding_source,
        agreement=funding_agreement,
        on=date,
        program_id=programme.pk,
        date_attr="date",
    )
    event = TrainingEvent.objects.create(
        program=programme,
        district=place_district,
        held_on=date,
        topic=topic,
        place=place.strip()[:200],
        facilitator=facilitator.strip()[:200],
        cost_pen=cost.quantize(Decimal("0.01")),
        funding_source=funding.source,
        funding_agreement=funding.agreement,
        note=note.strip(),
        request_hash=digest,
        **actor.stamp(),
        **({"id": id} if id is not None else {}),
    )
    added = _add_attendees(actor, event, member_ids, "attendees")
    change_record(
        instance=event,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "date": str(date),
            "topic": topic,
            "cost_pen": str(event.cost_pen),
            "funding_source": funding.source.code if funding.source else None,
            "funding_agreement": funding.agreement.code if funding.agreement else None,
            "attendees": len(added),
        },
        channel=channel,
    )
    return event, True


@transaction.atomic
def training_attendees_add(
    *, actor: Actor, event: Any, members: Iterable[Any], channel: str = "api"
) -> tuple[TrainingEvent, int]:
    """Add members to an event's attendance; idempotent (members already on it are skipped,
    a resend adds nothing). Returns the event and how many were added."""
    pk = event.pk if isinstance(event, TrainingEvent) else event
    locked = (
        TrainingEvent.objects.select_for_update()
        .filter(
            actor.area_q(
                district_path="district_id",
                program_path="program_id",
                scope=Scope.HOUSEHOLDS_WRITE,
            ),
            pk=pk,
            is_active=True,
        )
        .first()
    )
    if locked is None:
        raise NotFound()
    added = _add_attendees(actor, locked, _member_ids(members, "members"), "members")
    if added:
        locked.touch()
        change_record(
            instance=locked,
            action=ChangeAction.UPDATE,
            actor=actor,
            changes={"attendees_added": len(added)},
            channel=channel,
        )
    return locked, len(added)


@replays_lost_race(PracticeAdoption)
@transaction.atomic
def practice_record(
    *,
    actor: Actor,
    household: Any,
    practice: str,
    adopted_on: date,
    member: Any = None,
    event: Any = None,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[PracticeAdoption, bool]:
    """Record a good practice a family (or one of its members) adopted, optionally after a
    training event (not before it). Idempotent on ``id``."""
    payload = {
        "household": str(household),
        "practice": practice,
        "adopted_on": adopted_on,
        "member": str(member or ""),
        "event": str(event or ""),
    }
    digest = request_hash(payload)
    existing = replayed(PracticeAdoption, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    practice = clean_choice(practice, Practice, "practice")
    if adopted_on > (today or timezone.localdate()):
        raise field_error("adopted_on", _("The date cannot be in the future."), "future_date")
    require_not_before_enrolment(owner, adopted_on, "adopted_on")
    person = None
    if member:
        person = Member.objects.filter(pk=member, household=owner, is_active=True).first()
        if person is None:
            raise field_error(
                "member", _("Choose an active member of this household."), "not_in_household"
            )
    training = None
    if event:
        training = TrainingEvent.objects.filter(
            pk=event, is_active=True, program_id=owner.program_id
        ).first()
        if training is None:
            raise field_error(
                "event",
                _("No training event of the household's programme with this id."),
                "does_not_exist",
            )
        if adopted_on < training.held_on:
            raise field_error(
                "adopted_on",
                _("A practice is adopted after the training, not before."),
                "before_training",
            )
    adoption = PracticeAdoption.objects.create(
        household=owner,
        member=person,
        event=training,
        practice=practice,
        adopted_on=adopted_on,
        request_hash=digest,
        **actor.stamp(),
        **({"id": id} if id is not None else {}),
    )
    change_record(
        instance=adoption,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "practice": practice, "adopted_on": str(adopted_on)},
        channel=channel,
    )
    return adoption, True
