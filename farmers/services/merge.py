"""Merging two registrations of one family."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.exceptions import InvalidTransition
from registry.history import change_record
from registry.services import field_error

from ..choices import LIVE_STATUSES, DuplicateStatus, HouseholdStatus, Relationship
from ..models import (
    Agreement,
    Consent,
    DedupKey,
    Household,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    Support,
    Verification,
)
from ..transition import recompute_on_commit
from .common import _household_for_write
from .dedup import _refresh_dedup_keys


@transaction.atomic
def household_merge(*, actor: Actor, source: Household, target: Household) -> Household:
    """Merge ``source`` into ``target``: its plots, visits, agreements, support and consents
    move; its members move unless the target already has their ID; both keep their history."""
    if source.pk == target.pk:
        raise field_error("candidate", _("A household cannot be merged into itself."), "invalid")
    source = _household_for_write(actor, source.pk, scope=Scope.HOUSEHOLDS_REVIEW)
    target = _household_for_write(actor, target.pk, scope=Scope.HOUSEHOLDS_REVIEW)
    if source.status not in LIVE_STATUSES or target.status not in LIVE_STATUSES:
        raise InvalidTransition(source.status, HouseholdStatus.MERGED, [])
    source_status = source.status
    target_documents = set(
        target.members.filter(is_active=True)
        .exclude(document_number="")
        .values_list("document_type", "document_number")
    )
    moved_members, dropped_members = [], []
    for member in source.members.filter(is_active=True):
        if (member.document_type, member.document_number) in target_documents:
            member.is_active = False
            member.is_live = False
            dropped_members.append(str(member))
        else:
            member.household = target
            member.is_head = False
            if member.relationship == Relationship.HEAD:
                member.relationship = Relationship.OTHER
            moved_members.append(str(member))
        member.save()
    counts = {
        "plots": Plot.objects.filter(household=source).update(household=target),
        "agreements": Agreement.objects.filter(household=source).update(household=target),
        "verifications": Verification.objects.filter(household=source).update(household=target),
        "support": Support.objects.filter(household=source).update(household=target),
        "consents": Consent.objects.filter(household=source).update(household=target),
    }
    # Plots of one family never "overlap" each other: drop pairs now inside the target.
    target_plots = Plot.objects.filter(household=target).values("pk")
    PlotOverlap.objects.filter(plot__in=target_plots, other__in=target_plots).delete()
    source.status = HouseholdStatus.MERGED
    source.merged_into = target
    source.touch("status", "merged_into")
    DedupKey.objects.filter(household=source).delete()
    target.touch()
    _refresh_dedup_keys(target)
    recompute_on_commit([source.pk, target.pk])
    PossibleDuplicate.objects.filter(
        Q(household=source, candidate=target) | Q(household=target, candidate=source)
    ).update(status=DuplicateStatus.MERGED, resolved_by=actor.user, resolved_at=timezone.now())
    change_record(
        instance=source,
        action=ChangeAction.TRANSITION,
        actor=actor,
        changes={"status": [source_status, HouseholdStatus.MERGED], "merged_into": target.code},
    )
    change_record(
        instance=target,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={
            "merged_from": source.code,
            "members_moved": moved_members,
            "members_already_here": dropped_members,
            **counts,
        },
    )
    return target
