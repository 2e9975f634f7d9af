"""Writes of the registry kernel: organizations, programmes, memberships and API keys."""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import credentials, policies
from .actors import ALL_SCOPES, RESOLVED_AREA, Actor
from .bruteforce import window_count, window_key, window_wait
from .choices import ChangeAction, OrganizationKind, Role, Scope
from .exceptions import PreconditionFailed
from .history import change_record, diff, record_update, snapshot
from .models import ApiKey, District, Membership, Organization, Program
from .validators import require_funder

KEY_PREFIX_ALPHABET = string.ascii_letters + string.digits
KEY_PREFIX_LENGTH = 10


def field_error(attr: str, message: str, code: str) -> ValidationError:
    """A Django ``ValidationError`` on one field, keeping its machine code for the API."""
    return ValidationError({attr: ValidationError(message, code=code)})


def _districts_by_ubigeo(ubigeos: Iterable[str], attr: str) -> list[District]:
    """Look up districts, reporting every unknown ubigeo as a field error."""
    wanted = sorted({u.strip() for u in ubigeos if u.strip()})
    found = {d.ubigeo: d for d in District.objects.filter(ubigeo__in=wanted)}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise field_error(
            attr,
            _("Unknown district ubigeo: %(codes)s.") % {"codes": ", ".join(missing)},
            "unknown_district",
        )
    return [found[u] for u in wanted]


def _check_ruc_free(organization: Organization) -> None:
    """A RUC belongs to one organization: report a clash on the ``ruc`` field."""
    if organization.ruc and (
        Organization.objects.filter(ruc=organization.ruc).exclude(pk=organization.pk).exists()
    ):
        raise field_error("ruc", _("Another organization already has this RUC."), "duplicate")


def check_version(instance: Any, expected_version: int | None) -> None:
    """Raise 412 when the client edited an older version of ``instance`` than the current one."""
    if expected_version is not None and instance.version != expected_version:
        raise PreconditionFailed()


