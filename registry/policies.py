"""Who may manage what: one policy for the registry's services and for the admin of every app.

The API scopes rows by area (``Actor.area_q``); this module adds the management rules, which
every admin class and every management service (keys, memberships, organizations, programmes,
programme settings) asks. ``actor=None`` is the system (management commands, seeds, migrations)
and may do everything, as may superusers (``Actor.unrestricted``).

Rules:

1. **Platform administrators** — superusers and people with an active ``administrator`` role
   ("Administrador de la plataforma") in an active organization — manage every organization:
   they alone create organizations and programmes, change an organization's kind, activity,
   assigned districts and programmes (which widen every key it has), manage other organizations'
   keys and memberships, grant the administrator role and read the whole audit trail.
2. **Programme staff** manage the API keys and memberships of their *own* organization only
   (where they hold the ``program_staff`` role), and grant at most the scopes their role holds
   there (a key's scopes, a membership's role). Supervisors and field officers manage none.
3. **Nobody grants themselves anything**: no one (superusers aside) creates or changes a
   membership of their own — not in another organization either — so nobody raises their own
   role or adds an area to themselves. A membership's districts must lie inside its
   organization's districts (a membership narrows the organization's area, never widens it).
4. **Programme settings** — a programme's thresholds (``Program``), its ``TitleSettings`` and
   its buyers' profiles — are edited only by programme staff of the programme's agency (or
   platform administrators); a buyer linked to no programme yet may be completed by any programme
   agency's staff. Yield norms hold for every programme: platform administrators and staff of
   programme agencies edit them; implementers' staff, supervisors and field officers do not.
5. **Revoking** a key: only keys of organizations the person manages.
6. **Stage is coca data** (issue 15): a household's stage, its milestones, its stage ledger and
   the relapse and exclusion alerts are visible to the programme's own people (members of the
   programme agency or an implementer, reading households there) in their area, and to callers
   holding ``coca:read`` in the record's area; nobody else (titling authorities, buyers, funders,
   implementers' keys without coca:read). ``stage_area_q`` / ``stage_covers`` are that rule;
   ``farmers.policies.stage_visible`` builds on them for households.
7. **Audit trail** (``ChangeRecord``, ``AccessLog``): administrators see all; programme staff see
   rows made by their own organizations' people and keys and rows about their own organizations,
   keys and memberships; supervisors and field officers see none. Rows made by people who belong
   to no organization of the viewer (e.g. another programme's officers, with the names of the
   families they registered) are never shown.
8. **Webhooks** (issue 19): an organization's subscriptions are managed by its keys holding
   ``webhooks:manage`` (their own organization only) and, in the admin, by whoever manages the
   organization (rules 1 and 2). What a subscription receives is what the organization's active
   keys may read (``registry.webhooks.delivery.subscriber_actor``).
9. **A programme's published reports** (the IATI file, issue 17): aggregates of the whole
   programme, read by its programme staff (people with the ``program_staff`` role in its agency
   or in an organization assigned to it) and by its funders (its funder, or the funder of one
   of its active funding agreements: their keys holding ``indicators:read``, their programme
   staff), and by superusers; nobody else (``can_read_program_report``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .actors import ALL_SCOPES, ROLE_SCOPES, Actor
from .choices import AlertKind, OrganizationKind, Role, Scope
from .exceptions import PermissionDenied
from .models import Alert, ApiKey, District, Membership, Organization, Program


def _roles(actor: Actor) -> tuple[tuple[int, str], ...]:
    """The person's active ``(organization id, role)`` pairs (computed once per actor)."""
    if actor.roles is None:
        if actor.user is None or actor.api_key is not None:
            actor.roles = ()
        else:
            actor.roles = tuple(
                Membership.objects.filter(
                    user=actor.user, is_active=True, organization__is_active=True
                ).values_list("organization_id", "role")
            )
    return actor.roles


def is_system(actor: Actor | None) -> bool:
    """The system (``None``) or a superuser: no management rule applies."""
    return actor is None or actor.unrestricted


def is_platform_admin(actor: Actor | None) -> bool:
    """Superusers, the system and people holding the administrator role somewhere active."""
    if actor is None or actor.unrestricted:
        return True
    return any(role == Role.ADMINISTRATOR for _org, role in _roles(actor))


def staff_organization_ids(actor: Actor) -> frozenset[int]:
    """Organizations where the person holds the programme-staff role."""
    return frozenset(org for org, role in _roles(actor) if role == Role.PROGRAM_STAFF)


