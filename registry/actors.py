"""Who is acting: a person (through their memberships) or a partner's API key.

Every selector takes an ``Actor`` and narrows its querysets with ``Actor.area_q`` — the one scoping
mechanism used by the API, the admin and the pages alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import Q

from .choices import Role, Scope

if TYPE_CHECKING:
    from .models import ApiKey, Organization

ALL_SCOPES = frozenset(Scope.values)
# The attribute of an ``ApiKey`` holding its organization's area when it was resolved with it
# (``registry.credentials``; ``None``: no area): ``Actor.areas`` then spends no query on it.
RESOLVED_AREA = "_resolved_area"

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.FIELD_OFFICER: frozenset(
        {
            Scope.REFERENCE_READ,
            Scope.HOUSEHOLDS_READ,
            Scope.HOUSEHOLDS_WRITE,
            Scope.TITLES_READ,
            Scope.TITLES_WRITE,
            Scope.CONTRACTS_READ,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Scope.REFERENCE_READ,
            Scope.HOUSEHOLDS_READ,
            Scope.HOUSEHOLDS_WRITE,
            Scope.HOUSEHOLDS_REVIEW,
            Scope.COCA_READ,
            Scope.TITLES_READ,
            Scope.TITLES_WRITE,
            Scope.CONTRACTS_READ,
            Scope.INDICATORS_READ,
        }
    ),
    Role.PROGRAM_STAFF: ALL_SCOPES,
    # Platform management (registry.policies), not programme data: reference data only.
    Role.ADMINISTRATOR: frozenset({Scope.REFERENCE_READ}),
}


@dataclass(frozen=True)
class Area:
    """Districts and programmes an actor may see; ``None`` on an axis means any."""

    districts: frozenset[str] | None
    programs: frozenset[int] | None
    # What may be done there: a person's role in that organization; ``None``: the actor's scopes.
    scopes: frozenset[str] | None = None
    # A person's area: the membership it comes from (its organization, that one's kind, the role).
    organization_id: int | None = None
    organization_kind: str = ""
    role: str = ""

    def allows(self, scope: str | None) -> bool:
        """Whether ``scope`` may be used in this area (``None`` asks only for visibility)."""
        return scope is None or self.scopes is None or scope in self.scopes

    def q(self, district_path: str | None, program_path: str | None) -> Q:
        """A filter for rows whose district and programme fall inside this area."""
        condition = Q()
        if self.districts is not None:
            if district_path is None:
                return Q(pk__in=[])
            condition &= Q(**{f"{district_path}__in": sorted(self.districts)})
        if self.programs is not None:
            if program_path is None:
                return Q(pk__in=[])
            condition &= Q(**{f"{program_path}__in": sorted(self.programs)})
        return condition


def organization_area(organization: Organization, districts: frozenset[str] | None = None) -> Area:
    """An organization's area: its assigned districts and programmes (and those it runs)."""
    if districts is None:
        district_codes = frozenset(organization.districts.values_list("ubigeo", flat=True))
    else:
        district_codes = districts
    from .models import Program

    program_ids = frozenset(
        Program.objects.filter(Q(assigned_organizations=organization) | Q(agency=organization))
        .values_list("pk", flat=True)
        .distinct()
    )
    return Area(
        districts=district_codes or None,
        programs=program_ids or None,
    )