@transaction.atomic
def organization_upsert(
    *,
    code: str,
    kind: str,
    name: str,
    ruc: str = "",
    district_ubigeos: Iterable[str] | None = None,
    iati_identifier: str | None = None,
    iati_type: str | None = None,
    actor: Actor | None = None,
    channel: str = "system",
) -> tuple[Organization, bool]:
    """Create the organization ``code`` or bring it up to date; idempotent on ``code``
    (``iati_identifier`` / ``iati_type``: ``None`` leaves them as they are).

    Platform administrators only (``registry.policies``), except that a caller whose own service
    already checked it (markets' buyer registration) may create a new buyer without an area."""
    organization = Organization.objects.select_for_update().filter(code=code).first()
    created = organization is None
    new_buyer = created and kind == OrganizationKind.BUYER and district_ubigeos is None
    if not new_buyer:
        policies.require(
            policies.can_administer_organizations(actor),
            _("Only platform administrators create organizations or change their areas."),
            code="not_administrator",
        )
    before = {} if organization is None else snapshot(organization)
    if organization is None:
        organization = Organization(code=code)
    organization.kind = kind
    organization.name = name
    organization.ruc = ruc or ""
    if iati_identifier is not None:
        organization.iati_identifier = iati_identifier.strip()
    if iati_type is not None:
        organization.iati_type = iati_type
    _check_ruc_free(organization)
    organization.full_clean(exclude=None if created else ["code"])
    districts = (
        None if district_ubigeos is None else _districts_by_ubigeo(district_ubigeos, "districts")
    )
    changes = diff(before, snapshot(organization))
    if created:
        organization.save()
    elif changes:
        organization.touch(*changes)
    if districts is not None:
        current = set(organization.districts.values_list("ubigeo", flat=True))
        new = {d.ubigeo for d in districts}
        if current != new:
            organization.districts.set(districts)
            changes["districts"] = [sorted(current), sorted(new)]
    if created or changes:
        change_record(
            instance=organization,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return organization, created


@transaction.atomic
def program_upsert(
    *,
    code: str,
    name: str,
    agency_code: str,
    funder_code: str | None = None,
    budget_pen: Decimal | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    actor: Actor | None = None,
    channel: str = "system",
) -> tuple[Program, bool]:
    """Create the programme ``code`` or bring it up to date (its period when given);
    idempotent on ``code`` (platform administrators only). Its funder must be a funder
    organization."""
    policies.require(
        policies.can_administer_organizations(actor),
        _("Only platform administrators create or change programmes."),
        code="not_administrator",
    )
    agency = Organization.objects.filter(code=agency_code).first()
    if agency is None:
        raise field_error(
            "agency",
            _("Unknown organization code: %(code)s.") % {"code": agency_code},
            "unknown_organization",
        )
    funder = None
    if funder_code:
        funder = Organization.objects.filter(code=funder_code).first()
        if funder is None:
            raise field_error(
                "funder",
                _("Unknown organization code: %(code)s.") % {"code": funder_code},
                "unknown_organization",
            )
        require_funder(funder, "funder")
    program = Program.objects.select_for_update().filter(code=code).first()
    created = program is None
    before = {} if program is None else snapshot(program)
    if program is None:
        program = Program(code=code)
    program.name = name
    program.agency = agency
    program.funder = funder
    if budget_pen is not None:
        program.budget_pen = budget_pen
    if starts_on is not None:
        program.starts_on = starts_on
    if ends_on is not None:
        program.ends_on = ends_on
    program.full_clean(exclude=None if created else ["code"])
    changes = diff(before, snapshot(program))
    if created or changes:
        if created:
            program.save()
        else:
            program.touch(*changes)
        change_record(
            instance=program,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return program, created


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    data: dict[str, Any],
    expected_version: int | None,
    actor: Actor | None,
    channel: str = "api",
) -> Organization:
    """Change an organization's name, RUC or kind, refusing to overwrite a newer version."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    check_version(locked, expected_version)
    before = snapshot(locked)
    for field in ("name", "ruc", "kind", "is_active"):
        if field in data:
            setattr(locked, field, data[field])
    _check_ruc_free(locked)
    locked.full_clean(exclude=["code"])
    changes = diff(before, snapshot(locked))
    if changes:
        locked.touch(*changes)
        record_update(locked, changes, actor=actor, channel=channel)
    return locked


@transaction.atomic
def membership_assign(
    *,
    user: Any,
    organization: Organization,
    role: str,
    district_ubigeos: Iterable[str] = (),
    actor: Actor | None = None,
    channel: str = "system",
) -> Membership:
    """Give ``user`` a role in ``organization`` for the given districts (idempotent); the caller
    must manage the organization, may not grant beyond their own role, nor to themselves."""
    if role not in Role.values:
        raise field_error("role", _("Unknown role: %(role)s.") % {"role": role}, "invalid_choice")
    districts = _districts_by_ubigeo(district_ubigeos, "districts")
    policies.check_membership_change(
        actor, user=user, organization=organization, role=role, districts=districts
    )
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, role=role
    )
    membership.is_active = True
    membership.save()
    membership.districts.set(districts)
    _join_role_group(user, role)
    change_record(
        instance=membership,
        action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
        actor=actor,
        changes={"districts": sorted(d.ubigeo for d in districts)},
        channel=channel,
    )
    return membership


def _join_role_group(user: Any, role: str) -> None:
    """Put the person in the admin group of ``role`` (model permissions; rows stay policy-bound)."""
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=ROLE_GROUPS[role][0]).first()
    if group is not None:
        user.groups.add(group)


@transaction.atomic
def membership_update(
    *,
    membership: Membership,
    role: str,
    district_ubigeos: Iterable[str],
    is_active: bool,
    actor: Actor | None,
    channel: str = "admin",
) -> Membership:
    """Change a membership's role, districts or activity, under the same rules as assigning it
    (the person's own membership is never changed by themselves)."""
    if role not in Role.values:
        raise field_error("role", _("Unknown role: %(role)s.") % {"role": role}, "invalid_choice")
    locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    districts = _districts_by_ubigeo(district_ubigeos, "districts")
    organization = Organization.objects.get(pk=locked.organization_id)
    # Both the role held now and the role asked for must be within the caller's reach.
    for wanted in {locked.role, role}:
        policies.check_membership_change(
            actor, user=locked.user, organization=organization, role=wanted, districts=districts
        )
    before = {
        "role": locked.role,
        "is_active": locked.is_active,
        "districts": sorted(locked.districts.values_list("ubigeo", flat=True)),
    }
    after = {
        "role": role,
        "is_active": is_active,
        "districts": sorted(d.ubigeo for d in districts),
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        locked.role = role
        locked.is_active = is_active
        locked.full_clean()
        locked.save()
        locked.districts.set(districts)
        _join_role_group(locked.user, role)
        record_update(locked, changes, actor=actor, channel=channel)
    return locked


@transaction.atomic
def organization_areas_set(
    *,
    organization: Organization,
    district_ubigeos: Iterable[str],
    program_ids: Iterable[int],
    actor: Actor | None,
    channel: str = "admin",
) -> Organization:
    """Set the districts and programmes assigned to an organization (they widen or narrow every
    key and person it has): platform administrators only."""
    policies.require(
        policies.can_administer_organizations(actor),
        _("Only platform administrators change an organization's districts and programmes."),
        code="not_administrator",
    )
    districts = _districts_by_ubigeo(district_ubigeos, "districts")
    wanted_programs = sorted(set(program_ids))
    programs = list(Program.objects.filter(pk__in=wanted_programs))
    if len(programs) != len(wanted_programs):
        raise field_error("programs", _("Unknown programme."), "unknown_program")
    current_districts = sorted(organization.districts.values_list("ubigeo", flat=True))
    current_programs = sorted(organization.programs.values_list("pk", flat=True))
    changes: dict[str, Any] = {}
    new_districts = sorted(d.ubigeo for d in districts)
    if current_districts != new_districts:
        organization.districts.set(districts)
        changes["districts"] = [current_districts, new_districts]
    if current_programs != wanted_programs:
        organization.programs.set(programs)
        changes["programs"] = [current_programs, wanted_programs]
    if changes:
        record_update(organization, changes, actor=actor, channel=channel)
    return organization


def hash_key(raw_key: str) -> str:
    """SHA-256 of a raw key (keys are long random strings, so a fast hash is enough)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """Check that every scope exists; ``reference:read`` is always included."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = sorted(wanted - ALL_SCOPES)
    if unknown:
        raise field_error(
            "scopes",
            _("Unknown scopes: %(unknown)s. Valid scopes: %(valid)s.")
            % {"unknown": ", ".join(unknown), "valid": ", ".join(sorted(ALL_SCOPES))},
            "unknown_scope",
        )
    return sorted(wanted | {Scope.REFERENCE_READ.value})


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    scopes: Iterable[str],
    name: str = "",
    expires_in_days: int | None = None,
    created_by: Any = None,
    actor: Actor | None = None,
    acts_for_user: Any = None,
    service: str = "",
) -> tuple[ApiKey, str]:
    """Issue a key for ``organization``; returns the key and its raw text, shown only once.

    The caller must manage the organization and hold every scope it grants there
    (``registry.policies``). ``acts_for_user``: the person the key acts for (an active member of
    the organization); without one the key is an automation, named by ``service``.
    """
    scope_list = validate_scopes(scopes)
    policies.check_api_key_create(actor, organization, set(scope_list) - {Scope.REFERENCE_READ})
    check_acts_for(organization, acts_for_user)
    if expires_in_days is not None and expires_in_days <= 0:
        raise field_error(
            "expires", _("The expiry must be a positive number of days."), "min_value"
        )
    if organization.kind == OrganizationKind.FUNDER and set(scope_list) - {
        Scope.REFERENCE_READ,
        Scope.INDICATORS_READ,
    }:
        raise field_error(
            "scopes",
            _("A funder's key may only read reference data and indicators."),
            "funder_scope",
        )
    prefix = "".join(secrets.choice(KEY_PREFIX_ALPHABET) for _i in range(KEY_PREFIX_LENGTH))
    raw_key = f"{prefix}.{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw_key),
        scopes=scope_list,
        created_by=created_by,
        acts_for_user=acts_for_user,
        service=" ".join(service.split())[:100],
        expires_at=(timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None),
    )
    change_record(
        instance=api_key,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "scopes": scope_list,
            "expires_at": str(api_key.expires_at or ""),
            "acts_for": acts_for_user.get_username() if acts_for_user is not None else "",
            "service": api_key.service,
        },
    )
    return api_key, raw_key


