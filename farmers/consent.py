"""Consent governs reads (issue 19, point 2): the one place that says which purposes a
household's current consent grants and what a caller may therefore see of it.

A household's **current consent** is its latest version (``signed_on``, then ``created_at``):
registration records the first one, a withdrawal or a narrowing records a new one
(``services.consent_record``). Lists read it set-based: ``with_consent`` annotates the current
purposes on the queryset (a correlated subquery on ``consent_current_idx``, no query per row).

**Who needs which purpose** (``KIND_PURPOSE``; docs/data-protection.md): a caller acts for an
organization (a key's, or the organization of each of a person's memberships covering the
household), and each kind of organization needs one purpose to see the family's personal data:

==================== ===================== ==========================================
organization kind    purpose needed        why
==================== ===================== ==========================================
programme agency     ``registry``          the programme itself
implementer          ``registry``          processes the registry for the programme
titling authority    ``partner_sharing``   a partner agency outside the programme
buyer                ``buyer_sharing``     contracts, deliveries and EUDR files
funder               ``statistics``        never personal data: aggregates only
==================== ===================== ==========================================

Without it the caller gets the record **pseudonymised**: the household's id, code, district and
programme (and statuses, dates and quantities), but no names, ID numbers, phones, birth dates,
community, exact geometry (plots' ``geometry`` is ``null``, not a district centroid), GPS
points or photo digests. Funders are pseudonymised whatever the consent (``NEVER_PERSONAL``).
Photos need ``photos`` besides, for every caller outside the programme. Superusers and the
system (``actor=None``) see everything. The stage and coca figures keep their own rule
(``farmers.policies``): consent narrows what a role may see, it never widens it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import JSONField, OuterRef, QuerySet, Subquery

from registry.actors import Actor
from registry.choices import OrganizationKind

from .choices import ConsentPurpose
from .models import Consent, Household

KIND_PURPOSE: Mapping[str, str] = {
    OrganizationKind.PROGRAM_AGENCY: ConsentPurpose.REGISTRY,
    OrganizationKind.IMPLEMENTER: ConsentPurpose.REGISTRY,
    OrganizationKind.TITLING_AUTHORITY: ConsentPurpose.PARTNER_SHARING,
    OrganizationKind.BUYER: ConsentPurpose.BUYER_SHARING,
    # A cooperative or association sells its members' produce to buyers (and may buy from them):
    # the family's commercial partner, under the same purpose as a buyer.
    OrganizationKind.PRODUCER_ORG: ConsentPurpose.BUYER_SHARING,
    OrganizationKind.FUNDER: ConsentPurpose.STATISTICS,
}
#: Kinds that never see personal data, whatever the consent (aggregates and pseudonyms only).
NEVER_PERSONAL = frozenset({OrganizationKind.FUNDER})
#: The purpose buyers' EUDR files need (``markets.eudr``).
EUDR_PURPOSE = ConsentPurpose.BUYER_SHARING
#: What a pseudonymised household keeps: who it is in the registry, never who the family is.
PSEUDONYM_FIELDS = ("id", "code", "district", "program")

ANNOTATION = "consent_purposes"
_MISSING = object()


# --- the current consent, set-based ----------------------------------------------------------


def current_purposes_subquery(household_path: str = "pk") -> Subquery:
    """The purposes of the current consent of the household at ``household_path`` (``pk`` on
    households, ``household_id`` on their records), as a correlated subquery."""
    latest = Consent.objects.filter(household_id=OuterRef(household_path)).order_by(
        "-signed_on", "-created_at", "-id"
    )
    return Subquery(latest.values("purposes")[:1], output_field=JSONField())


def with_consent(queryset: QuerySet[Any], household_path: str = "pk") -> QuerySet[Any]:
    """``queryset`` with each row's household's current purposes annotated (no extra query)."""
    return queryset.annotate(**{ANNOTATION: current_purposes_subquery(household_path)})


def current_purposes_of(household_ids: Iterable[Any]) -> dict[Any, list[str]]:
    """``{household_id: purposes}`` of the current consents (one query; no consent: absent)."""
    latest: dict[Any, list[str]] = {}
    rows = (
        Consent.objects.filter(household_id__in=list(household_ids))
        .order_by("household_id", "-signed_on", "-created_at", "-id")
        .values_list("household_id", "purposes")
    )
    for household_id, purposes in rows:
        latest.setdefault(household_id, list(purposes or []))
    return latest


def current_purposes(record: Any) -> frozenset[str]:
    """The current purposes of ``record``'s household: the annotation when the queryset had it
    (``with_consent``), else one query (a single read after a write)."""
    value: Any = getattr(record, ANNOTATION, _MISSING)
    if value is _MISSING:
        household_id = record.pk if isinstance(record, Household) else record.household_id
        value = current_purposes_of([household_id]).get(household_id, [])
        setattr(record, ANNOTATION, value)
    return frozenset(value or ())


# --- who needs what ---------------------------------------------------------------------------


def _place(record: Any) -> tuple[str, int]:
    """The district and programme of ``record``'s household: its own denormalised columns
    when it has both (no join), else its household's."""
    if not isinstance(record, Household) and not (
        hasattr(record, "district_id") and hasattr(record, "program_id")
    ):
        record = record.household
    return record.district_id, record.program_id


