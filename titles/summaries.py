"""The dashboard's title cells (``DashboardTitleMonth``, ``DashboardTitleOpen``), kept exact by
the titles services in the transaction of every change to a file.

A file's **contribution** depends on the file alone: its submission, title and registration
dates (one count in the month of each), the days from submission to registration (in the month
of registration), and one open file at its status while it is open (``OPEN_STATUSES``). A
service reads a file's contribution before the change (the file is locked) and after it, and
appends the difference as delta rows (``farmers.reporting.summaries.apply``): one ``INSERT`` a
table, no query. ``rebuild_dashboard_summaries`` recomputes both tables from the files
(:func:`recompute_months`, :func:`recompute_open`), which also covers the files the seeders
write with ``COPY`` (``seed_titles``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db.models import Count, Q

from farmers.reporting.summaries import Delta, apply, difference, register_table

from .choices import OPEN_STATUSES
from .models import DashboardTitleMonth, DashboardTitleOpen, TitleApplication

MONTHS, OPEN = "title_months", "title_open"
FIELDS = ("district_id", "program_id", "status", "submitted_on", "title_issued_on", "registered_on")
OPEN_SET = frozenset(str(s) for s in OPEN_STATUSES)


def _month(day: date) -> date:
    return day.replace(day=1)


def _add(delta: Delta, row: tuple[Any, ...]) -> None:
    district, program, status, submitted, issued, registered = row
    months, opened = delta[MONTHS], delta[OPEN]
    if submitted is not None:
        months.setdefault((district, program, _month(submitted)), [0] * 5)[0] += 1
    if issued is not None:
        months.setdefault((district, program, _month(issued)), [0] * 5)[1] += 1
    if registered is not None:
        cell = months.setdefault((district, program, _month(registered)), [0] * 5)
        cell[2] += 1
        if submitted is not None:
            cell[3] += (registered - submitted).days
            cell[4] += 1
    if status in OPEN_SET:
        opened.setdefault((district, program, str(status)), [0])[0] += 1


def _empty() -> Delta:
    return {MONTHS: {}, OPEN: {}}


def cells_of(application: TitleApplication, *, status: str | None = None) -> Delta:
    """What one file adds to the tables (``status`` in place of its own, for the state before a
    move: the flow sets the new status before its hooks run)."""
    delta = _empty()
    row = tuple(getattr(application, name) for name in FIELDS)
    if status is not None:
        row = (row[0], row[1], status, *row[3:])
    _add(delta, row)
    return delta


def changed(application: TitleApplication, before: Delta) -> None:
    """Append what the file's change did to the tables (``before``: its :func:`cells_of`
    before the change)."""
    apply(difference(cells_of(application), before))


def contributions(ids: Iterable[Any]) -> Delta:
    """The cells of the files ``ids`` (one query)."""
    delta = _empty()
    for row in TitleApplication.objects.filter(pk__in=list(ids)).order_by().values_list(*FIELDS):
        _add(delta, row)
    return delta


@contextmanager
def tracking(ids: Iterable[Any]) -> Iterator[None]:
    """Keep the tables exact across a change to the files ``ids`` made inside the block (within
    the caller's transaction, the files locked): a merge moving them to another household's
    district and programme."""
    wanted = list(ids)
    before = contributions(wanted) if wanted else _empty()
    yield
    if wanted:
        apply(difference(contributions(wanted), before))


def recompute_months() -> dict[tuple[Any, ...], list[int]]:
    """Every month cell, from the files with a date (``rebuild_dashboard_summaries``: one pass
    over them, in chunks)."""
    delta = _empty()
    dated = (
        Q(submitted_on__isnull=False)
        | Q(title_issued_on__isnull=False)
        | Q(registered_on__isnull=False)
    )
    files = TitleApplication.objects.filter(dated).order_by().values_list(*FIELDS)
    for row in files.iterator(chunk_size=5000):
        _add(delta, (*row[:2], "", *row[3:]))
    return delta[MONTHS]


def recompute_open() -> dict[tuple[Any, ...], list[int]]:
    """Every open-file cell, from the files (``rebuild_dashboard_summaries``: one grouped
    query)."""
    rows = (
        TitleApplication.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("district_id", "program_id", "status")
        .annotate(n=Count("pk"))
    )
    return {(district, program, status): [n] for district, program, status, n in rows}


def register() -> None:
    """Register both tables with the dashboard's summaries (``TitlesConfig.ready()``)."""
    register_table(
        MONTHS,
        DashboardTitleMonth,
        ("district_id", "program_id", "month"),
        ("submitted", "issued", "registered", "days_sum", "days_count"),
        recompute_months,
    )
    register_table(
        OPEN,
        DashboardTitleOpen,
        ("district_id", "program_id", "status"),
        ("files",),
        recompute_open,
    )
