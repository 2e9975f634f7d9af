"""Who may do what in the markets app: the one door for access of contracts, deliveries, offers
and buyers, used by the services, the selectors, the API, the admin and the field pages alike.

- ``<entity>_q(actor, scope=...)``: a filter for the rows the actor may see (or act on);
- ``<entity>_can(actor, obj, action)``: whether the actor may make ``action`` on ``obj``;
- ``require_<...>``: the same, raising the 403 the services answer with.

A buyer's key (``buyer_of``) sees and writes its own contracts and deliveries only, and reaches
only the households the programme offered it (``households_offered_to``); everyone else acts in
their area (``registry.actors.Actor``). Platform rules on buyers' profiles and yield norms are
the kernel's (``registry.policies``).

A household reaches a buyer through a live ``BuyerOffer`` the programme made; a producer
organisation (a cooperative or association, which may also buy from its members) reaches its
open members too (``offered_household_q``). A producer organisation's key sees the contracts it
sells or buys under and their deliveries, records deliveries under the contracts it sells, and
reads its own memberships (``membership_q``); memberships are written by programme people with
``households:write`` in the household's area.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from farmers.choices import HouseholdStatus
from farmers.models import Household
from registry import policies as registry_policies
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.exceptions import PermissionDenied
from registry.models import Organization

from .models import BuyerOffer, Contract, Delivery, ProducerMembership
from .workflow import BUYER, PROGRAMME

# --- buyers and the households offered to them ---------------------------------------------------


# Organizations whose keys act for themselves in the market: buyers, and producer
# organisations (which sell their members' produce and may buy from their members).
TRADING_KINDS = frozenset({OrganizationKind.BUYER, OrganizationKind.PRODUCER_ORG})


def buyer_of(actor: Actor | None) -> Organization | None:
    """The trading organization (a buyer or a producer organisation) behind an API key
    (``None`` for everybody else)."""
    organization = actor.organization if actor is not None else None
    if organization is not None and organization.kind in TRADING_KINDS:
        return organization
    return None


def open_membership_q(organization_id: int, household_path: str = "pk") -> Q:
    """Rows whose household (at ``household_path``) is an open member of the organisation."""
    return Q(
        Exists(
            ProducerMembership.objects.filter(
                household_id=OuterRef(household_path),
                organization_id=organization_id,
                left_on__isnull=True,
            )
        )
    )


def offered_household_q(buyer: Organization | int, household_path: str = "pk") -> Q:
    """Rows whose household (at ``household_path``) the programme links to ``buyer``: a live
    offer to it, or (a producer organisation buying from its members) an open membership."""
    buyer_id = buyer if isinstance(buyer, int) else buyer.pk
    offered = Q(
        Exists(
            BuyerOffer.objects.filter(
                household_id=OuterRef(household_path),
                buyer_id=buyer_id,
                withdrawn_at__isnull=True,
            )
        )
    )
    if isinstance(buyer, Organization) and buyer.kind != OrganizationKind.PRODUCER_ORG:
        return offered
    return offered | open_membership_q(buyer_id, household_path)


def households_offered_to(buyer: Organization | int) -> QuerySet[Household]:
    """The active households ``buyer`` may propose contracts to and see: those the programme
    offered it (and that are still active). Anything else is "unknown" to the buyer."""
    return Household.objects.filter(offered_household_q(buyer), status=HouseholdStatus.ACTIVE)


def is_offered(buyer: Organization | int, household_id: UUID | str) -> bool:
    """Whether the household is offered to ``buyer`` and active (one query)."""
    return households_offered_to(buyer).filter(pk=household_id).exists()


def buyer_program_ids(buyer: Organization) -> set[int]:
    """The programmes a buyer is linked to: assigned to it, or where it holds contracts."""
    assigned = set(buyer.programs.values_list("pk", flat=True))
    contracted = set(
        Contract.objects.filter(buyer=buyer).order_by().values_list("program_id", flat=True)
    )
    return assigned | contracted


def buyer_q(actor: Actor | None) -> Q:
    """Buyers whose profile the person edits (``registry.policies.can_manage_buyer`` as a
    filter on organizations): their own, those linked to a programme they govern, and
    unlinked ones."""
    if registry_policies.is_platform_admin(actor):
        return Q()
    assert actor is not None
    governed = registry_policies.governed_programs(actor).values("pk")
    allowed = Q(pk__in=sorted(registry_policies.staff_organization_ids(actor)))
    allowed |= Q(programs__in=governed) | Q(contracts__program__in=governed)
    if registry_policies.governs_any_program(actor):
        linked = Organization.objects.filter(
            Q(programs__isnull=False) | Q(contracts__isnull=False)
        ).values("pk")
        allowed |= ~Q(pk__in=linked)
    buyers = Organization.objects.filter(kind=OrganizationKind.BUYER)
    return Q(pk__in=buyers.filter(allowed).values("pk"))


def buyer_can(actor: Actor | None, buyer: Organization | str, action: str) -> bool:
    """``register``: anyone but another buyer's key (a buyer registers only itself; ``buyer``
    is the code); ``manage``: edit the buyer's profile (``registry.policies``)."""
    if action == "register":
        own = buyer_of(actor)
        code = buyer if isinstance(buyer, str) else buyer.code
        return own is None or own.code == code
    if action == "manage":
        assert isinstance(buyer, Organization)
        return registry_policies.can_manage_buyer(actor, buyer, buyer_program_ids(buyer))
    raise ValueError(f"unknown action {action!r}")


