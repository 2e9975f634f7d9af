"""The ``producer_organisations`` indicator (issue 16): per cell of district and programme (the
households' current ones), the reviewed households that are open members of a producer
organisation, the organisations they belong to, and the accepted kilograms and soles they sold
through organisations' contracts in the period (deliveries the programme confirmed, dated in
``from``–``to``). Registered with ``farmers.reporting.indicators.register_metric`` from
``MarketsConfig.ready()``; the population, the area scoping and the small-cell rules are the
farmers indicators' own (``docs/indicators.md``). Two queries whatever the number of
households."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from farmers.reporting.indicators import IndicatorQuery, scoped_households
from farmers.reporting.suppression import protect
from registry.actors import Actor

from .models import Delivery, ProducerMembership
from .workflow import ACCEPTED_DELIVERY_STATES

METRIC = "producer_organisations"
COLUMNS = {"district": "household__district_id", "program": "household__program__code"}
VALUES = ("households", "organisations", "delivered_kg", "sales_pen")
CENT = Decimal("0.01")


def producer_organisation_cells(*, actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """The cells of the ``producer_organisations`` metric for ``actor`` (suppressed when
    ``query.suppress``: a cell with fewer than 5 member households shows none of its values,
    and the complements are suppressed as for every metric)."""
    dims = [d for d in query.group_by if d in COLUMNS]
    columns = [COLUMNS[d] for d in dims]
    households = scoped_households(actor=actor, query=query).values("pk")
    members = (
        ProducerMembership.objects.filter(left_on__isnull=True, household_id__in=households)
        .order_by()
        .values(*columns)
        .annotate(
            households=Count("household_id", distinct=True),
            organisations=Count("organization_id", distinct=True),
        )
    )
    sales = Delivery.objects.filter(
        household_id__in=households,
        contract__seller_organization__isnull=False,
        status__in=ACCEPTED_DELIVERY_STATES,
        confirmed_at__isnull=False,
    )
    if query.date_from is not None:
        sales = sales.filter(delivered_on__gte=query.date_from)
    if query.date_to is not None:
        sales = sales.filter(delivered_on__lte=query.date_to)
    sold = {
        tuple(row[c] for c in columns): row
        for row in sales.order_by()
        .values(*columns)
        .annotate(kg=Sum("weight_kg"), pen=Sum("amount_pen"))
    }
    cells: list[dict[str, Any]] = []
    for row in members:
        key = tuple(row[c] for c in columns)
        money = sold.get(key, {})
        cells.append(
            {
                **{d: row[COLUMNS[d]] for d in dims},
                "households": row["households"],
                "organisations": row["organisations"],
                "delivered_kg": _two(money.get("kg")),
                "sales_pen": _two(money.get("pen")),
            }
        )
    cells.sort(key=lambda c: tuple(str(c[d]) for d in dims))
    return protect(
        cells,
        values=VALUES,
        count=lambda c: c["households"],
        keys=dims,
        dims=dims,
        enabled=query.suppress,
    )


def _two(value: Any) -> str:
    """A sum as a two-place decimal string (SQLite's sums drop the scale; none is zero)."""
    return str(Decimal(value or 0).quantize(CENT))