class Actor:
    """A person or an API key acting on the registry, with scopes and an area."""

    def __init__(
        self,
        *,
        user: Any = None,
        api_key: ApiKey | None = None,
        scopes: frozenset[str] = frozenset(),
        unrestricted: bool = False,
    ) -> None:
        self.user = user
        self.api_key = api_key
        self.scopes = scopes
        self.unrestricted = unrestricted
        # A person's active (organization id, role) pairs, when known (registry.policies).
        self.roles: tuple[tuple[int, str], ...] | None = None
        # Answers of registry.policies worth keeping for the actor's life (one request).
        self.memo: dict[str, Any] = {}

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Actor:
        """The actor behind a partner's key: its scopes, its organization's area."""
        return cls(api_key=api_key, scopes=frozenset(api_key.scopes) | {Scope.REFERENCE_READ})

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        """The actor behind a signed-in person: superusers see all; others by membership."""
        if user is None or not user.is_authenticated or not user.is_active:
            return cls(user=None)
        if user.is_superuser:
            return cls(user=user, scopes=ALL_SCOPES, unrestricted=True)
        roles = tuple(
            user.memberships.filter(is_active=True, organization__is_active=True).values_list(
                "organization_id", "role"
            )
        )
        scopes: set[str] = set()
        for _organization, role in roles:
            scopes |= ROLE_SCOPES.get(role, frozenset())
        actor = cls(user=user, scopes=frozenset(scopes))
        actor.roles = roles
        return actor

    @property
    def is_authenticated(self) -> bool:
        """True for a signed-in person or a valid key."""
        return self.user is not None or self.api_key is not None

    @property
    def person_id(self) -> Any:
        """The person behind this actor: the signed-in user, or the person a key acts for;
        ``None`` for an automation's key (and for the system)."""
        if self.user is not None:
            return self.user.pk
        if self.api_key is not None:
            return self.api_key.acts_for_user_id
        return None

    def stamp(self, verb: str = "created") -> dict[str, Any]:
        """The actor pair of a record, e.g. ``{"created_by": user, "created_by_key": key}``
        (``registry.models.CreatedByModel``: one spelling, ``<verb>_by`` / ``<verb>_by_key``)."""
        return {f"{verb}_by": self.user, f"{verb}_by_key": self.api_key}

    @property
    def organization(self) -> Organization | None:
        """The key's organization (people may belong to several: see ``areas``)."""
        return self.api_key.organization if self.api_key is not None else None

    def has_scope(self, scope: str) -> bool:
        """Whether this actor may use ``scope``."""
        return self.unrestricted or scope in self.scopes

    @cached_property
    def areas(self) -> tuple[Area, ...]:
        """The areas this actor may see (computed once, on first use)."""
        if self.unrestricted:
            return (Area(districts=None, programs=None),)
        if self.api_key is not None:
            resolved = getattr(self.api_key, RESOLVED_AREA, False)
            if resolved is None:
                return ()
            if isinstance(resolved, Area):
                return (resolved,)
            area = organization_area(self.api_key.organization)
            return () if area.districts is None and area.programs is None else (area,)
        if self.user is None:
            return ()
        areas: list[Area] = []
        memberships = self.user.memberships.filter(
            is_active=True, organization__is_active=True
        ).select_related("organization")
        for membership in memberships.prefetch_related("districts"):
            if membership.role == Role.ADMINISTRATOR:
                continue  # platform management (registry.policies) opens no families' data
            own = frozenset(d.ubigeo for d in membership.districts.all())
            area = organization_area(membership.organization, districts=own or None)
            if area.districts is not None or area.programs is not None:
                # A role counts only in its own organization's area.
                areas.append(
                    Area(
                        area.districts,
                        area.programs,
                        ROLE_SCOPES.get(membership.role, frozenset()),
                        organization_id=membership.organization_id,
                        organization_kind=membership.organization.kind,
                        role=membership.role,
                    )
                )
        return tuple(areas)

    def covering(self, *, district: str, program: int, scope: str | None = None) -> list[Area]:
        """The actor's areas that hold a record in ``district`` and ``program`` (and ``scope``,
        if given): a person's memberships acting there (``Area.organization_id``, ``role``)."""
        return [
            area
            for area in self.areas
            if area.allows(scope)
            and (area.districts is None or district in area.districts)
            and (area.programs is None or program in area.programs)
        ]

    def districts_in(
        self, *, program: int, scope: str | None = None
    ) -> frozenset[str] | Literal[False] | None:
        """The districts of ``program`` inside the actor's areas where it holds ``scope``:
        ``None`` for all of them, ``False`` for none (the set form of :meth:`covers`)."""
        if self.unrestricted:
            return None
        if scope is not None and not self.has_scope(scope):
            return False
        districts: set[str] = set()
        for area in self.areas:
            if not area.allows(scope) or (
                area.programs is not None and program not in area.programs
            ):
                continue
            if area.districts is None:
                return None
            districts |= area.districts
        return frozenset(districts) if districts else False

    def covers(self, *, district: str, program: int, scope: str | None = None) -> bool:
        """Whether a record in ``district`` and ``program`` is inside an area of the actor where
        it holds ``scope`` (a key's scopes hold in all its area; a person's role only in that
        role's organization)."""
        if self.unrestricted:
            return True
        if scope is not None and not self.has_scope(scope):
            return False
        return bool(self.covering(district=district, program=program, scope=scope))

    def area_q(
        self, *, district_path: str | None, program_path: str | None, scope: str | None = None
    ) -> Q:
        """Filter for rows inside the actor's areas (where it holds ``scope``, if given);
        matches nothing when it has none."""
        if self.unrestricted:
            return Q()
        if scope is not None and not self.has_scope(scope):
            return Q(pk__in=[])
        areas = [area for area in self.areas if area.allows(scope)]
        if not areas:
            return Q(pk__in=[])
        condition = Q(pk__in=[])
        for area in areas:
            condition |= area.q(district_path, program_path)
        return condition

    def __repr__(self) -> str:
        who = self.api_key.prefix if self.api_key is not None else getattr(self.user, "pk", None)
        return f"<Actor {who}>"
