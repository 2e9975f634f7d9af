"""The markets app's part of the field officers' pages: a panel of the household's contracts
and producer organisations on the household page, and the page to record that the household
joined a producer organisation, registered from ``MarketsConfig.ready()`` through
``farmers.pages.registry`` (farmers never imports markets). The form posts here and the view
calls the same service as the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers import selectors as farmers_selectors
from farmers.models import Household
from farmers.pages.base import field_page, service_errors
from registry.actors import Actor
from registry.dates import typed_date

from . import policies, services
from .choices import MemberRole
from .selectors import contract_list, membership_list, producer_organization_list

PANEL_TEMPLATE = "field/markets/_panel.html"
JOIN_TEMPLATE = "field/markets/join.html"
PANEL_FIELDS = (
    "id",
    "household",
    "household__id",
    "seller_organization",
    "seller_organization__id",
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
    memberships = list(
        membership_list(actor=actor).filter(household=household).order_by("-joined_on", "id")
    )
    return PANEL_TEMPLATE, {"contracts": contracts, "memberships": memberships}


@field_page
def membership_join(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """Record that the household joined a producer organisation (cooperative or association):
    the organisation, the role and the day it joined (dd/mm/aaaa)."""
    household = farmers_selectors.household_get(actor=actor, household_id=household_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = dict(request.POST.items())
        joined_on = typed_date(values.get("joined_on"))
        if not isinstance(joined_on, date):
            errors["joined_on"] = [
                _("Write the date as dd/mm/aaaa.") if joined_on == "" else _("Give the date.")
            ]
        else:
            with service_errors(errors):
                services.membership_create(
                    actor=actor,
                    organization=str(values.get("organization") or ""),
                    household=household,
                    role=str(values.get("role") or MemberRole.MEMBER),
                    joined_on=joined_on,
                    channel="web",
                )
                return redirect("field:household", household_id=household.pk)
    context = {
        "household": household,
        "organizations": list(producer_organization_list(actor=actor).order_by("name")),
        "roles": [(value, str(label)) for value, label in MemberRole.choices],
        "today": timezone.localdate().isoformat(),
        "errors": errors,
        "values": values,
    }
    return render(request, JOIN_TEMPLATE, context, status=400 if errors else 200)