def check_acts_for(organization: Organization, user: Any) -> None:
    """A key acts for a person only if that person is an active member of its organization."""
    if user is None:
        return
    if not (
        user.is_active
        and user.memberships.filter(organization=organization, is_active=True).exists()
    ):
        raise field_error(
            "acts_for",
            _("A key can act only for an active member of its organization."),
            "not_a_member",
        )


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor | None = None) -> ApiKey:
    """Revoke a key at once (the caller must manage its organization); twice changes nothing."""
    policies.check_api_key_revoke(actor, api_key)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        change_record(
            instance=api_key,
            action=ChangeAction.DEACTIVATE,
            actor=actor,
            changes={"revoked_at": api_key.revoked_at.isoformat()},
        )
    return api_key


class ApiKeyError(Exception):
    """Why a presented key was refused (code is machine-readable)."""

    def __init__(self, code: str, detail: str, retry_after: int | None = None) -> None:
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)


API_KEY_FAILURE_SCOPE = "api-key-failures"


def api_key_authenticate(
    raw_key: str,
    *,
    address: str | None = None,
    also: Sequence[str] = (),
    count: Sequence[tuple[str, int]] = (),
    seen: dict[str, Any] | None = None,
) -> ApiKey:
    """Find the active key for ``raw_key`` and note its use (at most once a minute).

    With the client's ``address``, failed attempts are counted per address in fixed windows of
    ``API_KEY_FAILURE_WINDOW`` seconds: past ``API_KEY_FAILURE_LIMIT`` the address gets
    ``ApiKeyError("too_many_failed_attempts")`` (with ``retry_after``) before any key is looked
    up, valid ones included, until the window ends; a success does not reset the count (a valid
    key must not launder guesses). The block never outlasts the window: blocked requests are
    not counted. If the cache is unreachable the counter fails open (logged).

    The counter, the key's cached entry and the cache's generation token are read in one round
    trip (``credentials.prefetch``); the database is asked only on a miss, after the check.
    ``also`` / ``count``: more cache keys to read and counters to count in that round trip (the
    throttle's), their values put in ``seen``."""
    prefix = key_prefix(raw_key)
    counter = None
    if address is not None:
        now = time.time()
        counter = window_key(API_KEY_FAILURE_SCOPE, address, settings.API_KEY_FAILURE_WINDOW, now)
    prefetched = credentials.prefetch(
        prefix, also=[*also, *([counter[0]] if counter else [])], count=count
    )
    if seen is not None:
        seen.update(prefetched.found)
    if address is not None and counter is not None:
        wait = window_wait(
            API_KEY_FAILURE_SCOPE,
            address,
            limit=settings.API_KEY_FAILURE_LIMIT,
            window=settings.API_KEY_FAILURE_WINDOW,
            count=None if prefetched.cache_down else prefetched.found.get(counter[0]),
            now=now,
        )
        if wait:
            raise ApiKeyError(
                "too_many_failed_attempts",
                _("Too many failed attempts with invalid API keys. Try again later."),
                retry_after=wait,
            )
    try:
        return _api_key_check(raw_key, prefix, prefetched)
    except ApiKeyError:
        if address is not None:
            window_count(API_KEY_FAILURE_SCOPE, address, window=settings.API_KEY_FAILURE_WINDOW)
        raise


