"""Contracts in the admin's story pages: the section of the household page (each contract the
person may see with its deliveries), and what the contract's own page adds (the family's plots
on a map, the history in words)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Prefetch
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farmers.models import Household, Plot
from registry.actors import Actor
from registry.admin_toolkit import history_html
from registry.display import day, number
from registry.maps import boundary_svg

from .. import policies
from ..models import Contract, Delivery
from ..selectors import contract_list

SECTION_TEMPLATE = "admin/markets/_household_section.html"


def contract_admin_section(
    request: HttpRequest, actor: Actor, household: Household
) -> tuple[str, dict[str, Any]] | None:
    """The household's contracts the person may see, with their deliveries (two queries);
    hidden without ``contracts:read`` in the household's area."""
    if not policies.contracts_visible_on(actor, household):
        return None
    deliveries = Delivery.objects.only(
        "pk", "contract_id", "delivered_on", "weight_kg", "amount_pen", "status"
    ).order_by("delivered_on", "id")
    contracts = list(
        contract_list(actor=actor)
        .filter(household=household)
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .order_by("-season_start", "id")
    )
    rows = [
        {
            "url": reverse("admin:markets_contract_change", args=[c.pk]),
            "buyer": c.buyer.name,
            "crop": c.get_crop_display(),
            "product_form": c.get_product_form_display(),
            "season": f"{day(c.season_start)}–{day(c.season_end)}",
            "status": c.get_status_display(),
            "volume": number(c.volume_kg),
            "fulfilment": number(c.fulfilment * 100, 1),
            "deliveries": [
                {
                    "url": reverse("admin:markets_delivery_change", args=[d.pk]),
                    "on": day(d.delivered_on),
                    "kg": number(d.weight_kg),
                    "amount": number(d.amount_pen),
                    "status": d.get_status_display(),
                }
                for d in c.deliveries.all()
            ],
        }
        for c in contracts
    ]
    return SECTION_TEMPLATE, {"contracts": rows}


class ContractStoryMixin:
    """What the contract's admin page adds: the family's plots on a map and the history in
    words."""

    @admin.display(description=gettext_lazy("the family's plots on the map"))
    def plots_map(self, obj: Contract) -> SafeString:
        if obj.household is None:  # a producer organisation's contract: no family plots
            return boundary_svg([], title="")
        plots = Plot.objects.filter(household=obj.household, is_active=True).only(
            "name", "geometry"
        )
        return boundary_svg_for(plots, obj.household)

    @admin.display(description=gettext_lazy("history in words"))
    def history_in_words(self, obj: Contract) -> SafeString:
        return history_html([obj])


def boundary_svg_for(plots: Any, household: Any) -> SafeString:
    """The plots drawn as the family's map, over the household's district."""
    return boundary_svg(
        [(plot.name, plot.geometry) for plot in plots],
        title=_("Plots of household %(code)s") % {"code": household.code},
        district=household.district_id,
        district_name=household.district.name,
    )