def require_buyer(actor: Actor | None, buyer: Organization | str, action: str) -> None:
    """``buyer_can`` or the services' 403."""
    if buyer_can(actor, buyer, action):
        return
    if action == "register":
        raise PermissionDenied(
            _("A buyer's key may only register its own organization."), code="not_own_buyer"
        )
    raise PermissionDenied(_("You may not change this buyer's details."), code="not_your_buyer")


# --- contracts and deliveries --------------------------------------------------------------------


def contract_q(actor: Actor, scope: str = Scope.CONTRACTS_READ, *, prefix: str = "") -> Q:
    """Contracts (or, with ``prefix``, rows pointing at them) the actor may see with ``scope``:
    a buyer's key its own contracts only, everyone else those in their area."""
    buyer = buyer_of(actor)
    if buyer is not None:
        if not actor.has_scope(scope):
            return Q(pk__in=[])
        if buyer.kind == OrganizationKind.PRODUCER_ORG:
            return Q(**{f"{prefix}buyer_id": buyer.pk}) | Q(
                **{f"{prefix}seller_organization_id": buyer.pk}
            )
        return Q(**{f"{prefix}buyer_id": buyer.pk})
    return actor.area_q(
        district_path=f"{prefix}district_id",
        program_path=f"{prefix}program_id",
        scope=scope,
    )


def contract_parties(
    actor: Actor, contract: Contract, scope: str = Scope.CONTRACTS_WRITE
) -> set[str]:
    """The workflow parties ``actor`` holds on ``contract`` with ``scope``: ``buyer`` (the
    contract's own buyer's key) or ``programme`` (anyone else whose area covers it)."""
    if not actor.has_scope(scope):
        return set()
    buyer = buyer_of(actor)
    if buyer is not None:
        return {BUYER} if contract.buyer_id == buyer.pk else set()
    if actor.covers(district=contract.district_id, program=contract.program_id, scope=scope):
        return {PROGRAMME}
    return set()


def contract_can(actor: Actor, contract: Contract, action: str) -> bool:
    """``write`` (move it, record deliveries against it, replay its create): the contract's own
    buyer, or programme people with contracts:write in its area."""
    if action == "write":
        return bool(contract_parties(actor, contract))
    raise ValueError(f"unknown action {action!r}")


def may_create_contracts(actor: Actor) -> bool:
    """Whether the actor records contracts at all (``contracts:write``)."""
    return actor.has_scope(Scope.CONTRACTS_WRITE)


