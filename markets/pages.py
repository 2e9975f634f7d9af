"""The markets app's part of the field officers' pages: a read-only panel of the household's
contracts on the household page, registered from ``MarketsConfig.ready()`` through
``farmers.pages.registry`` (farmers never imports markets)."""

from __future__ import annotations

from typing import Any

from farmers.models import Household
from registry.actors import Actor

from . import policies
from .selectors import contract_list

PANEL_TEMPLATE = "field/markets/_panel.html"
PANEL_FIELDS = (
    "id",
    "household",
    "household__id",
    "buyer",
    "buyer__id",
    "buyer__name",
    "crop",
    "product_form",
    "season_start",
    "season_end",
    "status",
    "volume_kg",
    "accepted_kg",
)


def contract_panel(actor: Actor, household: Household) -> tuple[str, dict[str, Any]] | None:
    """The household's contracts the actor may see (hidden without ``contracts:read`` in the
    household's area): buyer, crop, product form, season, status and fulfilment."""
    if not policies.contracts_visible_on(actor, household):
        return None
    contracts = list(
        contract_list(actor=actor)
        .filter(household=household)
        .only(*PANEL_FIELDS)
        .order_by("-season_start", "id")
    )
    for contract in contracts:
        contract.fulfilment_pct = contract.fulfilment * 100  # type: ignore[attr-defined]
    return PANEL_TEMPLATE, {"contracts": contracts}
