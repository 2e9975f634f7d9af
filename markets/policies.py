"""Which households a buyer may reach: the one policy the contract services, the buyer's reads
and the offers list share.

Today a household reaches a buyer through a live ``BuyerOffer`` the programme made. Producer
organisations (issue 16) will add a second way in — the members of a cooperative the buyer buys
from — by joining their condition here, in ``offered_household_q``; nothing else changes.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet

from farmers.choices import HouseholdStatus
from farmers.models import Household
from registry.models import Organization

from .models import BuyerOffer


def offered_household_q(buyer: Organization | int, household_path: str = "pk") -> Q:
    """Rows whose household (at ``household_path``) the programme links to ``buyer``: a live
    offer to it. (Producer-organisation membership will be OR-ed in here.)"""
    buyer_id = buyer if isinstance(buyer, int) else buyer.pk
    return Q(
        Exists(
            BuyerOffer.objects.filter(
                household_id=OuterRef(household_path),
                buyer_id=buyer_id,
                withdrawn_at__isnull=True,
            )
        )
    )


def households_offered_to(buyer: Organization | int) -> QuerySet[Household]:
    """The active households ``buyer`` may propose contracts to and see: those the programme
    offered it (and that are still active). Anything else is "unknown" to the buyer."""
    return Household.objects.filter(offered_household_q(buyer), status=HouseholdStatus.ACTIVE)


def is_offered(buyer: Organization | int, household_id: UUID | str) -> bool:
    """Whether the household is offered to ``buyer`` and active (one query)."""
    return households_offered_to(buyer).filter(pk=household_id).exists()