def require_contract_create(actor: Actor) -> None:
    """``may_create_contracts`` or the services' 403."""
    if not may_create_contracts(actor):
        raise PermissionDenied(_("Your role may not record contracts."), code="missing_scope")


def contract_household(actor: Actor, household_id: Any) -> Household | None:
    """The household ``actor`` may make a contract with (``None``: unknown to it): a buyer's
    key reaches only the households the programme offered it (any other id — existing or not,
    active or not — gets the same answer as an unknown one); programme people those in their
    area where they hold contracts:write."""
    own = buyer_of(actor)
    if own is not None:
        return households_offered_to(own).filter(pk=household_id).first()
    owner = Household.objects.filter(pk=household_id).first()
    if owner is None or not actor.covers(
        district=owner.district_id, program=owner.program_id, scope=Scope.CONTRACTS_WRITE
    ):
        return None
    return owner


def contracts_visible_on(actor: Actor, household: Household) -> bool:
    """Whether the actor sees a household's contracts (``contracts:read`` in its area)."""
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.CONTRACTS_READ
    )


def delivery_q(actor: Actor, scope: str = Scope.CONTRACTS_READ) -> Q:
    """Deliveries the actor may see: those of the contracts it may see (a delivery carries its
    contract's buyer, district and programme; a selling organisation is its contract's)."""
    buyer = buyer_of(actor)
    if buyer is not None and buyer.kind == OrganizationKind.PRODUCER_ORG:
        if not actor.has_scope(scope):
            return Q(pk__in=[])
        return Q(buyer_id=buyer.pk) | Q(contract__seller_organization_id=buyer.pk)
    return contract_q(actor, scope)


def vouches_for_deliveries(actor: Actor | None) -> bool:
    """Whether a write by ``actor`` confirms a delivery for the programme: programme people (any
    non-buyer with the right to write the contract) vouch for it; a buyer's key never does."""
    return buyer_of(actor) is None


def delivery_can(actor: Actor, delivery: Delivery, action: str) -> bool:
    """``record`` (``delivery.contract`` is the contract it goes against) and ``transition``:
    the contract's writers; ``confirm``: the programme (its staff or an implementer in the
    area), never a buyer."""
    if action == "record" and _sells_under(actor, delivery.contract):
        return True
    if action in ("record", "transition"):
        return contract_can(actor, delivery.contract, "write")
    if action == "confirm":
        return vouches_for_deliveries(actor) and contract_can(actor, delivery.contract, "write")
    raise ValueError(f"unknown action {action!r}")


def _sells_under(actor: Actor, contract: Contract) -> bool:
    """Whether ``actor`` is the key of the producer organisation selling under ``contract``
    (it records its members' deliveries), with contracts:write."""
    own = buyer_of(actor)
    return (
        own is not None
        and contract.seller_organization_id == own.pk
        and actor.has_scope(Scope.CONTRACTS_WRITE)
    )


def require_delivery(actor: Actor, delivery: Delivery, action: str) -> None:
    """``delivery_can`` or the services' 403."""
    if delivery_can(actor, delivery, action):
        return
    if action == "confirm":
        raise PermissionDenied(
            _("Only the programme (its staff or an implementer in the area) confirms deliveries."),
            code="not_programme",
        )
    if action == "record":
        raise PermissionDenied(_("Your role may not record deliveries."), code="missing_scope")
    raise PermissionDenied(_("Your role may not change deliveries."), code="missing_scope")


# --- offers --------------------------------------------------------------------------------------

# Organizations whose keys may offer households to buyers (in their area); people need the
# programme-staff role (``contracts:write``) there.
OFFERING_KINDS = frozenset({OrganizationKind.PROGRAM_AGENCY, OrganizationKind.IMPLEMENTER})