def member_organization_ids(actor: Actor) -> frozenset[int]:
    """Organizations where the person holds any active role."""
    return frozenset(org for org, _role in _roles(actor))


def role_scopes_in(actor: Actor, organization_id: int) -> frozenset[str]:
    """The scopes the person's roles hold in one organization."""
    scopes: set[str] = set()
    for org, role in _roles(actor):
        if org == organization_id:
            scopes |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(scopes)


def require(allowed: bool, message: str | None = None, code: str = "permission_denied") -> None:
    """Raise the registry's ``PermissionDenied`` unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message, code=code)


# --- organizations -----------------------------------------------------------------------------


def manageable_organizations(actor: Actor | None) -> QuerySet[Organization]:
    """Organizations whose keys and memberships the person manages (rule 1 and 2)."""
    if is_platform_admin(actor):
        return Organization.objects.all()
    assert actor is not None
    return Organization.objects.filter(pk__in=sorted(staff_organization_ids(actor)))


def can_manage_organization(actor: Actor | None, organization: Organization | int | None) -> bool:
    """Whether the person manages ``organization``'s keys and memberships."""
    if is_platform_admin(actor):
        return True
    if organization is None:
        return False
    assert actor is not None
    pk = organization if isinstance(organization, int) else organization.pk
    return pk in staff_organization_ids(actor)


def can_administer_organizations(actor: Actor | None) -> bool:
    """Create organizations, edit any of them and change their areas: administrators only."""
    return is_platform_admin(actor)


def visible_organizations(actor: Actor | None) -> QuerySet[Organization]:
    """Organizations a person may look up: their own, and those running, funding or assigned to
    programmes of their area (names and codes only; keys and people stay rule-bound)."""
    if is_platform_admin(actor):
        return Organization.objects.all()
    assert actor is not None
    programs = visible_programs(actor).values("pk")
    return Organization.objects.filter(
        Q(pk__in=sorted(member_organization_ids(actor)))
        | Q(programs_run__in=programs)
        | Q(programs_funded__in=programs)
        | Q(programs__in=programs)
    ).distinct()


# --- programmes --------------------------------------------------------------------------------


def visible_programs(actor: Actor | None) -> QuerySet[Program]:
    """Programmes of the person's areas (the ones they run, or their organizations are assigned)."""
    if is_platform_admin(actor):
        return Program.objects.all()
    assert actor is not None
    orgs = sorted(member_organization_ids(actor))
    return Program.objects.filter(Q(agency_id__in=orgs) | Q(assigned_organizations__in=orgs))


def governed_programs(actor: Actor | None) -> QuerySet[Program]:
    """Programmes whose settings the person edits: those run by their staff organizations."""
    if is_platform_admin(actor):
        return Program.objects.all()
    assert actor is not None
    return Program.objects.filter(agency_id__in=sorted(staff_organization_ids(actor)))


def can_govern_program(actor: Actor | None, program: Program | int | None) -> bool:
    """Whether the person edits ``program``'s thresholds, title settings and buyers (rule 4)."""
    if is_platform_admin(actor):
        return True
    if program is None:
        return False
    assert actor is not None
    pk = program if isinstance(program, int) else program.pk
    agency = Program.objects.filter(pk=pk).values_list("agency_id", flat=True).first()
    return agency is not None and agency in staff_organization_ids(actor)


def governs_any_program(actor: Actor | None) -> bool:
    """Whether the person is programme staff of an agency that runs a programme (or an
    administrator)."""
    if is_platform_admin(actor):
        return True
    assert actor is not None
    if "governs_any_program" not in actor.memo:
        actor.memo["governs_any_program"] = governed_programs(actor).exists()
    return bool(actor.memo["governs_any_program"])


def can_manage_buyer(
    actor: Actor | None, buyer: Organization | None, program_ids: Iterable[int]
) -> bool:
    """A buyer's profile (rule 4): administrators; the buyer's own programme staff; programme
    staff of the agency of a programme the buyer is linked to (``program_ids``: assigned or
    contracted); a buyer linked to no programme yet belongs to no agency, so any programme
    agency's staff may complete it."""
    if is_platform_admin(actor):
        return True
    if buyer is None or buyer.pk is None:
        return False
    if can_manage_organization(actor, buyer):
        return True
    linked = set(program_ids)
    governed = set(governed_programs(actor).values_list("pk", flat=True))
    return bool(linked & governed) if linked else bool(governed)


