"""Admin for programme staff: contracts with their deliveries, schedule and status history,
totals per buyer and crop, CSV export (``contracts``); offers to buyers, buyers' contacts and
the yield norms and harvest calendars (``buyers``); producer organisations with their members
and the members' own page (``organisations``); what they share (``common``).

Status never changes by free editing: actions call the workflow services. Changelists are
narrowed to the person's area (the same rule as the API, ``markets.policies``) and never count
big tables.
"""

from __future__ import annotations

from .buyers import BuyerOfferAdmin, BuyerProfileAdmin, HarvestCalendarAdmin, YieldNormAdmin
from .common import BuyerFilter, ScopedMixin
from .contracts import (
    ContractAdmin,
    DeliveryAdmin,
    DeliveryInline,
    ScheduleInline,
    SeasonYearFilter,
    StatusChangeInline,
)
from .organisations import MemberInline, ProducerMembershipAdmin, ProducerOrganizationAdmin

__all__ = [
    "BuyerFilter",
    "BuyerOfferAdmin",
    "BuyerProfileAdmin",
    "ContractAdmin",
    "DeliveryAdmin",
    "DeliveryInline",
    "HarvestCalendarAdmin",
    "MemberInline",
    "ProducerMembershipAdmin",
    "ProducerOrganizationAdmin",
    "ScheduleInline",
    "ScopedMixin",
    "SeasonYearFilter",
    "StatusChangeInline",
    "YieldNormAdmin",
]