def key_prefix(raw_key: str) -> str | None:
    """The prefix of a well-formed ``<prefix>.<secret>`` key, ``None`` otherwise."""
    prefix, sep, _secret = raw_key.partition(".")
    if sep and len(prefix) == KEY_PREFIX_LENGTH and all(c in KEY_PREFIX_ALPHABET for c in prefix):
        return prefix
    return None


def _api_key_check(raw_key: str, prefix: str | None, prefetched: credentials.Prefetched) -> ApiKey:
    # The key, its organization and its area come from the cache (``registry.credentials``):
    # a partner's request spends no query on who it is.
    resolved = credentials.resolve(prefix, prefetched) if prefix is not None else None
    if resolved is None or not secrets.compare_digest(resolved.api_key.key_hash, hash_key(raw_key)):
        raise ApiKeyError("invalid_api_key", _("Invalid API key."))
    api_key = resolved.api_key
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise ApiKeyError("revoked_api_key", _("This API key has been revoked."))
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise ApiKeyError("expired_api_key", _("This API key has expired."))
    if not api_key.organization.is_active:
        raise ApiKeyError("inactive_organization", _("This key's organization is inactive."))
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if api_key.last_used_at is None or api_key.last_used_at < now - resolution:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
        credentials.remember(resolved)
    # The area resolved with it: ``Actor.for_api_key`` needs no query for it.
    setattr(api_key, RESOLVED_AREA, resolved.area)
    return api_key


