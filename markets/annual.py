"""The annual report's "Producer organisations" and "Sales" sections (issue 17), registered with
``farmers.reporting.annual`` from ``MarketsConfig.ready()`` (farmers never imports markets).
Four queries whatever the number of households; scoping, roll-up and small-cell rules are the
report's own."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from farmers.reporting.annual import (
    TOTAL,
    Figure,
    Section,
    grouped,
    period_of,
    profile_key,
    scope_q,
)
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor

from .choices import ProductForm
from .models import Delivery, ProducerMembership
from .workflow import ACCEPTED_DELIVERY_STATES


def organisation_rows(actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Member households of producer organisations during the period (joined by its end, not
    left before its start) and the organisations they belong to: two queries."""
    start, end = period_of(query)
    members = ProducerMembership.objects.filter(
        scope_q(actor, query, "household__"), joined_on__lte=end
    ).filter(Q(left_on__isnull=True) | Q(left_on__gte=start))
    rows = grouped(
        members, on=end, prefix="household__", households=Count("household_id", distinct=True)
    )
    organisations: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for row in grouped(members, on=end, prefix="household__", extra={"org": "organization_id"}):
        organisations[profile_key(row)].add(row["org"])
    for row in rows:
        row["key"] = TOTAL
        row["organisations"] = organisations.get(profile_key(row), set())
    return rows


def sales_rows(actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Accepted deliveries the programme confirmed, delivered in the period: kilograms by
    product form (never mixed) and soles, and the families that sold: two queries."""
    start, end = period_of(query)
    sales = Delivery.objects.filter(
        scope_q(actor, query, "household__"),
        status__in=ACCEPTED_DELIVERY_STATES,
        confirmed_at__isnull=False,
        delivered_on__gte=start,
        delivered_on__lte=end,
    )
    sums: dict[str, Any] = {
        "households": Count("household_id", distinct=True),
        "sales_pen": Sum("amount_pen"),
    }
    rows = grouped(
        sales,
        on=end,
        prefix="household__",
        extra={"key": "contract__product_form"},
        total="key",
        kg=Sum("weight_kg"),
        **sums,
    )
    for row in rows:
        if row["key"] == TOTAL:
            row["kg"] = None  # kilograms of different product forms are never added up
    return rows


def _form_label(key: str) -> str:
    if key == TOTAL:
        return str(_("All products"))
    return str(ProductForm(key).label) if key in ProductForm.values else key


ORGANISATIONS = Section(
    name="organisations",
    title=_("Producer organisations"),
    figures=(
        Figure("organisations", _("Organisations"), "set"),
        Figure("households", _("Member families")),
    ),
    rows=organisation_rows,
    key_label=lambda _key: str(_("Total")),
    order=40,
)
SALES = Section(
    name="sales",
    title=_("Sales"),
    figures=(
        Figure("kg", _("Volume (kg)"), "kg"),
        Figure("sales_pen", _("Value (PEN)"), "pen"),
        Figure("households", _("Families")),
    ),
    rows=sales_rows,
    key_label=_form_label,
    key_title=_("Product"),
    lines=((TOTAL, None),),
    order=60,
)
