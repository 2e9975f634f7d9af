"""Merging two registrations of one family."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import webhooks
from registry.actors import Actor
from registry.choices import ChangeAction, Scope, WebhookEventType
from registry.exceptions import InvalidTransition
from registry.history import change_record
from registry.models import Alert
from registry.services import field_error

from ..choices import LIVE_STATUSES, DuplicateStatus, HouseholdStatus, Relationship
from ..merging import MERGED_FROM, run_merge_handlers
from ..models import (
    Agreement,
    Consent,
    CropInstallation,
    DedupKey,
    Eradication,
    Household,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    PracticeAdoption,
    StageChange,
    Support,
    TrainingAttendance,
    Verification,
)
from ..reporting import summaries
from ..transition import recompute_on_commit
from .common import _household_for_write
from .dedup import _refresh_dedup_keys
from .head import refresh_head_profile


@transaction.atomic
def household_merge(*, actor: Actor, source: Household, target: Household) -> Household:
    """Merge ``source`` into ``target``, in one transaction: everything recorded about the
    family moves to the surviving household — plots (with their crop installations), consents,
    agreements, visits, support, the alerts about it and its stage ledger (kept, annotated with
    ``merged_from``), then whatever the apps above registered a merge handler for (title files,
    contracts, deliveries, offers: ``farmers.merging``), training attendance and practices; its
    members move unless the target already has their ID; both keep their history and both
    stages are recomputed after commit.
    A failing handler rolls the whole merge back."""
    if source.pk == target.pk:
        raise field_error("candidate", _("A household cannot be merged into itself."), "invalid")
    source = _household_for_write(actor, source.pk, scope=Scope.HOUSEHOLDS_REVIEW)
    target = _household_for_write(actor, target.pk, scope=Scope.HOUSEHOLDS_REVIEW)
    # The dashboard's summaries follow both households (the support moves to the target).
    with summaries.tracking([source.pk, target.pk]):
        return _merge(actor=actor, source=source, target=target)


def _merge(*, actor: Actor, source: Household, target: Household) -> Household:
    """The merge of two locked households (see :func:`household_merge`)."""
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
    refresh_head_profile([source.pk, target.pk])
    counts: dict[str, Any] = {
        # Plots are versioned: a moved plot is a new version (its ETag changes).
        "plots": Plot.objects.filter(household=source).touch(household=target),
        "agreements": Agreement.objects.filter(household=source).update(household=target),
        "verifications": Verification.objects.filter(household=source).update(household=target),
        "support": Support.objects.filter(household=source).update(household=target),
        # Crop installations follow their plots (versioned: new versions).
        "crop_installations": CropInstallation.objects.filter(household=source).touch(
            household=target
        ),
        "consents": Consent.objects.filter(household=source).update(household=target),
        # Training attendance and practices adopted follow the family (issue 17).
        "training_attendances": TrainingAttendance.objects.filter(household=source).update(
            household=target
        ),
        "practices": PracticeAdoption.objects.filter(household=source).update(household=target),
        # Eradications follow their plots (versioned: new versions); they are coca evidence.
        "eradications": Eradication.objects.filter(household=source).touch(household=target),
        "alerts": _move_alerts(source, target),
        "stage_changes": _move_ledger(source, target),
    }
    counts.update(run_merge_handlers(source, target, actor))
    # Plots of one family never "overlap" each other: drop pairs now inside the target.
    target_plots = Plot.objects.filter(household=target).values("pk")
    PlotOverlap.objects.filter(plot__in=target_plots, other__in=target_plots).delete()
    merged_from = source.status
    source.status = HouseholdStatus.MERGED
    source.merged_into = target
    source.touch("status", "merged_into")
    webhooks.record(
        WebhookEventType.HOUSEHOLD_STATUS_CHANGED,
        source.pk,
        district_id=source.district_id,
        program_id=source.program_id,
        **{"from": merged_from, "to": source.status},
    )
    DedupKey.objects.filter(household=source).delete()
    # The family enrolled when its first registration did: the earlier of the two dates.
    earlier = [d for d in (source.enrolled_on, target.enrolled_on) if d is not None]
    if earlier and min(earlier) != target.enrolled_on:
        target.enrolled_on = min(earlier)
        target.touch("enrolled_on")
    else:
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


def _move_alerts(source: Household, target: Household) -> int:
    """Alerts about ``source`` (its ``household_id``, or the household as their subject) now
    concern ``target``, scoped like it. Live engine alerts keep their keys: the survivor's
    recompute resolves those whose condition no longer holds and raises its own."""
    household_type = ContentType.objects.get_for_model(Household)
    scope = {"district_id": target.district_id, "program_id": target.program_id}
    moved = Alert.objects.filter(subject_type=household_type, subject_id=str(source.pk)).touch(
        household_id=target.pk, subject_id=str(target.pk), **scope
    )
    moved += Alert.objects.filter(household_id=source.pk).touch(household_id=target.pk, **scope)
    return moved


def _move_ledger(source: Household, target: Household) -> int:
    """The source's stage ledger moves to ``target``, each row annotated with the merge
    (``evidence["merged_from"]``, ``evidence["merged_on"]``) so replays of the survivor's own
    moves leave it out (``StageChange.objects.own()``), and scoped like the survivor."""
    rows = list(StageChange.objects.filter(household=source))
    merged_on = timezone.localdate().isoformat()
    for row in rows:
        row.household = target
        row.district_id = target.district_id
        row.program_id = target.program_id
        row.evidence = {**(row.evidence or {}), MERGED_FROM: source.code, "merged_on": merged_on}
    StageChange.objects.bulk_update(rows, ["household", "district", "program", "evidence"])
    return len(rows)
