"""Producer organisations (cooperatives and associations) and their member households: adding a
member, changing its role, recording that it left; and the member a delivery under an
organisation's contract came from (``member_on``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.merging import move_records
from farmers.models import Household
from farmers.services.enrolment import require_not_before_enrolment
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind
from registry.cleaning import clean_choice
from registry.history import change_record
from registry.models import Organization
from registry.services import check_version, field_error

from .. import policies
from ..choices import MemberRole
from ..models import ProducerMembership


def producer_organization(code: Any, attr: str) -> Organization:
    """The active producer organisation with ``code``, or a field error on ``attr``."""
    organization = Organization.objects.filter(
        code=str(code or ""), kind=OrganizationKind.PRODUCER_ORG, is_active=True
    ).first()
    if organization is None:
        raise field_error(attr, _("Unknown producer organisation."), "does_not_exist")
    return organization


def _check_day(household: Household, day: date, attr: str, today: date) -> None:
    if day > today:
        raise field_error(attr, _("The date cannot be in the future."), "future_date")
    require_not_before_enrolment(household, day, attr)


@transaction.atomic
def membership_create(
    *,
    actor: Actor,
    organization: Any,
    household: Any,
    joined_on: date,
    role: str = MemberRole.MEMBER,
    channel: str = "api",
    today: date | None = None,
) -> ProducerMembership:
    """Record that a household joined a producer organisation on ``joined_on`` (not in the
    future, not before the family's enrolment), with its role. Programme people with
    households:write in the household's area; a household already an open member of the
    organisation is refused (``already_member``)."""
    today = today or timezone.localdate()
    org = (
        organization
        if isinstance(organization, Organization)
        and organization.kind == OrganizationKind.PRODUCER_ORG
        else producer_organization(organization, "organization")
    )
    owner = household if isinstance(household, Household) else None
    if owner is None:
        owner = Household.objects.filter(pk=household).first()
    if owner is None or not policies.offer_can(actor, owner, "view"):
        raise field_error("household", _("Unknown household."), "does_not_exist")
    policies.require_membership(actor, owner)
    role = clean_choice(role, MemberRole, "role")
    _check_day(owner, joined_on, "joined_on", today)
    open_one = ProducerMembership.objects.select_for_update().filter(
        organization=org, household=owner, left_on__isnull=True
    )
    if open_one.exists():
        raise field_error(
            "household",
            _("This household is already a member of this organisation."),
            "already_member",
        )
    overlapping = ProducerMembership.objects.filter(
        organization=org, household=owner, left_on__gte=joined_on
    )
    if overlapping.exists():
        raise field_error(
            "joined_on",
            _("The household was still a member of this organisation on that day."),
            "overlapping_membership",
        )
    membership = ProducerMembership(
        organization=org,
        household=owner,
        district_id=owner.district_id,
        program_id=owner.program_id,
        role=role,
        joined_on=joined_on,
        **actor.stamp(),
    )
    membership.full_clean(exclude=["organization", "household", "district", "program"])
    try:
        with transaction.atomic():
            membership.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent request added the same open membership
        raise field_error(
            "household",
            _("This household is already a member of this organisation."),
            "already_member",
        ) from exc
    change_record(
        instance=membership,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "organization": org.code,
            "household": owner.code,
            "role": role,
            "joined_on": joined_on.isoformat(),
        },
        channel=channel,
    )
    return membership


@transaction.atomic
def membership_update(
    *,
    actor: Actor,
    membership: ProducerMembership,
    role: str | None = None,
    left_on: date | None = None,
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> ProducerMembership:
    """Change a member's role, or record the day it left (not in the future, not before it
    joined; a membership that has ended stays ended). Each change is a new version with its
    change record."""
    today = today or timezone.localdate()
    locked = (
        ProducerMembership.objects.select_for_update()
        .select_related("household")
        .get(pk=membership.pk)
    )
    policies.require_membership(actor, locked.household)
    check_version(locked, expected_version)
    changes: dict[str, Any] = {}
    if role is not None:
        role = clean_choice(role, MemberRole, "role")
        if role != locked.role:
            changes["role"] = [locked.role, role]
            locked.role = role
    if left_on is not None and left_on != locked.left_on:
        if locked.left_on is not None:
            raise field_error(
                "left_on", _("This membership has already ended."), "membership_ended"
            )
        if left_on > today:
            raise field_error("left_on", _("The date cannot be in the future."), "future_date")
        if left_on < locked.joined_on:
            raise field_error(
                "left_on",
                _("A member cannot leave before joining (%(date)s).")
                % {"date": locked.joined_on.strftime("%d/%m/%Y")},
                "before_joined",
            )
        changes["left_on"] = [None, left_on.isoformat()]
        locked.left_on = left_on
    if not changes:
        return locked
    locked.touch("role", "left_on")
    change_record(
        instance=locked, action=ChangeAction.UPDATE, actor=actor, changes=changes, channel=channel
    )
    return locked


def member_on(organization_id: int, household_id: Any, day: date) -> Household | None:
    """The household if it was a member of the organisation on ``day`` (one query), else
    ``None`` (an unknown id gets the same answer)."""
    membership = (
        ProducerMembership.objects.filter(
            organization_id=organization_id, household_id=household_id, joined_on__lte=day
        )
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=day))
        .select_related("household")
        .first()
    )
    return None if membership is None else membership.household


def memberships_merge(source: Household, target: Household, actor: Actor) -> dict[str, Any]:
    """The memberships part of a household merge: ``source``'s open memberships of an
    organisation ``target`` is an open member of end the day of the merge (the survivor's
    membership stands), then all of ``source``'s memberships move to ``target``."""
    today = timezone.localdate()
    clashing = ProducerMembership.objects.select_for_update().filter(
        household=source,
        left_on__isnull=True,
        organization_id__in=ProducerMembership.objects.filter(
            household=target, left_on__isnull=True
        ).values("organization_id"),
    )
    ended = 0
    for membership in clashing.order_by("pk"):
        membership.left_on = max(today, membership.joined_on)
        membership.touch("left_on")
        ended += 1
    moved = move_records(ProducerMembership.objects.filter(household=source), source, target, actor)
    return {"memberships": moved, "memberships_ended": ended}
