"""Technical assistance and training as an indicator (``metric=training``): events held and the
people and families who attended, by district, programme, month and the attendee's sex (from
the member's record, never retyped).

Population: attendances of reviewed households (``scoped_households``: status active, the
reader's area and the request's filters) at active events; with a period, events held in it;
with ``funder``, also only events that funder paid for. A household counts in its current
district and programme (like every indicator). One aggregate query; the same small-cell rules
(a cell of fewer than 5 households is suppressed, with its complements)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncMonth

from registry.actors import Actor

from ..models import TrainingAttendance
from .suppression import protect

METRIC = "training"
DIMENSIONS = ("district", "program", "month", "sex")
COLUMNS = {
    "district": "household__district_id",
    "program": "household__program__code",
    "month": "month",
    "sex": "member__sex",
}
VALUES = ("events", "attendees", "households")


def training_counts(*, actor: Actor, query: Any) -> list[dict[str, Any]]:
    """Per cell of ``query.group_by``: ``events`` attended, ``attendees`` (distinct members) and
    ``households`` (distinct families), unsuppressed (one query)."""
    from .indicators import scoped_households

    dims = [d for d in query.group_by if d in DIMENSIONS]
    rows = TrainingAttendance.objects.filter(
        household__in=scoped_households(actor=actor, query=query).values("pk"),
        event__is_active=True,
    )
    if query.date_from:
        rows = rows.filter(event__held_on__gte=query.date_from)
    if query.date_to:
        rows = rows.filter(event__held_on__lte=query.date_to)
    if query.funder:
        rows = rows.filter(event__funding_source__code=query.funder)
    rows = rows.order_by()
    if "month" in dims:
        rows = rows.annotate(month=TruncMonth("event__held_on"))
    grouped = rows.values(*[COLUMNS[d] for d in dims]).annotate(
        events=Count("event_id", distinct=True),
        attendees=Count("member_id", distinct=True),
        households=Count("household_id", distinct=True),
    )
    cells = []
    for row in grouped:
        cell: dict[str, Any] = {d: row[COLUMNS[d]] for d in dims}
        if "month" in cell:
            cell["month"] = f"{cell['month']:%Y-%m}"
        cell.update({v: row[v] for v in VALUES})
        cells.append(cell)
    return sorted(cells, key=lambda c: tuple(str(c[d]) for d in dims))


def training_indicator(*, actor: Actor, query: Any) -> list[dict[str, Any]]:
    """The ``training`` indicator, suppressed when ``query.suppress``: a cell of fewer than 5
    households, and one more cell of any line (along every dimension, sex included) holding a
    single suppressed cell."""
    cells = training_counts(actor=actor, query=query)
    dims = [d for d in query.group_by if d in DIMENSIONS]
    return protect(
        cells,
        values=VALUES,
        count=lambda c: c["households"],
        keys=dims,
        dims=dims,
        enabled=query.suppress,
    )