def can_edit_yield_norms(actor: Actor | None) -> bool:
    """Yield norms hold for every programme: administrators and programme agencies' staff."""
    return governs_any_program(actor)


# --- API keys ------------------------------------------------------------------------------------


def grantable_scopes(actor: Actor | None, organization: Organization) -> frozenset[str]:
    """The scopes the person may put on a key of ``organization`` (what their role holds there)."""
    if is_platform_admin(actor):
        return ALL_SCOPES
    assert actor is not None
    if not can_manage_organization(actor, organization):
        return frozenset()
    return role_scopes_in(actor, organization.pk)


def check_api_key_create(
    actor: Actor | None, organization: Organization, scopes: Iterable[str]
) -> None:
    """Raise unless the person may issue a key with ``scopes`` for ``organization``."""
    require(
        can_manage_organization(actor, organization),
        _("You may only issue keys for organizations you manage."),
        code="not_your_organization",
    )
    beyond = sorted(set(scopes) - grantable_scopes(actor, organization))
    require(
        not beyond,
        _("You may not grant scopes your own role does not hold: %(scopes)s.")
        % {"scopes": ", ".join(beyond)},
        code="scope_not_grantable",
    )


def check_api_key_revoke(actor: Actor | None, api_key: ApiKey) -> None:
    """Raise unless the person manages the key's organization (rule 5)."""
    require(
        can_manage_organization(actor, api_key.organization_id),
        _("You may only revoke keys of organizations you manage."),
        code="not_your_organization",
    )


# --- memberships ---------------------------------------------------------------------------------


def grantable_roles(actor: Actor | None, organization: Organization) -> list[str]:
    """Roles the person may give in ``organization``: those holding no scope beyond theirs
    there; the administrator role only by administrators."""
    if is_platform_admin(actor):
        return list(Role.values)
    assert actor is not None
    if not can_manage_organization(actor, organization):
        return []
    held = role_scopes_in(actor, organization.pk)
    return [
        role
        for role in Role.values
        if role != Role.ADMINISTRATOR and ROLE_SCOPES.get(role, frozenset()) <= held
    ]


def check_membership_change(
    actor: Actor | None,
    *,
    user: Any,
    organization: Organization,
    role: str,
    districts: Iterable[District] = (),
) -> None:
    """Raise unless the person may give ``user`` the ``role`` in ``organization`` with these
    districts (rules 1–3)."""
    if is_system(actor):
        return
    assert actor is not None
    require(
        actor.user is not None and actor.user.pk != getattr(user, "pk", None),
        _("Nobody may grant themselves a role or change their own membership."),
        code="own_membership",
    )
    require(
        can_manage_organization(actor, organization),
        _("You may only manage memberships of organizations you manage."),
        code="not_your_organization",
    )
    require(
        role in grantable_roles(actor, organization),
        _("You may not grant a role beyond your own."),
        code="role_not_grantable",
    )
    if not is_platform_admin(actor):
        own = set(organization.districts.values_list("ubigeo", flat=True))
        outside = sorted({d.ubigeo for d in districts} - own) if own else []
        require(
            not outside,
            _("These districts are outside the organization's area: %(codes)s.")
            % {"codes": ", ".join(outside)},
            code="district_outside_area",
        )


def manageable_memberships_q(actor: Actor | None) -> Q:
    """Filter for memberships the person may see in the admin (their managed organizations)."""
    if is_platform_admin(actor):
        return Q()
    assert actor is not None
    return Q(organization_id__in=sorted(staff_organization_ids(actor)))


# --- audit trail ---------------------------------------------------------------------------------


def _staff_people_and_keys(actor: Actor) -> tuple[list[int], Any, Any]:
    orgs = sorted(staff_organization_ids(actor))
    people = Membership.objects.filter(organization_id__in=orgs).values("user_id")
    keys = ApiKey.objects.filter(organization_id__in=orgs).values("pk")
    return orgs, people, keys


def can_read_audit(actor: Actor | None) -> bool:
    """Administrators and programme staff read (part of) the audit trail."""
    return is_platform_admin(actor) or bool(actor and staff_organization_ids(actor))


