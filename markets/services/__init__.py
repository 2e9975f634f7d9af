"""Writes of the markets app, one module per sub-domain: buyers, offers, producer organisations'
memberships, contracts and their workflow, deliveries and payments, yield norms, the money and
weight rules they share, and moving a family's market records when it is merged (``merge``).

Every write asks ``markets.policies`` who may make it, runs in a transaction and leaves history in
it; changes to a family's market evidence queue a stage recompute after the commit. The public
services are re-exported here: ``from markets import services`` and ``from markets.services import
X`` keep working."""

from __future__ import annotations

from .amounts import amount_for, kilograms
from .buyers import buyer_profile_update, buyer_register
from .contracts import CONTRACT_FLOW, contract_create, contract_transition
from .deliveries import DELIVERY_FLOW, delivery_confirm, delivery_record, delivery_transition
from .merge import market_records_merge
from .norms import harvest_calendar_save, yield_norm_save
from .offers import offer_create, offer_withdraw, offers_merge
from .organisations import membership_create, membership_update

__all__ = [
    "CONTRACT_FLOW",
    "DELIVERY_FLOW",
    "amount_for",
    "buyer_profile_update",
    "buyer_register",
    "contract_create",
    "contract_transition",
    "delivery_confirm",
    "delivery_record",
    "delivery_transition",
    "harvest_calendar_save",
    "kilograms",
    "market_records_merge",
    "membership_create",
    "membership_update",
    "offer_create",
    "offer_withdraw",
    "offers_merge",
    "yield_norm_save",
]
