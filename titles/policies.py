"""Who may do what with title files: the one door for access of the titles app (issue 14).

The API, the admin, the field pages, the selectors and the services all ask here; none of them
holds a permission rule of its own.

Rules:

1. **Seeing a file** (``titles:read``): a titling authority's key sees the files filed with it
   in its area; everyone else sees the files of households in their area.
2. **Parties**: on a file an actor acts as some of the workflow's parties (``officer``,
   ``programme``, ``authority``), from the memberships ``Actor`` already loaded (its areas with
   ``titles:write``): a key acts for its organization — the file's authority → ``authority``, a
   programme agency → ``officer`` and ``programme``, another titling authority → nothing, any
   other organization → ``officer``; a person acts by role in each organization whose area
   covers the file — that organization is the file's authority → ``authority``, another
   titling authority → nothing, programme staff → ``officer`` and ``programme``, field officers
   and supervisors → ``officer``. Superusers are every party.
3. **Acts**: filing a draft needs ``officer`` or ``programme`` (households in the actor's
   ``titles:write`` area only); recording or deciding an objection needs ``programme`` or
   ``authority``; attaching a document needs any party; a workflow move needs a party its move
   names (``workflow.TITLE_MACHINE``, checked by ``registry.workflow.transition``).
4. **Documents and objections** are seen with their file (rule 1).
5. **Title settings** (``TitleSettings``, the public-notice window and SLA targets) are the
   programme's settings (``registry.policies`` rule 4): seen by the programme's people, changed
   only by programme staff of its agency (or platform administrators).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from registry import policies as registry_policies
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.exceptions import PermissionDenied
from registry.models import Program

from .models import TitleApplication, TitleSettings
from .workflow import ACTOR_PARTIES, ANYONE, AUTHORITY, FILERS, MOVERS, OFFICER, PROGRAMME

# The parties each act on a file asks for (rule 3; moves: the workflow table).
ACTIONS: dict[str, frozenset[str]] = {
    "file": FILERS,
    "object": MOVERS,
    "decide": MOVERS,
    "upload": ANYONE,
}


# --- seeing (rules 1 and 4) ----------------------------------------------------------------------


def title_application_q(actor: Actor, scope: str = Scope.TITLES_READ, prefix: str = "") -> Q:
    """Files the actor may see (``scope`` in their area); ``prefix`` reaches the file from a
    related row (``"application__"`` for its documents)."""
    condition = actor.area_q(
        district_path=f"{prefix}district_id", program_path=f"{prefix}program_id", scope=scope
    )
    organization = actor.organization
    if organization is not None and organization.kind == OrganizationKind.TITLING_AUTHORITY:
        condition &= Q(**{f"{prefix}authority_id": organization.pk})
    return condition


def title_document_q(actor: Actor) -> Q:
    """Documents the actor may see and download: those of the files it sees."""
    return title_application_q(actor, prefix="application__")


def household_q(actor: Actor) -> Q:
    """Households the actor may file title applications for (its ``titles:write`` area)."""
    return actor.area_q(
        district_path="district_id", program_path="program_id", scope=Scope.TITLES_WRITE
    )


def may_read_titles_of(actor: Actor, household: Any) -> bool:
    """Whether the actor reads title files in ``household``'s district and programme."""
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.TITLES_READ
    )


# --- parties and acts (rules 2 and 3) ------------------------------------------------------------


def actor_parties(
    actor: Actor, *, district_id: str, program_id: int, authority_id: int | None
) -> set[str]:
    """The workflow parties ``actor`` may act as on a file in ``district_id`` / ``program_id``
    filed with ``authority_id`` (rule 2; no query: the actor's areas are loaded once)."""
    if actor.unrestricted:
        return set(ACTOR_PARTIES)
    if not actor.covers(district=district_id, program=program_id, scope=Scope.TITLES_WRITE):
        return set()
    if actor.api_key is not None:
        organization = actor.api_key.organization
        if organization.pk == authority_id:
            return {AUTHORITY}
        if organization.kind == OrganizationKind.TITLING_AUTHORITY:
            return set()
        if organization.kind == OrganizationKind.PROGRAM_AGENCY:
            return {OFFICER, PROGRAMME}
        return {OFFICER}
    parties: set[str] = set()
    for area in actor.covering(district=district_id, program=program_id, scope=Scope.TITLES_WRITE):
        if area.organization_id == authority_id:
            parties.add(AUTHORITY)
        elif area.organization_kind == OrganizationKind.TITLING_AUTHORITY:
            continue
        elif area.role == Role.PROGRAM_STAFF:
            parties |= {OFFICER, PROGRAMME}
        else:
            parties.add(OFFICER)
    return parties


def title_application_parties(actor: Actor | None, application: TitleApplication) -> set[str]:
    """The parties ``actor`` acts as on ``application`` (saved or about to be filed)."""
    if actor is None:
        return set()
    return actor_parties(
        actor,
        district_id=application.district_id,
        program_id=application.program_id,
        authority_id=application.authority_id,
    )


def title_application_can(actor: Actor, application: TitleApplication, action: str) -> bool:
    """Whether ``actor`` may ``view`` the file, or ``file`` it, record an ``object``-ion,
    ``decide`` one or ``upload`` a document to it."""
    if action == "view":
        visible = TitleApplication.objects.filter(title_application_q(actor), pk=application.pk)
        return visible.exists()
    return bool(title_application_parties(actor, application) & ACTIONS[action])


def denied(action: str = "move") -> PermissionDenied:
    """The refusal of an act on a file (its message names what the role may not do)."""
    if action == "file":
        return PermissionDenied(
            _("Only field officers and programme staff file title applications.")
        )
    return PermissionDenied(_("Your role may not make this change to the title file."))


def require_title_application(actor: Actor, application: TitleApplication, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``title_application_can(actor, application, action)``."""
    if not title_application_can(actor, application, action):
        raise denied(action)


# --- title settings (rule 5) ---------------------------------------------------------------------


def title_settings_q(actor: Actor) -> Q:
    """Title settings the person sees (platform administrators see all: the admin base)."""
    return Q(program__in=registry_policies.visible_programs(actor).values("pk"))


def title_settings_programs(actor: Actor | None) -> QuerySet[Program]:
    """Programmes whose title settings the person may create."""
    return registry_policies.governed_programs(actor)


def title_settings_can(actor: Actor | None, settings_obj: TitleSettings, action: str) -> bool:
    """Whether the person may ``change`` (or ``add``) a programme's title settings."""
    return registry_policies.can_govern_program(actor, settings_obj.program_id)


def require_title_settings(actor: Actor | None, settings_obj: TitleSettings) -> None:
    """Raise ``PermissionDenied`` unless the person may save ``settings_obj``."""
    if not title_settings_can(actor, settings_obj, "change"):
        raise PermissionDenied()