def change_records_q(actor: Actor | None) -> Q:
    """Filter for change records the person may read (rule 6)."""
    if is_platform_admin(actor):
        return Q()
    assert actor is not None
    orgs, people, keys = _staff_people_and_keys(actor)
    if not orgs:
        return Q(pk__in=[])
    from django.contrib.contenttypes.models import ContentType

    types = ContentType.objects.get_for_models(Organization, ApiKey, Membership)
    key_ids = [str(pk) for pk in keys.values_list("pk", flat=True)]
    membership_ids = [
        str(pk)
        for pk in Membership.objects.filter(organization_id__in=orgs).values_list("pk", flat=True)
    ]
    about_own = (
        Q(content_type=types[Organization], object_id__in=[str(pk) for pk in orgs])
        | Q(content_type=types[ApiKey], object_id__in=key_ids)
        | Q(content_type=types[Membership], object_id__in=membership_ids)
    )
    return Q(created_by__in=people) | Q(created_by_key__in=keys) | about_own


def access_logs_q(actor: Actor | None) -> Q:
    """Filter for sensitive-data reads the person may see (rule 6)."""
    if is_platform_admin(actor):
        return Q()
    assert actor is not None
    orgs, people, keys = _staff_people_and_keys(actor)
    if not orgs:
        return Q(pk__in=[])
    return Q(created_by__in=people) | Q(created_by_key__in=keys)


# --- the stage is coca data (rule 6) ---------------------------------------------------------

# Organizations whose people are the programme's own: in their area they see stages.
PROGRAMME_KINDS = frozenset({OrganizationKind.PROGRAM_AGENCY, OrganizationKind.IMPLEMENTER})


def _programme_areas(actor: Actor) -> list[Any]:
    """A person's areas in the programme's own organizations where they read households (keys
    are partners: never here)."""
    if actor.api_key is not None or actor.user is None:
        return []
    return [
        area
        for area in actor.areas
        if area.organization_kind in PROGRAMME_KINDS and area.allows(Scope.HOUSEHOLDS_READ)
    ]


def stage_area_q(actor: Actor | None, *, district_path: str, program_path: str) -> Q:
    """Rows (reached by ``district_path`` / ``program_path``) whose stage data the actor may
    see: coca:read in their area, or the programme's own people in theirs."""
    if actor is None:
        return Q(pk__in=[])
    if actor.unrestricted:
        return Q()
    condition = actor.area_q(
        district_path=district_path, program_path=program_path, scope=Scope.COCA_READ
    )
    for area in _programme_areas(actor):
        condition |= area.q(district_path, program_path)
    return condition


def stage_covers(actor: Actor | None, *, district: str, program: int) -> bool:
    """Whether the actor may see stage data of a record in ``district`` and ``program``."""
    if actor is None:
        return False
    if actor.covers(district=district, program=program, scope=Scope.COCA_READ):
        return True
    return any(
        (area.districts is None or district in area.districts)
        and (area.programs is None or program in area.programs)
        for area in _programme_areas(actor)
    )


def may_see_stages(actor: Actor | None) -> bool:
    """Whether the actor may see stage data anywhere (may filter by stage, read the ledger):
    coca:read, or a programme person; otherwise 403 ``missing_scope`` (``require_stages``)."""
    if actor is None:
        return False
    return actor.has_scope(Scope.COCA_READ) or bool(_programme_areas(actor))


def require_stages(allowed: bool) -> None:
    """Refuse a request for stage data the caller may not see: 403 ``missing_scope``, the
    answer of a missing scope (``registry.api.permissions.HasScope``)."""
    require(
        allowed,
        _("Your credentials lack the “%(scope)s” scope.") % {"scope": Scope.COCA_READ},
        code="missing_scope",
    )


# --- alerts ----------------------------------------------------------------------------------

# Alerts whose mere existence is coca data: a relapse, an exclusion (proposed or confirmed: any
# kind named ``exclusion…``, whichever the exclusion workflow raises).
COCA_ALERT_KINDS = frozenset(
    {AlertKind.RELAPSE.value, "exclusion"}
    | {kind for kind in AlertKind.values if kind.startswith("exclusion")}
)
# Keys of an alert's ``details`` that name a stage (the engine's alerts): shown with the stage.
STAGE_DETAIL_KEYS = ("stage", "reason")


# Alerts only the programme's own people see: that someone asked about their data rights
# (Law 29733) is itself personal data; partners' keys never see them.
PROGRAMME_ALERT_KINDS = frozenset({AlertKind.DSR_DUE.value})


def _programme_people_q(actor: Actor, *, district_path: str, program_path: str) -> Q:
    if actor.unrestricted:
        return Q()
    condition = Q(pk__in=[])
    for area in _programme_areas(actor):
        condition |= area.q(district_path, program_path)
    return condition