def offer_q(actor: Actor, scope: str = Scope.CONTRACTS_READ) -> Q:
    """Offers the actor may see: a buyer's key its own live offers of active households (the
    families it may propose contracts to), everyone else the offers in their area."""
    buyer = buyer_of(actor)
    if buyer is not None:
        if not actor.has_scope(scope):
            return Q(pk__in=[])
        return Q(buyer=buyer, withdrawn_at__isnull=True, household__status=HouseholdStatus.ACTIVE)
    return actor.area_q(district_path="district_id", program_path="program_id", scope=scope)


def offer_can(actor: Actor, offer: BuyerOffer | Household | None, action: str) -> bool:
    """On a household (or an offer's household): ``view`` — the household is inside the
    actor's area (outside it, it is unknown); ``create`` / ``withdraw`` — programme staff, or an
    implementer's or programme agency's key, whose area covers it, with contracts:write; never
    a buyer. With ``None``: whether the actor may offer households at all."""
    household = offer.household if isinstance(offer, BuyerOffer) else offer
    if household is None:
        return action == "create" and actor.has_scope(Scope.CONTRACTS_WRITE)
    if action == "view":
        return actor.covers(district=household.district_id, program=household.program_id)
    if action not in ("create", "withdraw"):
        raise ValueError(f"unknown action {action!r}")
    if buyer_of(actor) is not None:
        return False
    organization = actor.organization
    if organization is not None and organization.kind not in OFFERING_KINDS:
        return False
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.CONTRACTS_WRITE
    )


def require_offer(actor: Actor, offer: BuyerOffer | Household, action: str) -> None:
    """``offer_can`` or the services' 403."""
    if offer_can(actor, offer, action):
        return
    if action == "withdraw":
        raise PermissionDenied(
            _("Only programme staff and implementers may withdraw offers."), code="missing_scope"
        )
    raise PermissionDenied(
        _("Only programme staff and implementers may offer households to buyers."),
        code="missing_scope",
    )


# --- producer organisations' memberships ---------------------------------------------------------


def membership_q(actor: Actor, scope: str = Scope.CONTRACTS_READ) -> Q:
    """Memberships the actor may see: a producer organisation's key its own members' (with
    contracts:read); another trading key none; everyone else those in their area."""
    own = buyer_of(actor)
    if own is not None:
        if own.kind != OrganizationKind.PRODUCER_ORG or not actor.has_scope(Scope.CONTRACTS_READ):
            return Q(pk__in=[])
        return Q(organization_id=own.pk)
    return actor.area_q(district_path="district_id", program_path="program_id", scope=scope)


def membership_can(actor: Actor, household: Household, action: str = "write") -> bool:
    """``write`` (add a member, change a role, record leaving): programme people with
    households:write whose area covers the household; never a trading organization's key."""
    if action != "write":
        raise ValueError(f"unknown action {action!r}")
    if buyer_of(actor) is not None:
        return False
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.HOUSEHOLDS_WRITE
    )


def membership_household_q(actor: Actor) -> Q:
    """Households whose memberships the actor may write (``membership_can`` as a filter): those
    in its area where it holds households:write; none for a trading organization's key."""
    if buyer_of(actor) is not None:
        return Q(pk__in=[])
    return actor.area_q(
        district_path="district_id", program_path="program_id", scope=Scope.HOUSEHOLDS_WRITE
    )


def may_write_memberships(actor: Actor) -> bool:
    """Whether the actor may write some household's memberships at all (``membership_can``
    before knowing the household)."""
    return buyer_of(actor) is None and actor.has_scope(Scope.HOUSEHOLDS_WRITE)


def require_membership(actor: Actor, household: Household) -> None:
    """``membership_can`` or the services' 403."""
    if not membership_can(actor, household):
        raise PermissionDenied(
            _("Your role may not change memberships of producer organisations."),
            code="missing_scope",
        )


# --- yield norms ---------------------------------------------------------------------------------


def yield_norm_can(actor: Actor | None, action: str = "change") -> bool:
    """Add or change the yield norms (they hold for every programme): programme agencies' staff
    or platform administrators (``registry.policies.can_edit_yield_norms``)."""
    return registry_policies.can_edit_yield_norms(actor)
