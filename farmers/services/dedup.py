"""Deduplication: an ID already live elsewhere is a 409; near matches (blocking keys, then
names, phones and birth dates) are queued as possible duplicates for staff to dismiss or merge."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.exceptions import Conflict, InvalidTransition, PermissionDenied
from registry.history import change_record

from .. import policies
from ..choices import LIVE_STATUSES, DuplicateStatus
from ..identity import Person, blocking_keys, near_match, search_keys
from ..models import DedupKey, Household, Member, PossibleDuplicate

MAX_DUPLICATE_CANDIDATES = 25


def _check_documents_free(members: list[dict[str, Any]], *, actor: Actor, exclude: Any) -> None:
    """409 ``duplicate`` when an ID is already in another live household."""
    documents = Q(pk__in=[])
    for member in members:
        if member["document_number"]:
            documents |= Q(
                document_type=member["document_type"],
                document_index=blind_index(PURPOSE_DOCUMENT, member["document_number"]),
            )
    clash = (
        Member.objects.filter(documents, is_live=True)
        .exclude(household_id=exclude)
        .select_related("household")
        .first()
    )
    if clash is not None:
        _raise_duplicate(actor, clash)


def _raise_duplicate(actor: Actor, clash: Member) -> None:
    household = clash.household
    index = None
    visible = policies.household_can(actor, household, "view")
    detail = _("The ID %(number)s is already registered in another household.") % {
        "number": clash.document_number
    }
    extra: dict[str, Any] = {}
    if visible:
        detail = _("The ID %(number)s is already registered in household %(code)s.") % {
            "number": clash.document_number,
            "code": household.code,
        }
        extra = {"household": str(household.pk), "household_code": household.code}
    raise Conflict(detail, code="duplicate", attr=index, extra=extra)


def _member_keys(member: Member | dict[str, Any], district: str) -> set[str]:
    if isinstance(member, dict):
        return blocking_keys(
            member["given_names"],
            member["surnames"],
            member["birth_date"],
            district,
            member.get("phone") or None,
        )
    return blocking_keys(
        member.given_names, member.surnames, member.birth_date, district, member.phone or None
    )


def _refresh_dedup_keys(household: Household) -> set[str]:
    """Rewrite a household's blocking keys from its active members."""
    keys: set[str] = set()
    for member in household.members.filter(is_active=True):
        keys |= _member_keys(member, household.district_id)
    DedupKey.objects.filter(household=household).delete()
    if household.status in LIVE_STATUSES:
        DedupKey.objects.bulk_create([DedupKey(household=household, key=k) for k in sorted(keys)])
    return keys


def _find_possible_duplicates(
    household: Household, keys: set[str], members: list[Member]
) -> list[PossibleDuplicate]:
    """Near matches of a new household, without scanning the table.

    The households sharing most blocking keys with it (an indexed lookup, ranked in SQL) are
    compared member by member: a pair is a near match when the names are similar (accents, case
    and surname order ignored) and either the phone is the same, or the birth dates are within a
    year in the same district.
    """
    ranked = (
        DedupKey.objects.filter(key__in=sorted(search_keys(keys)))
        .exclude(household=household)
        .values("household_id")
        .annotate(shared=Count("id"))
        .order_by("-shared")[:MAX_DUPLICATE_CANDIDATES]
    )
    candidate_ids = [row["household_id"] for row in ranked]
    if not candidate_ids:
        return []
    ours: list[Person] = [(m.given_names, m.surnames, m.birth_date, m.phone) for m in members]
    candidates = Household.objects.filter(
        pk__in=candidate_ids, status__in=LIVE_STATUSES
    ).prefetch_related(Prefetch("members", queryset=Member.objects.filter(is_active=True)))
    found: list[PossibleDuplicate] = []
    for candidate in candidates:
        theirs: list[Person] = [
            (m.given_names, m.surnames, m.birth_date, m.phone) for m in candidate.members.all()
        ]
        match = near_match(
            ours, theirs, same_district=candidate.district_id == household.district_id
        )
        if match is not None:
            score, reasons = match
            found.append(
                PossibleDuplicate(
                    household=household, candidate=candidate, score=score, reasons=reasons
                )
            )
    PossibleDuplicate.objects.bulk_create(found, ignore_conflicts=True)
    return found


@transaction.atomic
def duplicate_dismiss(*, actor: Actor, duplicate: PossibleDuplicate) -> PossibleDuplicate:
    """Staff decided the two households are different families (both must be in their area)."""
    if not policies.duplicate_can(actor, duplicate, "review"):
        raise PermissionDenied(_("Your role may not resolve duplicates."), code="missing_scope")
    if duplicate.status != DuplicateStatus.OPEN:
        raise InvalidTransition(duplicate.status, DuplicateStatus.DISMISSED, [])
    duplicate.status = DuplicateStatus.DISMISSED
    duplicate.resolved_by = actor.user
    duplicate.resolved_at = timezone.now()
    duplicate.save()
    change_record(
        instance=duplicate.household,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"possible_duplicate": [duplicate.candidate.code, "dismissed"]},
    )
    return duplicate
