"""Writes of the farmers app: registration with deduplication, review, merge, plots, agreements,
verification visits and support. Every write checks the actor's area, runs in a transaction and
leaves history in it."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
)
from registry.history import change_record, diff, snapshot
from registry.idempotency import replays_lost_race
from registry.models import ApiKey, District, Organization, Program
from registry.services import check_version, field_error
from registry.workflow import Flow, Step, transition

from . import geometry as geo
from .choices import (
    LIVE_STATUSES,
    ConsentPurpose,
    Crop,
    DocumentType,
    DuplicateStatus,
    HouseholdStatus,
    Relationship,
    Sex,
    SupportKind,
    Tenure,
    VerificationMethod,
    VerificationStatus,
)
from .evidence import check_licit_within_plot_area, visit_evidence_guard, visit_plots
from .identity import (
    blocking_keys,
    name_similarity,
    name_tokens,
    normalize_document,
    normalize_name,
    normalize_phone,
    validate_birth_date,
)
from .models import (
    Agreement,
    Consent,
    DedupKey,
    Household,
    Member,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    Support,
    Verification,
)
from .transition import recompute_on_commit
from .workflow import (
    HOUSEHOLD_MACHINE,
    MAKER_CHECKER,
    REVIEWER,
    VERIFICATION_MACHINE,
    VISIT_EVIDENCE,
)

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
POSSIBLE_DUPLICATE_MIN_SCORE = 0.75
MAX_DUPLICATE_CANDIDATES = 25
MAX_MEMBERS = 30


# --- helpers -----------------------------------------------------------------------------------


def request_hash(payload: dict[str, Any]) -> str:
    """A stable hash of a create request, to tell a retry from a different reuse of an ``id``."""
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def _replayed(model: Any, id: Any, digest: str, actor: Actor) -> Any:
    """The record a retried create already made (same ``id``, same payload), or ``None``.

    The same ``id`` with another payload, or a record the actor may not write, is a 409
    ``idempotency_conflict``: offline field apps retry with the ids they generated.
    """
    if id is None:
        return None
    existing = model.objects.filter(pk=id).first()
    if existing is None:
        return None
    household = existing if isinstance(existing, Household) else existing.household
    if existing.request_hash == digest and actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.HOUSEHOLDS_WRITE
    ):
        return existing
    raise Conflict(
        _("This id was already used for a different %(record)s.")
        % {"record": model._meta.verbose_name},
        code="idempotency_conflict",
        attr="id",
    )


def _new_code() -> str:
    return "HH-" + "".join(secrets.choice(CODE_ALPHABET) for _i in range(10))


def _choice(value: Any, choices: Any, attr: str) -> str:
    if value not in choices.values:
        raise field_error(
            attr,
            _("Unknown value “%(value)s”. Use one of: %(valid)s.")
            % {"value": value, "valid": ", ".join(choices.values)},
            "invalid_choice",
        )
    return str(value)


def _decimal(value: Any, attr: str, *, max_value: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError) as exc:
        raise field_error(attr, _("Enter a number."), "invalid") from exc
    if not number.is_finite() or number < 0:
        raise field_error(attr, _("Enter a number of zero or more."), "min_value")
    if max_value is not None and number > max_value:
        raise field_error(attr, _("Enter at most %(max)s.") % {"max": max_value}, "max_value")
    return number


def _collect(errors: dict[str, list[ValidationError]], attr: str, exc: ValidationError) -> None:
    for error in exc.error_list:
        errors.setdefault(attr, []).append(error)


def require_in_area(actor: Actor, *, district: District, program: Program) -> None:
    """Refuse writes outside the actor's districts and programmes (reported on the field)."""
    if not actor.covers(district=district.ubigeo, program=program.pk, scope=Scope.HOUSEHOLDS_WRITE):
        raise field_error(
            "district",
            _("This district and programme are outside your assigned area."),
            "out_of_area",
        )


