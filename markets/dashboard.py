"""The dashboard's sales card (``farmers.reporting.dashboard``, registered from
``MarketsConfig.ready()``): volume and value of the accepted or paid deliveries in the period,
per month and by product form, and the active contracts, from the sales summary tables
(``markets.summaries``) in two queries; every figure, bar and row opens the admin list of the
deliveries or contracts behind it."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from farmers.reporting import charts
from farmers.reporting.dashboard import Cell, Figure, Panel, SectionInput, soles

from .choices import ContractStatus, ProductForm
from .models import DashboardContracts, DashboardSalesMonth
from .workflow import ACCEPTED_DELIVERY_STATES

DELIVERIES = "admin:markets_delivery_changelist"
CONTRACTS = "admin:markets_contract_changelist"
SOLD = ",".join(str(s) for s in ACCEPTED_DELIVERY_STATES)


def kilograms(grams: int) -> str:
    """A weight in whole kilograms (1,234 kg)."""
    return _("%(kg)s kg") % {"kg": charts.number(round(grams / 1000))}


def sales_panel(section: SectionInput) -> Panel:
    """The sales card for the page's filters."""
    months = section.months
    first, last = section.period()
    per_month = dict.fromkeys(months, 0)
    by_form: dict[str, list[int]] = {}
    for row in (
        DashboardSalesMonth.objects.filter(section.area, month__gte=months[0], month__lte=last)
        .order_by()
        .values("month", "product_form")
        .annotate(g=Sum("grams"), c=Sum("value_cents"), n=Sum("deliveries"))
    ):
        per_month[row["month"]] = per_month.get(row["month"], 0) + (row["c"] or 0)
        cell = by_form.setdefault(row["product_form"], [0, 0, 0])
        cell[0] += row["g"] or 0
        cell[1] += row["c"] or 0
        cell[2] += row["n"] or 0
    active = {
        row["product_form"]: row["n"] or 0
        for row in DashboardContracts.objects.filter(section.area)
        .order_by()
        .values("product_form")
        .annotate(n=Sum("contracts"))
    }
    grams, cents, count = (sum(cell[i] for cell in by_form.values()) for i in range(3))
    sold = {
        "delivered_on__gte": first.isoformat(),
        "delivered_on__lte": last.isoformat(),
        "status__in": SOLD,
    }
    figures = [
        Figure(_("Volume sold"), kilograms(grams), "", section.link(DELIVERIES, **sold)),
        Figure(
            _("Value of sales"), soles(Decimal(cents) / 100), "", section.link(DELIVERIES, **sold)
        ),
        Figure(
            _("Deliveries accepted"), charts.number(count), "", section.link(DELIVERIES, **sold)
        ),
        Figure(
            _("Active contracts"),
            charts.number(sum(active.values())),
            "",
            section.link(CONTRACTS, status__exact=ContractStatus.ACTIVE),
        ),
    ]
    value_chart = charts.columns(
        _("Value of sales per month (S/)"),
        section.month_labels(),
        [(_("Value (S/)"), charts.GREEN, [round(per_month[m] / 100) for m in months])],
        empty_message=_("No sale in the period."),
    )
    forms = [f for f in ProductForm.values if f in by_form or f in active]
    bars = [
        charts.Bar(
            str(ProductForm(form).label),
            by_form.get(form, [0])[0],
            kilograms(by_form.get(form, [0])[0]),
            charts.SKY,
            section.link(DELIVERIES, contract__product_form__exact=form, **sold),
        )
        for form in forms
    ]
    volume_chart = charts.hbars(
        _("Volume sold by product"),
        bars,
        empty_message=_("No sale in the period."),
        labels_above=True,
    )
    rows = []
    for form in forms:
        g, c, n = by_form.get(form, [0, 0, 0])
        deliveries = section.link(DELIVERIES, contract__product_form__exact=form, **sold)
        rows.append(
            [
                Cell(str(ProductForm(form).label)),
                Cell(kilograms(g), deliveries, num=True),
                Cell(soles(Decimal(c) / 100), deliveries, num=True),
                Cell(charts.number(n), deliveries, num=True),
                Cell(
                    charts.number(active.get(form, 0)),
                    section.link(
                        CONTRACTS, status__exact=ContractStatus.ACTIVE, product_form__exact=form
                    ),
                    num=True,
                ),
            ]
        )
    return Panel(
        key="sales",
        title=_("Sales"),
        note=_(
            "Deliveries accepted or paid, in the month delivered, at their agreed amount; "
            "contracts active now."
        ),
        figures=figures,
        charts=[value_chart, volume_chart],
        headers=[
            Cell(_("Product")),
            Cell(_("Volume"), num=True),
            Cell(_("Value"), num=True),
            Cell(_("Deliveries"), num=True),
            Cell(_("Active contracts"), num=True),
        ],
        rows=rows,
    )
