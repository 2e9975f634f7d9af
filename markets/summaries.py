"""The dashboard's sales cells (``DashboardSalesMonth``, ``DashboardContracts``), kept exact by
the markets services in the transaction of every change to a delivery or a contract.

A delivery **contributes** while it is accepted or paid: one delivery, its weight (grams) and
its value (its amount, céntimos of PEN) in the month delivered, under its contract's product
form; a contract contributes one active contract while it is active. A service reads the row's
contribution before the change (the row is locked) and after it, and appends the difference as
delta rows (``farmers.reporting.summaries.apply``): one ``INSERT`` a table, no query.
``rebuild_dashboard_summaries`` recomputes both tables from the records with grouped queries
(:func:`recompute_sales`, :func:`recompute_contracts`), which also covers the rows the seeders
write with ``COPY`` (``seed_deliveries``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from farmers.reporting.summaries import Delta, apply, difference, register_table

from .choices import ContractStatus
from .models import Contract, DashboardContracts, DashboardSalesMonth, Delivery
from .workflow import ACCEPTED_DELIVERY_STATES

SALES, CONTRACTS = "sales", "contracts"
SOLD = frozenset(str(s) for s in ACCEPTED_DELIVERY_STATES)


def _units(value: Decimal | float | int | None, per: int) -> int:
    amount = Decimal(str(value or 0)) * per
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def delivery_cells(delivery: Delivery, *, status: str | None = None) -> Delta:
    """What one delivery adds to the tables (``status`` in place of its own: the state before a
    move, which the flow sets before its hooks run)."""
    if (status or delivery.status) not in SOLD:
        return {SALES: {}}
    key = (
        delivery.district_id,
        delivery.program_id,
        delivery.delivered_on.replace(day=1),
        delivery.contract.product_form,
    )
    return {SALES: {key: [_units(delivery.weight_kg, 1000), _units(delivery.amount_pen, 100), 1]}}


def contract_cells(contract: Contract, *, status: str | None = None) -> Delta:
    """What one contract adds to the tables (``status`` as in :func:`delivery_cells`)."""
    if (status or contract.status) != ContractStatus.ACTIVE:
        return {CONTRACTS: {}}
    return {CONTRACTS: {(contract.district_id, contract.program_id, contract.product_form): [1]}}


def changed(after: Delta, before: Delta) -> None:
    """Append the difference a change made (``after − before``) to the tables."""
    apply(difference(after, before))


def contributions(*, deliveries: Iterable[Any] = (), contracts: Iterable[Any] = ()) -> Delta:
    """The cells of the deliveries and contracts given by id (grouped queries)."""
    delta: Delta = {SALES: {}, CONTRACTS: {}}
    wanted = list(deliveries)
    if wanted:
        delta[SALES] = _sales(Delivery.objects.filter(pk__in=wanted))
    wanted = list(contracts)
    if wanted:
        delta[CONTRACTS] = _contracts(Contract.objects.filter(pk__in=wanted))
    return delta


@contextmanager
def tracking(*, deliveries: Iterable[Any] = (), contracts: Iterable[Any] = ()) -> Iterator[None]:
    """Keep the tables exact across a change to these rows made inside the block (within the
    caller's transaction, the rows locked): a merge moving them to another household's district
    and programme."""
    ids = {"deliveries": list(deliveries), "contracts": list(contracts)}
    before = contributions(**ids)
    yield
    changed(contributions(**ids), before)


def _sales(deliveries: Any) -> dict[tuple[Any, ...], list[int]]:
    cells: dict[tuple[Any, ...], list[int]] = {}
    for row in (
        deliveries.filter(status__in=SOLD)
        .order_by()
        .annotate(m=TruncMonth("delivered_on"))
        .values("district_id", "program_id", "m", "contract__product_form")
        .annotate(kg=Sum("weight_kg"), pen=Sum("amount_pen"), n=Count("pk"))
    ):
        key = (row["district_id"], row["program_id"], row["m"], row["contract__product_form"])
        cell = cells.setdefault(key, [0, 0, 0])
        cell[0] += _units(row["kg"], 1000)
        cell[1] += _units(row["pen"], 100)
        cell[2] += row["n"]
    return cells


def _contracts(contracts: Any) -> dict[tuple[Any, ...], list[int]]:
    rows = (
        contracts.filter(status=ContractStatus.ACTIVE)
        .order_by()
        .values_list("district_id", "program_id", "product_form")
        .annotate(n=Count("pk"))
    )
    return {(district, program, form): [n] for district, program, form, n in rows}


def recompute_sales() -> dict[tuple[Any, ...], list[int]]:
    """Every sales cell, from the deliveries (one grouped query)."""
    return _sales(Delivery.objects.all())


def recompute_contracts() -> dict[tuple[Any, ...], list[int]]:
    """Every active-contract cell, from the contracts (one grouped query)."""
    return _contracts(Contract.objects.all())


def register() -> None:
    """Register both tables with the dashboard's summaries (``MarketsConfig.ready()``)."""
    register_table(
        SALES,
        DashboardSalesMonth,
        ("district_id", "program_id", "month", "product_form"),
        ("grams", "value_cents", "deliveries"),
        recompute_sales,
    )
    register_table(
        CONTRACTS,
        DashboardContracts,
        ("district_id", "program_id", "product_form"),
        ("contracts",),
        recompute_contracts,
    )