def _household_for_write(
    actor: Actor, household_id: Any, scope: str = Scope.HOUSEHOLDS_WRITE
) -> Household:
    """Lock a household the actor may change (``scope`` in its area), or 404."""
    household = (
        Household.objects.select_for_update()
        .filter(actor.area_q(district_path="district_id", program_path="program_id", scope=scope))
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise NotFound()
    return household


def _touch(household: Household) -> None:
    household.version += 1
    household.updated_at = timezone.now()


# --- members ---------------------------------------------------------------------------------


def _clean_members(
    members: list[dict[str, Any]], *, today: date | None = None
) -> list[dict[str, Any]]:
    """Validate and normalise members; every problem is reported with its ``members.N.`` path."""
    errors: dict[str, list[ValidationError]] = {}
    if not members:
        raise field_error("members", _("Register at least one member."), "required")
    if len(members) > MAX_MEMBERS:
        raise field_error(
            "members",
            _("A household has at most %(max)s members.") % {"max": MAX_MEMBERS},
            "max_length",
        )
    cleaned: list[dict[str, Any]] = []
    seen_documents: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(members):
        prefix = f"members.{index}."
        member: dict[str, Any] = {}
        for name in ("given_names", "surnames"):
            value = " ".join(str(raw.get(name) or "").split())
            if not value:
                errors.setdefault(prefix + name, []).append(
                    ValidationError(_("This field is required."), code="required")
                )
            member[name] = value
        try:
            member["sex"] = _choice(raw.get("sex"), Sex, prefix + "sex")
        except ValidationError as exc:
            errors.setdefault(prefix + "sex", []).extend(exc.error_dict[prefix + "sex"])
        try:
            member["relationship"] = _choice(
                raw.get("relationship"), Relationship, prefix + "relationship"
            )
        except ValidationError as exc:
            errors.setdefault(prefix + "relationship", []).extend(
                exc.error_dict[prefix + "relationship"]
            )
        birth = raw.get("birth_date")
        if not isinstance(birth, date):
            errors.setdefault(prefix + "birth_date", []).append(
                ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
            )
        else:
            try:
                member["birth_date"] = validate_birth_date(birth, today=today)
            except ValidationError as exc:
                _collect(errors, prefix + "birth_date", exc)
        document_type = raw.get("document_type") or ""
        number = str(raw.get("document_number") or "").strip()
        member["document_type"] = ""
        member["document_number"] = ""
        if document_type or number:
            if document_type not in DocumentType.values:
                errors.setdefault(prefix + "document_type", []).append(
                    ValidationError(
                        _("Use one of: %(valid)s.") % {"valid": ", ".join(DocumentType.values)},
                        code="invalid_choice",
                    )
                )
            elif not number:
                errors.setdefault(prefix + "document_number", []).append(
                    ValidationError(_("Enter the document number."), code="required")
                )
            else:
                try:
                    member["document_number"] = normalize_document(document_type, number)
                    member["document_type"] = document_type
                    key = (document_type, member["document_number"])
                    if raw.get("is_active", True) and key in seen_documents:
                        errors.setdefault(prefix + "document_number", []).append(
                            ValidationError(
                                _("The same ID is given for member %(other)s.")
                                % {"other": seen_documents[key]},
                                code="duplicate_in_request",
                            )
                        )
                    if raw.get("is_active", True):
                        seen_documents[key] = index
                except ValidationError as exc:
                    _collect(errors, prefix + "document_number", exc)
        phone = str(raw.get("phone") or "").strip()
        member["phone"] = ""
        if phone:
            try:
                member["phone"] = normalize_phone(phone)
            except ValidationError as exc:
                _collect(errors, prefix + "phone", exc)
        member["id"] = raw.get("id")
        member["is_active"] = bool(raw.get("is_active", True))
        cleaned.append(member)
    if not any(m["is_active"] for m in cleaned):
        errors.setdefault("members", []).append(
            ValidationError(_("A household keeps at least one active member."), code="required")
        )
    heads = [
        i
        for i, m in enumerate(cleaned)
        if m["is_active"] and m.get("relationship") == Relationship.HEAD
    ]
    if len(heads) != 1 and not errors:
        errors.setdefault("members", []).append(
            ValidationError(
                _("Exactly one member must be the head of household (relationship “head”)."),
                code="one_head",
            )
        )
    if errors:
        raise ValidationError(errors)
    head = cleaned[heads[0]]
    if head.get("document_type") == "":
        raise field_error(
            f"members.{heads[0]}.document_number",
            _("The head of household needs an identity document."),
            "required",
        )
    return cleaned


def _check_documents_free(members: list[dict[str, Any]], *, actor: Actor, exclude: Any) -> None:
    """409 ``duplicate`` when an ID is already in another live household."""
    documents = Q(pk__in=[])
    for member in members:
        if member["document_number"]:
            documents |= Q(
                document_type=member["document_type"], document_number=member["document_number"]
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
    visible = actor.covers(district=household.district_id, program=household.program_id)
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
        DedupKey.objects.filter(key__in=sorted(keys))
        .exclude(household=household)
        .values("household_id")
        .annotate(shared=Count("id"))
        .order_by("-shared")[:MAX_DUPLICATE_CANDIDATES]
    )
    candidate_ids = [row["household_id"] for row in ranked]
    if not candidate_ids:
        return []
    ours = [(m, name_tokens(m.given_names, m.surnames)) for m in members]
    candidates = Household.objects.filter(
        pk__in=candidate_ids, status__in=LIVE_STATUSES
    ).prefetch_related(Prefetch("members", queryset=Member.objects.filter(is_active=True)))
    found: list[PossibleDuplicate] = []
    for candidate in candidates:
        same_district = candidate.district_id == household.district_id
        best = 0.0
        reasons: set[str] = set()
        for mine, tokens in ours:
            for theirs in candidate.members.all():
                same_phone = bool(mine.phone) and mine.phone == theirs.phone
                close_birth = abs((mine.birth_date - theirs.birth_date).days) <= 366
                if not (same_phone or (close_birth and same_district)):
                    continue
                similarity = name_similarity(
                    tokens, name_tokens(theirs.given_names, theirs.surnames)
                )
                if similarity < POSSIBLE_DUPLICATE_MIN_SCORE:
                    continue
                best = max(best, similarity)
                reasons.add("similar_name")
                if same_phone:
                    reasons.add("same_phone")
                if close_birth:
                    reasons.add("close_birth_date")
                if same_district:
                    reasons.add("same_district")
        if reasons:
            found.append(
                PossibleDuplicate(
                    household=household,
                    candidate=candidate,
                    score=Decimal(str(round(min(best, 1.0), 3))),
                    reasons=sorted(reasons),
                )
            )
    PossibleDuplicate.objects.bulk_create(found, ignore_conflicts=True)
    return found


def _create_members(household: Household, members: list[dict[str, Any]]) -> list[Member]:
    created = [
        Member(
            household=household,
            given_names=m["given_names"],
            surnames=m["surnames"],
            document_type=m["document_type"],
            document_number=m["document_number"],
            sex=m["sex"],
            birth_date=m["birth_date"],
            relationship=m["relationship"],
            phone=m["phone"],
            is_head=m["relationship"] == Relationship.HEAD,
            is_live=household.status in LIVE_STATUSES,
            **({"id": m["id"]} if m.get("id") else {}),
        )
        for m in members
    ]
    Member.objects.bulk_create(created)
    return created


def _set_head_name(household: Household, members: Iterable[Any]) -> None:
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
            return


# --- households ------------------------------------------------------------------------------


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
    channel: str = "api",
    today: date | None = None,
) -> tuple[Household, bool]:
    """Register a household with its members and consent; idempotent on a client ``id``.

    ``import_ref`` (imports and demo seeding) is kept in its own field, unique per programme,
    for the caller's idempotency; the id stays random.

    Returns ``(household, created)``. A repeated request with the same ``id`` and payload
    returns the existing household; the same ``id`` with another payload is a 409. An ID
    already in another live household is a 409 ``duplicate``; near matches are queued in
    ``PossibleDuplicate`` for review without blocking.
    """
    payload = {
        "program": program,
        "district": district,
        "community": community,
        "members": members,
        "consent": consent,
    }
    digest = request_hash(payload)
    existing = _replayed(Household, id, digest, actor)
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
    if errors:
        raise ValidationError(errors)
    assert program_obj is not None and district_obj is not None
    require_in_area(actor, district=district_obj, program=program_obj)
    _check_documents_free(cleaned, actor=actor, exclude=None)

    household = Household(
        program=program_obj,
        district=district_obj,
        community=" ".join(community.split())[:150],
        registered_by=actor.user,
        registered_by_key=actor.api_key,
        import_ref=import_ref.strip()[:100],
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


def _clean_consent(
    consent: dict[str, Any], errors: dict[str, list[ValidationError]], today: date | None
) -> dict[str, Any] | None:
    signed_on = consent.get("signed_on")
    purposes = consent.get("purposes") or []
    if not isinstance(signed_on, date):
        errors.setdefault("consent.signed_on", []).append(
            ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
        )
    elif signed_on > (today or timezone.localdate()):
        errors.setdefault("consent.signed_on", []).append(
            ValidationError(_("The date cannot be in the future."), code="future_date")
        )
    unknown = [p for p in purposes if p not in ConsentPurpose.values]
    if unknown or not purposes:
        errors.setdefault("consent.purposes", []).append(
            ValidationError(
                _("Give at least one purpose among: %(valid)s.")
                % {"valid": ", ".join(ConsentPurpose.values)},
                code="invalid_choice",
            )
        )
    if ConsentPurpose.REGISTRY not in purposes and not unknown and purposes:
        errors.setdefault("consent.purposes", []).append(
            ValidationError(
                _("Consent to the programme registry (“registry”) is needed to register."),
                code="registry_required",
            )
        )
    return {
        "signed_on": signed_on,
        "purposes": sorted(set(purposes)),
        "notice_version": str(consent.get("notice_version") or "2025-1")[:20],
        "language": str(consent.get("language") or "es")[:10],
    }


@transaction.atomic
def household_update(
    *,
    actor: Actor,
    household: Household,
    data: dict[str, Any],
    expected_version: int | None,
    channel: str = "api",
) -> Household:
    """Change a household's community, district or programme (not its status or stage)."""
    locked = _household_for_write(actor, household.pk)
    check_version(locked, expected_version)
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
    require_in_area(actor, district=locked.district, program=locked.program)
    changes: dict[str, Any] = diff(
        before, snapshot(locked, ["community", "district_id", "program_id"])
    )
    if "members" in data:
        member_changes = _apply_member_changes(locked, data["members"], actor=actor)
        if member_changes:
            changes["members"] = member_changes
    if changes:
        _touch(locked)
        locked.save()
        if "district_id" in changes or "members" in changes:
            keys = _refresh_dedup_keys(locked)
            _find_possible_duplicates(locked, keys, list(locked.members.filter(is_active=True)))
        if "program_id" in changes:
            recompute_on_commit([locked.pk])  # the new programme's thresholds apply
        change_record(
            instance=locked,
            action=ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return locked


MEMBER_FIELDS = (
    "given_names",
    "surnames",
    "document_type",
    "document_number",
    "sex",
    "birth_date",
    "relationship",
    "phone",
)


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


def _need_review_reason(step: Step[Any]) -> None:
    if not (step.data.get("reason") or "").strip():
        raise field_error("reason", _("Give the reason."), "required")


def _reviewer(step: Step[Any], household: Household) -> set[str]:
    actor = cast(Actor, step.actor)
    covers = actor.covers(
        district=household.district_id, program=household.program_id, scope=step.move.scope
    )
    return {REVIEWER} if covers else set()


def _household_maker_checker(step: Step[Household]) -> None:
    household = step.instance
    if _is_maker(
        cast(Actor, step.actor), household.registered_by_id, household.registered_by_key_id
    ):
        raise PermissionDenied(
            _("You registered this household: another person must review it."),
            code="maker_checker",
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
    parties=lambda step: _reviewer(step, step.instance),
    denied=lambda step: PermissionDenied(
        _("Your role may not review households."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _household_maker_checker},
    apply=_household_apply,
    after=_household_after,
    enqueue=lambda step: recompute_on_commit([step.instance.pk]),
    version_first=True,
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


def _is_maker(actor: Actor, user_id: Any, key_id: Any) -> bool:
    """Maker–checker: whether ``actor`` may not check a record made by the person ``user_id``
    (through a session) or with the key ``key_id``.

    People are compared, not keys: the same person is refused whether they made or check it
    through a session or any key acting for them. A key that acts for nobody (an automation)
    may not check what was made with a key of its own organization (a second key of the same
    organization is not a second person).
    """
    maker_key = (
        ApiKey.objects.filter(pk=key_id).only("organization_id", "acts_for_user_id").first()
        if key_id is not None
        else None
    )
    maker_person = user_id if user_id is not None else getattr(maker_key, "acts_for_user_id", None)
    checker_person = actor.person_id
    if checker_person is not None and checker_person == maker_person:
        return True
    if actor.api_key is None or maker_key is None:
        return False
    if actor.api_key.pk == maker_key.pk:
        return True
    return checker_person is None and actor.api_key.organization_id == maker_key.organization_id


@transaction.atomic
def duplicate_dismiss(*, actor: Actor, duplicate: PossibleDuplicate) -> PossibleDuplicate:
    """Staff decided the two households are different families (both must be in their area)."""
    household, candidate = duplicate.household, duplicate.candidate
    if not all(
        actor.covers(district=h.district_id, program=h.program_id, scope=Scope.HOUSEHOLDS_REVIEW)
        for h in (household, candidate)
    ):
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
    _touch(source)
    source.save()
    DedupKey.objects.filter(household=source).delete()
    _touch(target)
    target.save()
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


# --- plots -----------------------------------------------------------------------------------


def _clean_crops(crops: Any, attr: str = "crops") -> list[str]:
    if crops in (None, ""):
        return []
    if not isinstance(crops, list):
        raise field_error(attr, _("Give a list of crops."), "invalid")
    for index, crop in enumerate(crops):
        if crop not in Crop.values:
            raise field_error(
                f"{attr}.{index}",
                _("Unknown crop “%(crop)s”. Use one of: %(valid)s.")
                % {"crop": crop, "valid": ", ".join(Crop.values)},
                "invalid_choice",
            )
    return sorted(set(crops))


def _apply_geometry(plot: Plot, geometry: Any) -> Any:
    try:
        shape = geo.validate_plot_geometry(geo.parse_geojson(geometry))
    except ValidationError as exc:
        raise ValidationError({"geometry": exc.error_list}) from exc
    plot.geometry = geo.to_geojson(shape)
    plot.area_ha = geo.geodesic_area_ha(shape)
    plot.min_lon, plot.min_lat, plot.max_lon, plot.max_lat = geo.bbox(shape)
    return shape


def _refresh_overlaps(plot: Plot, shape: Any) -> None:
    """Recompute overlaps with other households' active plots: bounding box in SQL, exact in
    shapely."""
    PlotOverlap.objects.filter(Q(plot=plot) | Q(other=plot)).delete()
    if not plot.is_active:
        return
    candidates = (
        Plot.objects.filter(
            is_active=True,
            min_lon__lte=plot.max_lon,
            max_lon__gte=plot.min_lon,
            min_lat__lte=plot.max_lat,
            max_lat__gte=plot.min_lat,
        )
        .exclude(household_id=plot.household_id)
        .only("id", "geometry")
    )
    rows = []
    for other in candidates:
        area = geo.overlap_area_ha(shape, geo.parse_geojson(other.geometry))
        if area > 0:
            rows.append(PlotOverlap(plot=plot, other=other, area_ha=area))
            rows.append(PlotOverlap(plot=other, other=plot, area_ha=area))
    PlotOverlap.objects.bulk_create(rows, ignore_conflicts=True)


@replays_lost_race(Plot)
@transaction.atomic
def plot_create(
    *,
    actor: Actor,
    household: Any,
    name: str,
    tenure: str,
    geometry: Any,
    crops: Any = None,
    id: Any = None,
    channel: str = "api",
) -> tuple[Plot, bool]:
    """Record a plot with its boundary; area and overlaps are computed. Idempotent on ``id``."""
    payload = {
        "household": str(household),
        "name": name,
        "tenure": tenure,
        "geometry": geometry,
        "crops": crops,
    }
    digest = request_hash(payload)
    existing = _replayed(Plot, id, digest, actor)
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    if owner.status not in LIVE_STATUSES:
        raise field_error(
            "household", _("Plots can only be added to live households."), "inactive_household"
        )
    plot = Plot(
        household=owner,
        name=" ".join(str(name or "").split())[:120],
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    errors: dict[str, list[ValidationError]] = {}
    if not plot.name:
        errors["name"] = [ValidationError(_("This field is required."), code="required")]
    try:
        plot.tenure = _choice(tenure, Tenure, "tenure")
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        plot.crops = _clean_crops(crops)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    shape = None
    try:
        shape = _apply_geometry(plot, geometry)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    plot.save(force_insert=True)
    _refresh_overlaps(plot, shape)
    _touch(owner)
    owner.save(update_fields=["version", "updated_at"])
    change_record(
        instance=plot,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "area_ha": str(plot.area_ha)},
        channel=channel,
    )
    return plot, True


@transaction.atomic
def plot_update(
    *,
    actor: Actor,
    plot: Plot,
    data: dict[str, Any],
    expected_version: int | None,
    channel: str = "api",
) -> Plot:
    """Change a plot's name, tenure, crops, boundary or active flag."""
    locked = Plot.objects.select_for_update().get(pk=plot.pk)
    _household_for_write(actor, locked.household_id)
    check_version(locked, expected_version)
    fields = ["name", "tenure", "crops", "geometry", "area_ha", "is_active"]
    before = snapshot(locked, fields)
    if "name" in data:
        locked.name = " ".join(str(data["name"] or "").split())[:120]
        if not locked.name:
            raise field_error("name", _("This field is required."), "required")
    if "tenure" in data:
        locked.tenure = _choice(data["tenure"], Tenure, "tenure")
    if "crops" in data:
        locked.crops = _clean_crops(data["crops"])
    if "is_active" in data:
        locked.is_active = bool(data["is_active"])
    shape = (
        _apply_geometry(locked, data["geometry"])
        if "geometry" in data
        else geo.parse_geojson(locked.geometry)
    )
    changes = diff(before, snapshot(locked, fields))
    if changes:
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        if {"geometry", "is_active"} & set(changes):
            _refresh_overlaps(locked, shape)
        change_record(
            instance=locked,
            action=ChangeAction.DEACTIVATE
            if changes.get("is_active") == [True, False]
            else ChangeAction.UPDATE,
            actor=actor,
            changes={k: v for k, v in changes.items() if k != "geometry"}
            | ({"geometry": "changed"} if "geometry" in changes else {}),
            channel=channel,
        )
    return locked


# --- agreements, visits, support ---------------------------------------------------------------


@replays_lost_race(Agreement)
@transaction.atomic
def agreement_create(
    *,
    actor: Actor,
    household: Any,
    signed_on: date,
    coca_ha_committed: Any,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Agreement, bool]:
    """Record a voluntary coca-reduction agreement. Idempotent on ``id``."""
    payload = {"household": str(household), "signed_on": signed_on, "coca": str(coca_ha_committed)}
    digest = request_hash(payload)
    existing = _replayed(Agreement, id, digest, actor)
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    if signed_on > (today or timezone.localdate()):
        raise field_error("signed_on", _("The date cannot be in the future."), "future_date")
    coca = _decimal(coca_ha_committed, "coca_ha_committed", max_value=Decimal("1000"))
    agreement = Agreement.objects.create(
        household=owner,
        signed_on=signed_on,
        coca_ha_committed=coca,
        created_by=actor.user,
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    _touch(owner)
    owner.save(update_fields=["version", "updated_at"])
    recompute_on_commit([owner.pk])
    change_record(
        instance=agreement,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "signed_on": str(signed_on)},
        channel=channel,
    )
    return agreement, True


@replays_lost_race(Verification)
@transaction.atomic
def verification_create(
    *,
    actor: Actor,
    household: Any,
    visited_on: date,
    method: str,
    coca_ha: Any,
    licit_crops: Any = None,
    location: dict[str, Any] | None = None,
    photo: Any = None,
    plots: Iterable[Any] | None = None,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Verification, bool]:
    """Record a field verification visit (pending a supervisor's confirmation), with the
    household's plots it saw (``farmers.evidence``)."""
    payload: dict[str, Any] = {
        "household": str(household),
        "visited_on": visited_on,
        "method": method,
        "coca_ha": str(coca_ha),
        "licit_crops": licit_crops,
        "location": location,
    }
    if plots:  # only then: the digest of a visit recorded without plots stays what it was
        payload["plots"] = sorted(str(pk) for pk in plots)
    digest = request_hash(payload)
    existing = _replayed(Verification, id, digest, actor)
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    errors: dict[str, list[ValidationError]] = {}
    if visited_on > (today or timezone.localdate()):
        errors["visited_on"] = [
            ValidationError(_("The date cannot be in the future."), code="future_date")
        ]
    try:
        method = _choice(method, VerificationMethod, "method")
    except ValidationError as exc:
        errors.update(exc.error_dict)
    coca = Decimal("0")
    try:
        coca = _decimal(coca_ha, "coca_ha", max_value=Decimal("1000"))
    except ValidationError as exc:
        errors.update(exc.error_dict)
    crops: list[dict[str, str]] = []
    for index, item in enumerate(licit_crops or []):
        try:
            crop = _choice((item or {}).get("crop"), Crop, f"licit_crops.{index}.crop")
            hectares = _decimal(
                (item or {}).get("ha"), f"licit_crops.{index}.ha", max_value=Decimal("1000")
            )
            crops.append({"crop": crop, "ha": str(hectares)})
        except ValidationError as exc:
            errors.update(exc.error_dict)
    seen: list[Any] = []
    for check in (
        lambda: check_licit_within_plot_area(owner, crops),
        lambda: seen.extend(visit_plots(owner, plots)),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    latitude = longitude = None
    if location:
        try:
            latitude = _decimal_signed(location.get("lat"), "location.lat", -18.4, 0.1)
            longitude = _decimal_signed(location.get("lon"), "location.lon", -81.4, -68.6)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    visit = Verification(
        household=owner,
        visited_on=visited_on,
        method=method,
        coca_ha=coca,
        licit_crops=crops,
        latitude=latitude,
        longitude=longitude,
        officer=actor.user,
        officer_key=actor.api_key,
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    if photo is not None:
        sha = hashlib.sha256()
        for chunk in photo.chunks():
            sha.update(chunk)
        visit.photo_sha256 = sha.hexdigest()
        visit.photo = photo
    visit.save(force_insert=True)
    changes: dict[str, Any] = {
        "household": owner.code,
        "visited_on": str(visited_on),
        "method": method,
    }
    if seen:
        visit.plots.set(seen)
        changes["plots"] = sorted(str(plot.pk) for plot in seen)
    change_record(
        instance=visit,
        action=ChangeAction.CREATE,
        actor=actor,
        changes=changes,
        channel=channel,
    )
    return visit, True


def _decimal_signed(value: Any, attr: str, low: float, high: float) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError) as exc:
        raise field_error(attr, _("Enter a number."), "invalid") from exc
    if not number.is_finite() or not Decimal(str(low)) <= number <= Decimal(str(high)):
        raise field_error(
            attr,
            _("The point must be in Peru (between %(low)s and %(high)s).")
            % {"low": low, "high": high},
            "outside_peru",
        )
    return number.quantize(Decimal("0.000001"))


PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_SIGNATURES = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}


@transaction.atomic
def verification_attach_photo(
    *, actor: Actor, verification: Verification, photo: Any
) -> Verification:
    """Attach the visit's photo (JPEG or PNG, at most 8 MB) and store its SHA-256, while the
    visit is pending."""
    locked = Verification.objects.select_for_update().get(pk=verification.pk)
    _household_for_write(actor, locked.household_id)
    if locked.status != VerificationStatus.PENDING:
        raise Conflict(
            _("The photo can only be changed while the visit is pending."), code="visit_reviewed"
        )
    if photo.size > PHOTO_MAX_BYTES:
        raise PayloadTooLarge(
            _("The photo is larger than %(max)s MB.") % {"max": PHOTO_MAX_BYTES // 2**20},
            attr="photo",
        )
    head = photo.read(8)
    photo.seek(0)
    if not any(head.startswith(signature) for signature in PHOTO_SIGNATURES):
        raise UnsupportedMediaType(_("Send the photo as JPEG or PNG."), attr="photo")
    sha = hashlib.sha256()
    for chunk in photo.chunks():
        sha.update(chunk)
    photo.seek(0)
    locked.photo_sha256 = sha.hexdigest()
    locked.photo.save(f"{locked.pk}-{locked.photo_sha256[:12]}", photo, save=False)
    locked.save(update_fields=["photo", "photo_sha256"])
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"photo_sha256": locked.photo_sha256},
    )
    return locked


def _verification_lock(actor: Actor, verification: Any) -> Verification:
    """Lock the visit, then its household (404 when the actor cannot see it)."""
    pk = verification.pk if isinstance(verification, Verification) else verification
    locked = Verification.objects.select_for_update().get(pk=pk)
    locked.household = _household_for_write(actor, locked.household_id, scope=Scope.HOUSEHOLDS_READ)
    return locked


def _verification_maker_checker(step: Step[Verification]) -> None:
    visit = step.instance
    if _is_maker(cast(Actor, step.actor), visit.officer_id, visit.officer_key_id):
        raise PermissionDenied(
            _("You recorded this visit: another person must review it."), code="maker_checker"
        )


def _verification_apply(step: Step[Verification]) -> None:
    visit = step.instance
    visit.reviewed_by = cast(Actor, step.actor).user
    visit.reviewed_at = timezone.now()
    visit.review_note = (step.data.get("reason") or "").strip()


VERIFICATION_FLOW: Flow[Verification] = Flow(
    machine=VERIFICATION_MACHINE,
    lock=_verification_lock,
    parties=lambda step: _reviewer(step, step.instance.household),
    denied=lambda step: PermissionDenied(
        _("Your role may not review visits."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _verification_maker_checker},
    guards={VISIT_EVIDENCE: visit_evidence_guard},
    apply=_verification_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
    versioned=False,
)


def verification_transition(
    *, actor: Actor, verification: Verification, to: str, reason: str = ""
) -> Verification:
    """A supervisor confirms or rejects a visit (``workflow.VERIFICATION_MACHINE``, through the
    kernel's ``registry.workflow.transition``); the officer who made it cannot."""
    return transition(
        VERIFICATION_FLOW,
        actor=actor,
        record=verification,
        to=to,
        data={"reason": reason},
        channel="system",
    )


@transaction.atomic
def support_record(
    *,
    actor: Actor,
    household: Any,
    kind: str,
    cost_pen: Any,
    given_on: date,
    funding_source: str | None = None,
    description: str = "",
    channel: str = "api",
) -> Support:
    """Record something the programme gave the family (its cost feeds cost-per-result)."""
    owner = _household_for_write(actor, household)
    kind = _choice(kind, SupportKind, "kind")
    cost = _decimal(cost_pen, "cost_pen", max_value=Decimal("10000000"))
    source = None
    if funding_source:
        source = Organization.objects.filter(code=funding_source).first()
        if source is None:
            raise field_error("funding_source", _("Unknown organization code."), "does_not_exist")
    support = Support.objects.create(
        household=owner,
        kind=kind,
        cost_pen=cost.quantize(Decimal("0.01")),
        given_on=given_on,
        funding_source=source,
        description=description[:250],
    )
    change_record(
        instance=support,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "kind": kind, "cost_pen": str(support.cost_pen)},
        channel=channel,
    )
    return support


__all__ = [
    "Scope",
    "agreement_create",
    "duplicate_dismiss",
    "household_merge",
    "household_register",
    "household_transition",
    "household_update",
    "plot_create",
    "plot_update",
    "support_record",
    "verification_create",
    "verification_transition",
]
