"""Households: registration (members, consent, deduplication), changes to a household and its
members, and review (``workflow.HOUSEHOLD_MACHINE`` through ``registry.workflow``)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope, WebhookEventType
from registry.exceptions import PermissionDenied
from registry.history import change_record, diff, record_update, snapshot
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.models import District, Program
from registry.services import check_version, field_error
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import LIVE_STATUSES, HouseholdStatus, Relationship
from ..identity import normalize_name, search_words
from ..models import MEMBER_FIELDS, Consent, DedupKey, Household, Member
from ..reporting import summaries
from ..transition import recompute_on_commit
from ..workflow import CONSENT_ON_RECORD, HOUSEHOLD_MACHINE, MAKER_CHECKER
from .cleaning import _clean_consent, _clean_members
from .common import _household_for_write, _may_write, _need_review_reason
from .dedup import (
    _check_documents_free,
    _find_possible_duplicates,
    _member_keys,
    _refresh_dedup_keys,
)
from .head import set_head

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


# Base 32 of the operating system's randomness, spelt in ``CODE_ALPHABET``.
_TO_CODE_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET)


def _new_codes(count: int) -> list[str]:
    """``count`` random household codes (``HH-`` and 10 characters: 50 random bits each), the
    randomness of all read at once (an import draws 2,000 per chunk)."""
    text = base64.b32encode(secrets.token_bytes(10 * count)).decode().translate(_TO_CODE_ALPHABET)
    return ["HH-" + text[16 * i : 16 * i + 10] for i in range(count)]


def _new_code() -> str:
    return _new_codes(1)[0]


def _member_objects(household: Household, members: list[dict[str, Any]]) -> list[Member]:
    """Unsaved members of ``household`` from cleaned member data (the import writes them in
    bulk)."""
    return [
        Member(
            household=household,
            **{name: m[name] for name in MEMBER_FIELDS},
            is_head=m["relationship"] == Relationship.HEAD,
            is_live=household.status in LIVE_STATUSES,
            **({"id": m["id"]} if m.get("id") else {}),
        )
        for m in members
    ]


def _create_members(household: Household, members: list[dict[str, Any]]) -> list[Member]:
    created = _member_objects(household, members)
    Member.objects.bulk_create(created)
    return created


def _set_head_name(household: Household, members: Iterable[Any]) -> None:
    """The head's name (``head_name``, ``head_name_search``) and every active member's search
    words (``names_search``) from ``members``: the cleaned dicts of a registration or an
    import (all active), or the household's active members."""
    members = list(members)
    household.names_search = search_words(
        f"{m['given_names']} {m['surnames']}"
        if isinstance(m, dict)
        else f"{m.given_names} {m.surnames}"
        for m in members
        if (m.get("is_active", True) if isinstance(m, dict) else m.is_active)
    )
    for member in members:
        is_head = (
            member["relationship"] == Relationship.HEAD
            if isinstance(member, dict)
            else (member.is_head and member.is_active)
        )
        if is_head:
            given = member["given_names"] if isinstance(member, dict) else member.given_names
            surnames = member["surnames"] if isinstance(member, dict) else member.surnames
            household.head_name = f"{given} {surnames}"[:250]
            household.head_name_search = normalize_name(f"{surnames} {given}")[:250]
            if isinstance(member, dict):
                set_head(household, member["sex"], member["birth_date"])
            else:
                set_head(household, member.sex, member.birth_date)
            return
    set_head(household, "", None)