def alert_q(actor: Actor, scope: str | None = Scope.HOUSEHOLDS_READ) -> Q:
    """Alerts in the actor's area: where it may read households (``scope``), or any of its
    area when ``scope`` is ``None`` (the admin, which programme staff use); relapse and
    exclusion alerts only where it may see stages (rule 6); data-subject request alerts only
    to the programme's own people."""
    paths = {"district_path": "district_id", "program_path": "program_id"}
    return (
        actor.area_q(**paths, scope=scope)
        & (~Q(kind__in=sorted(COCA_ALERT_KINDS)) | stage_area_q(actor, **paths))
        & (~Q(kind__in=sorted(PROGRAMME_ALERT_KINDS)) | _programme_people_q(actor, **paths))
    )


def alert_stage_visible(actor: Actor | None, alert: Alert) -> bool:
    """Whether ``actor`` may see the stage data of ``alert`` (its stage details; for relapse
    and exclusion alerts, the alert itself)."""
    return stage_covers(actor, district=alert.district_id, program=alert.program_id)


def alert_can(actor: Actor, alert: Alert, action: str) -> bool:
    """Whether ``actor`` may ``read`` an alert or ``act`` on it (acknowledge, resolve: the
    district's field officers, their supervisors and programme staff, with households:write);
    relapse and exclusion alerts need the stage in their area too (rule 6)."""
    scope = {"read": Scope.HOUSEHOLDS_READ, "act": Scope.HOUSEHOLDS_WRITE}[action]
    if alert.kind in COCA_ALERT_KINDS and not alert_stage_visible(actor, alert):
        return False
    if alert.kind in PROGRAMME_ALERT_KINDS and not actor.unrestricted:
        programme = _programme_areas(actor)
        if not any(
            (a.districts is None or alert.district_id in a.districts)
            and (a.programs is None or alert.program_id in a.programs)
            for a in programme
        ):
            return False
    return actor.covers(district=alert.district_id, program=alert.program_id, scope=scope)


# --- webhooks ------------------------------------------------------------------------------------


def can_manage_webhooks(actor: Actor | None, organization: Organization | int | None) -> bool:
    """Whether ``actor`` manages the webhook subscriptions of ``organization`` (rule 8): a key
    with ``webhooks:manage`` of that organization, or a person who manages it."""
    if actor is not None and actor.api_key is not None:
        pk = (
            organization
            if isinstance(organization, int) or organization is None
            else organization.pk
        )
        return actor.has_scope(Scope.WEBHOOKS_MANAGE) and actor.api_key.organization_id == pk
    return can_manage_organization(actor, organization)


def webhook_subscription_q(actor: Actor | None) -> Q:
    """Subscriptions ``actor`` may see and manage (rule 8)."""
    if actor is not None and actor.api_key is not None:
        if not actor.has_scope(Scope.WEBHOOKS_MANAGE):
            return Q(pk__in=[])
        return Q(organization_id=actor.api_key.organization_id)
    if is_platform_admin(actor):
        return Q()
    assert actor is not None
    return Q(organization_id__in=sorted(staff_organization_ids(actor)))


def require_webhooks(actor: Actor | None, organization: Organization | int | None) -> None:
    """Raise unless ``actor`` manages ``organization``'s webhooks (rule 8)."""
    require(
        can_manage_webhooks(actor, organization),
        _("You may only manage webhooks of your own organization."),
        code="not_your_organization",
    )


# --- programme reports (rule 9) -------------------------------------------------------------


def program_funder_ids(program: Program) -> frozenset[int]:
    """The programme's funders: its own and those of its active funding agreements."""
    from .models import FundingAgreement

    ids = set(
        FundingAgreement.objects.filter(program=program, is_active=True).values_list(
            "funder_id", flat=True
        )
    )
    if program.funder_id is not None:
        ids.add(program.funder_id)
    return frozenset(ids)


def can_read_program_report(actor: Actor | None, program: Program) -> bool:
    """Whether ``actor`` may read ``program``'s published reports (rule 9)."""
    if is_system(actor):
        return True
    assert actor is not None
    if not actor.has_scope(Scope.INDICATORS_READ):
        return False
    funders = program_funder_ids(program)
    if actor.api_key is not None:
        organization = actor.api_key.organization_id
        return organization == program.agency_id or organization in funders
    staff = staff_organization_ids(actor)
    if not staff:
        return False
    assigned = set(Organization.objects.filter(programs=program).values_list("pk", flat=True))
    return bool(staff & ({program.agency_id} | funders | assigned))