ROLE_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    # role → (group name, permission codename prefixes granted on the project's apps)
    Role.ADMINISTRATOR: ("Administradores de la plataforma", ("view", "add", "change")),
    Role.PROGRAM_STAFF: ("Personal del programa", ("view", "add", "change")),
    Role.SUPERVISOR: ("Supervisores", ("view", "change")),
    Role.FIELD_OFFICER: ("Técnicos de campo", ("view",)),
}
PROJECT_APPS = ("registry", "farmers", "titles", "markets")
# Management models: administrators and programme staff only (which rows: registry.policies).
MANAGEMENT_MODELS = frozenset(
    {
        ("registry", "membership"),
        ("registry", "apikey"),
        ("registry", "changerecord"),
        ("registry", "accesslog"),
        ("registry", "webhooksubscription"),
        ("registry", "webhookdelivery"),
        ("registry", "webhookevent"),
        ("registry", "webhookattempt"),
    }
)
# Programme settings: others may look (view), never change.
SETTINGS_MODELS = frozenset(
    {
        ("registry", "organization"),
        ("registry", "program"),
        ("registry", "fundingagreement"),
        ("titles", "titlesettings"),
        ("markets", "buyerprofile"),
        ("markets", "yieldnorm"),
    }
)
MANAGER_ROLES = frozenset({Role.ADMINISTRATOR, Role.PROGRAM_STAFF})


def _role_allows(role: str, app_label: str, model: str, action: str) -> bool:
    """Whether the admin group of ``role`` gets ``action`` on a model (before the policies)."""
    if action not in ROLE_GROUPS[role][1]:
        return False
    if role in MANAGER_ROLES:
        return True
    if (app_label, model) in MANAGEMENT_MODELS:
        return False
    return action == "view" or (app_label, model) not in SETTINGS_MODELS


@transaction.atomic
def role_groups_sync() -> None:
    """Create one admin group per role with the model permissions that role needs (idempotent).

    Model permissions are the coarse gate; ``registry.policies`` decides which rows each person
    may see and change. Administrators also look people up (to give them memberships)."""
    from django.contrib.auth.models import Group, Permission

    permissions = list(
        Permission.objects.filter(content_type__app_label__in=PROJECT_APPS).select_related(
            "content_type"
        )
    )
    for role, (group_name, _actions) in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        granted = [
            p
            for p in permissions
            if _role_allows(
                role, p.content_type.app_label, p.content_type.model, p.codename.split("_", 1)[0]
            )
        ]
        if role == Role.ADMINISTRATOR:
            granted += list(
                Permission.objects.filter(content_type__app_label="auth", codename="view_user")
            )
        group.permissions.set(granted)