@replays_lost_race(Household)
@transaction.atomic
def household_register(
    *,
    actor: Actor,
    program: str,
    district: str,
    members: list[dict[str, Any]],
    community: str = "",
    consent: dict[str, Any] | None = None,
    id: Any = None,
    import_ref: str = "",
    enrolled_on: date | None = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Household, bool]:
    """Register a household with its members and consent; idempotent on a client ``id``.
    A registration without consent is refused (400 on ``consent``, every channel: API, field
    pages, import, admin).

    The family enrols on its consent's date; an import may give an explicit ``enrolled_on``
    (e.g. a family enrolled on paper before this registry), which then counts instead.

    ``import_ref`` (imports and demo seeding) is kept in its own field, unique per programme,
    for the caller's idempotency; the id stays random.

    Returns ``(household, created)``. A repeated request with the same ``id`` and payload
    returns the existing household; the same ``id`` with another payload is a 409. An ID
    already in another live household is a 409 ``duplicate``; near matches are queued in
    ``PossibleDuplicate`` for review without blocking.
    """
    payload: dict[str, Any] = {
        "program": program,
        "district": district,
        "community": community,
        "members": members,
        "consent": consent,
    }
    if enrolled_on is not None:  # only then: other registrations keep their digest
        payload["enrolled_on"] = enrolled_on
    digest = request_hash(payload)
    existing = replayed(Household, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False

    errors: dict[str, list[ValidationError]] = {}
    program_obj = Program.objects.filter(code=program, is_active=True).first()
    if program_obj is None:
        errors["program"] = [
            ValidationError(
                _("Unknown programme code: %(code)s.") % {"code": program}, code="does_not_exist"
            )
        ]
    district_obj = District.objects.filter(ubigeo=district).first()
    if district_obj is None:
        errors["district"] = [
            ValidationError(
                _("Unknown district ubigeo: %(code)s.") % {"code": district},
                code="does_not_exist",
            )
        ]
    try:
        cleaned = _clean_members(members, today=today)
    except ValidationError as exc:
        for attr, messages in exc.error_dict.items():
            errors.setdefault(attr, []).extend(messages)
        cleaned = []
    consent_data = _clean_consent(consent, errors, today=today) if consent else None
    if consent_data is None:
        errors.setdefault("consent", []).append(
            ValidationError(
                _("A registration needs the family's signed consent (date and purposes)."),
                code="consent_required",
            )
        )
    if enrolled_on is not None and enrolled_on > (today or timezone.localdate()):
        errors.setdefault("enrolled_on", []).append(
            ValidationError(_("The date cannot be in the future."), code="future_date")
        )
    if errors:
        raise ValidationError(errors)
    assert program_obj is not None and district_obj is not None
    policies.require_in_area(actor, district=district_obj, program=program_obj)
    _check_documents_free(cleaned, actor=actor, exclude=None)

    household = Household(
        program=program_obj,
        district=district_obj,
        community=" ".join(community.split())[:150],
        **actor.stamp(),
        import_ref=import_ref.strip()[:100],
        enrolled_on=enrolled_on or (consent_data or {}).get("signed_on"),
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    _set_head_name(household, cleaned)
    for _attempt in range(5):
        household.code = _new_code()
        if not Household.objects.filter(code=household.code).exists():
            break
    try:
        with transaction.atomic():
            household.save(force_insert=True)
            created_members = _create_members(household, cleaned)
    except IntegrityError:
        # A concurrent registration took one of the IDs between the check and the insert.
        _check_documents_free(cleaned, actor=actor, exclude=None)
        raise
    if consent_data is not None:
        Consent.objects.create(household=household, officer=actor.user, **consent_data)
    keys = set()
    for member in created_members:
        keys |= _member_keys(member, household.district_id)
    DedupKey.objects.bulk_create([DedupKey(household=household, key=k) for k in sorted(keys)])
    _find_possible_duplicates(household, keys, created_members)
    recompute_on_commit([household.pk])
    change_record(
        instance=household,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "program": program,
            "district": district,
            "members": [f"{m['given_names']} {m['surnames']}" for m in cleaned],
        },
        channel=channel,
    )
    return household, True


@transaction.atomic
def household_update(
    *,
    actor: Actor,
    household: Household,
    data: dict[str, Any],
    expected_version: int | None,
    channel: str = "api",
    cause: dict[str, Any] | None = None,
) -> Household:
    """Change a household's community, district or programme (not its status or stage).
    ``cause`` names what the change answers (e.g. ``{"data_subject_request": id}``, a
    rectification): it is added to the change record."""
    locked = _household_for_write(actor, household.pk)
    check_version(locked, expected_version)
    with summaries.tracking([locked.pk] if {"district", "program"} & set(data) else []):
        return _household_update(locked, data, actor=actor, channel=channel, cause=cause)


def _household_update(
    locked: Household,
    data: dict[str, Any],
    *,
    actor: Actor,
    channel: str,
    cause: dict[str, Any] | None,
) -> Household:
    before = snapshot(locked, ["community", "district_id", "program_id"])
    if "community" in data:
        locked.community = " ".join(str(data["community"]).split())[:150]
    if "district" in data:
        district = District.objects.filter(ubigeo=data["district"]).first()
        if district is None:
            raise field_error("district", _("Unknown district ubigeo."), "does_not_exist")
        locked.district = district
    if "program" in data:
        program = Program.objects.filter(code=data["program"], is_active=True).first()
        if program is None:
            raise field_error("program", _("Unknown programme code."), "does_not_exist")
        locked.program = program
    policies.require_in_area(actor, district=locked.district, program=locked.program)
    changes: dict[str, Any] = diff(
        before, snapshot(locked, ["community", "district_id", "program_id"])
    )
    if "members" in data:
        member_changes = _apply_member_changes(locked, data["members"], actor=actor)
        if member_changes:
            changes["members"] = member_changes
    if changes:
        locked.touch(
            "community",
            "district",
            "program",
            "head_name",
            "head_name_search",
            "head_sex",
            "head_birth_date",
            "names_search",
        )
        if "district_id" in changes or "members" in changes:
            keys = _refresh_dedup_keys(locked)
            _find_possible_duplicates(locked, keys, list(locked.members.filter(is_active=True)))
        if "program_id" in changes:
            recompute_on_commit([locked.pk])  # the new programme's thresholds apply
        record_update(locked, {**changes, **(cause or {})}, actor=actor, channel=channel)
    return locked


def _apply_member_changes(
    household: Household, items: list[dict[str, Any]], *, actor: Actor
) -> dict[str, Any]:
    """Apply a PATCH's ``members``: items with an ``id`` change (or, with ``is_active: false``,
    deactivate) that member; items without one are new members. The result must still have
    exactly one head; IDs stay unique among live households. Returns what changed."""
    current = {str(m.pk): m for m in household.members.filter(is_active=True)}
    final: list[dict[str, Any]] = []
    referenced: set[str] = set()
    for index, item in enumerate(items):
        member_id = str(item["id"]) if item.get("id") else None
        if member_id is None:
            final.append({**item, "is_active": item.get("is_active", True)})
            continue
        member = current.get(member_id)
        if member is None or member_id in referenced:
            raise field_error(
                f"members.{index}.id",
                _("This member is not an active member of this household."),
                "does_not_exist",
            )
        referenced.add(member_id)
        merged = {name: getattr(member, name) for name in MEMBER_FIELDS}
        merged.update({k: v for k, v in item.items() if k in MEMBER_FIELDS})
        merged.update(id=member_id, is_active=item.get("is_active", True))
        final.append(merged)
    # Members the request does not mention stay as they are (after the request's items, so
    # error paths keep the request's indexes).
    final.extend(
        {**{n: getattr(m, n) for n in MEMBER_FIELDS}, "id": pk, "is_active": True}
        for pk, m in current.items()
        if pk not in referenced
    )
    cleaned = _clean_members(final)
    _check_documents_free([m for m in cleaned if m["is_active"]], actor=actor, exclude=household.pk)
    summary: dict[str, Any] = {"added": [], "changed": {}, "deactivated": []}
    # Heads step down first so that the one-head constraint holds at every write.
    ordered = sorted(cleaned, key=lambda m: m["is_active"] and m["relationship"] == "head")
    for data in ordered:
        if data["id"] is None or str(data["id"]) not in current:
            continue
        member = current[str(data["id"])]
        if not data["is_active"]:
            member.is_active = member.is_live = member.is_head = False
            member.save()
            summary["deactivated"].append(str(member))
            continue
        before = {name: _plain_value(getattr(member, name)) for name in MEMBER_FIELDS}
        for name in MEMBER_FIELDS:
            setattr(member, name, data[name])
        member.is_head = data["relationship"] == Relationship.HEAD
        after = {name: _plain_value(getattr(member, name)) for name in MEMBER_FIELDS}
        delta = {k: [before[k], after[k]] for k in MEMBER_FIELDS if before[k] != after[k]}
        if delta:
            member.save()
            summary["changed"][str(member.pk)] = delta
    new = [
        m for m in cleaned if m["is_active"] and (m["id"] is None or str(m["id"]) not in current)
    ]
    if new:
        created = _create_members(household, new)
        summary["added"] = [str(m) for m in created]
    _set_head_name(household, household.members.filter(is_active=True))
    return {k: v for k, v in summary.items() if v}


def _plain_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _household_maker_checker(step: Step[Household]) -> None:
    household = step.instance
    if policies.made_by(cast(Actor, step.actor), household):
        raise PermissionDenied(
            _("You registered this household: another person must review it."),
            code="maker_checker",
        )


def _household_consent_guard(step: Step[Household]) -> None:
    """Approving a registration needs a consent on record (one registered before consent was
    required, or whose consent was lost in a merge, is refused until one is recorded)."""
    if not Consent.objects.filter(household=step.instance).exists():
        raise field_error(
            "consent",
            _("This household has no consent on record: record the family's consent first."),
            "consent_required",
        )


def _household_apply(step: Step[Household]) -> None:
    household, reason = step.instance, step.data.get("reason") or ""
    if step.to in (HouseholdStatus.ACTIVE, HouseholdStatus.REJECTED):
        household.reviewed_by = cast(Actor, step.actor).user
        household.reviewed_at = timezone.now()
    if reason:
        household.rejection_reason = reason.strip()
        step.changes["reason"] = reason


def _household_after(step: Step[Household]) -> None:
    household = step.instance
    if (step.before == HouseholdStatus.ACTIVE) != (step.to == HouseholdStatus.ACTIVE):
        # Only reviewed households count on the dashboard: add or take away this one.
        summaries.household_counted(household.pk, counted=step.to == HouseholdStatus.ACTIVE)
    live = step.to in LIVE_STATUSES
    household.members.filter(is_active=True).update(is_live=live)
    if not live:
        DedupKey.objects.filter(household=household).delete()


HOUSEHOLD_FLOW: Flow[Household] = Flow(
    machine=HOUSEHOLD_MACHINE,
    lock=lambda actor, household: _household_for_write(
        actor,
        household.pk if isinstance(household, Household) else household,
        scope=Scope.HOUSEHOLDS_READ,
    ),
    parties=lambda step: policies.reviewer_parties(
        cast(Actor, step.actor), step.instance, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not review households."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _household_maker_checker},
    guards={CONSENT_ON_RECORD: _household_consent_guard},
    apply=_household_apply,
    after=_household_after,
    enqueue=lambda step: recompute_on_commit([step.instance.pk]),
    version_first=True,
    event=WebhookEventType.HOUSEHOLD_STATUS_CHANGED,
)


def household_transition(
    *,
    actor: Actor,
    household: Household,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    channel: str = "api",
) -> Household:
    """Move a household through review (DESIGN.md §5, ``workflow.HOUSEHOLD_MACHINE``, through
    the kernel's ``registry.workflow.transition``): approve, reject, deactivate."""
    return transition(
        HOUSEHOLD_FLOW,
        actor=actor,
        record=household,
        to=to,
        data={"reason": reason},
        expected_version=expected_version,
        channel=channel,
    )
