"""Offers: the programme links a household to a buyer, which may then see the family and
propose contracts to it (``markets.policies.households_offered_to``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.choices import HouseholdStatus
from farmers.merging import move_records
from farmers.models import Household
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind
from registry.history import change_record
from registry.models import Organization
from registry.services import field_error

from .. import policies
from ..models import BuyerOffer


def offer_ensure(
    *, actor: Actor | None, household: Household, buyer: Organization, channel: str
) -> tuple[BuyerOffer, bool]:
    """The live offer of ``household`` to ``buyer``, made now if there is none (no checks: the
    caller made them)."""
    live = (
        BuyerOffer.objects.select_for_update()
        .filter(household=household, buyer=buyer, withdrawn_at__isnull=True)
        .first()
    )
    if live is not None:
        return live, False
    offer = BuyerOffer.objects.create(
        household=household,
        buyer=buyer,
        district_id=household.district_id,
        program_id=household.program_id,
        **(actor.stamp() if actor is not None else {}),
    )
    change_record(
        instance=offer,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": household.code, "buyer": buyer.code},
        channel=channel,
    )
    return offer, True


@transaction.atomic
def offer_create(
    *,
    actor: Actor,
    household: Any,
    buyer: str | Organization,
    note: str = "",
    channel: str = "api",
) -> tuple[BuyerOffer, bool]:
    """Offer a household to a buyer: the buyer may then see the family (code, district) and
    propose contracts to it. Idempotent: a live offer already there is returned (``created``
    False). Programme staff and implementers in their area only; the household must be active."""
    if isinstance(buyer, Organization):
        buyer_org: Organization | None = buyer
    else:
        buyer_org = Organization.objects.filter(code=buyer).first()
    if buyer_org is None or buyer_org.kind != OrganizationKind.BUYER or not buyer_org.is_active:
        raise field_error("buyer", _("Unknown buyer code."), "does_not_exist")
    owner = household if isinstance(household, Household) else None
    if owner is None:
        owner = Household.objects.filter(pk=household).first()
    if owner is None or not policies.offer_can(actor, owner, "view"):
        # Outside the actor's area a household is unknown (the same answer as a wrong id).
        raise field_error("household", _("Unknown household."), "does_not_exist")
    policies.require_offer(actor, owner, "create")
    if owner.status != HouseholdStatus.ACTIVE:
        raise field_error(
            "household",
            _("Only households whose registration was approved can be offered to buyers."),
            "household_not_active",
        )
    offer, created = offer_ensure(actor=actor, household=owner, buyer=buyer_org, channel=channel)
    if created and note.strip():
        offer.note = note.strip()[:300]
        offer.save(update_fields=["note"])
    return offer, created


@transaction.atomic
def offer_withdraw(
    *, actor: Actor, offer: BuyerOffer, reason: str = "", channel: str = "api"
) -> BuyerOffer:
    """Withdraw an offer: the buyer can no longer propose contracts to the family nor see it in
    its offers (its existing contracts stay its own). Withdrawing twice changes nothing."""
    locked = BuyerOffer.objects.select_for_update().select_related("household").get(pk=offer.pk)
    policies.require_offer(actor, locked, "withdraw")
    if locked.withdrawn_at is not None:
        return locked
    return _withdraw(locked, actor, reason, channel)


def _withdraw(locked: BuyerOffer, actor: Actor, reason: str, channel: str) -> BuyerOffer:
    """Withdraw the live, locked offer now, with its change record (no checks)."""
    locked.withdrawn_at = timezone.now()
    for name, value in actor.stamp("withdrawn").items():
        setattr(locked, name, value)
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_by_key"])
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"withdrawn_at": [None, locked.withdrawn_at.isoformat()], "reason": reason.strip()},
        channel=channel,
    )
    return locked


def offers_merge(source: Household, target: Household, actor: Actor) -> dict[str, Any]:
    """The offers part of a household merge: ``source``'s live offers to buyers that ``target``
    already has a live offer to are withdrawn (the survivor's offer stands; one live offer per
    household and buyer), then all of ``source``'s offers (live and withdrawn) move to
    ``target``."""
    clashing = BuyerOffer.objects.select_for_update().filter(
        household=source,
        withdrawn_at__isnull=True,
        buyer_id__in=BuyerOffer.objects.filter(household=target, withdrawn_at__isnull=True).values(
            "buyer_id"
        ),
    )
    reason = f"Merged into {target.code}, which already has a live offer to this buyer."
    withdrawn = [_withdraw(offer, actor, reason, "system") for offer in clashing.order_by("pk")]
    moved = move_records(BuyerOffer.objects.filter(household=source), source, target, actor)
    return {"offers": moved, "offers_withdrawn": len(withdrawn)}