def _kinds(actor: Actor, district: str, program: int) -> frozenset[str]:
    """The kinds of organization ``actor`` reads ``district`` and ``program`` for: its key's
    organization, or the organizations of the person's memberships covering them."""
    if actor.api_key is not None:
        return frozenset({actor.api_key.organization.kind})
    return frozenset(
        area.organization_kind
        for area in actor.covering(district=district, program=program)
        if area.organization_kind
    )


def purposes_needed(actor: Actor | None, district: str, program: int) -> frozenset[str] | None:
    """The purposes any one of which lets ``actor`` see personal data of a household in
    ``district`` and ``program`` (``None``: no consent needed, the system or a superuser;
    empty: none suffices)."""
    if actor is None or actor.unrestricted:
        return None
    key = f"consent.needed:{district}:{program}"
    if key not in actor.memo:
        kinds = _kinds(actor, district, program)
        actor.memo[key] = frozenset(
            KIND_PURPOSE[kind]
            for kind in kinds
            if kind in KIND_PURPOSE and kind not in NEVER_PERSONAL
        )
    needed: frozenset[str] = actor.memo[key]
    return needed


def personal_visible(actor: Actor | None, record: Any) -> bool:
    """Whether ``actor`` sees the personal data of ``record`` (a household, or a record with a
    ``household``): its household's current consent grants a purpose ``actor`` needs."""
    needed = purposes_needed(actor, *_place(record))
    if needed is None:
        return True
    return bool(needed & current_purposes(record))


def photo_visible(actor: Actor | None, record: Any) -> bool:
    """Whether ``actor`` sees ``record``'s photo (its digest): the personal data, and, outside
    the programme (a purpose other than ``registry``), the ``photos`` purpose too."""
    if not personal_visible(actor, record):
        return False
    needed = purposes_needed(actor, *_place(record))
    if needed is None or ConsentPurpose.REGISTRY in needed:
        return True
    return ConsentPurpose.PHOTOS in current_purposes(record)


def eudr_allowed(purposes: Iterable[str]) -> bool:
    """Whether a household with these current purposes may appear, named and located, in a
    buyer's EUDR file."""
    return EUDR_PURPOSE in set(purposes)


# --- masking -----------------------------------------------------------------------------------


def mask(data: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each of ``fields`` replaced by its pseudonymised value (``None``, ``""``
    or ``[]``), present keys only: the shape of the record stays the same."""
    for name, empty in fields.items():
        if name in data:
            data[name] = empty() if callable(empty) else empty
    return data


def pseudonym(household: Household) -> dict[str, Any]:
    """What anyone allowed to see a household at all may see of it: id, code, district and
    programme (webhooks, pseudonymised records)."""
    return {
        "household": str(household.pk),
        "code": household.code,
        "district": household.district_id,
        "program": household.program.code,
    }


__all__ = [
    "ANNOTATION",
    "EUDR_PURPOSE",
    "KIND_PURPOSE",
    "NEVER_PERSONAL",
    "PSEUDONYM_FIELDS",
    "current_purposes",
    "current_purposes_of",
    "current_purposes_subquery",
    "eudr_allowed",
    "mask",
    "personal_visible",
    "photo_visible",
    "pseudonym",
    "purposes_needed",
    "with_consent",
]
