"""The tenure track (DESIGN.md §6): households holding secure tenure, counted on their own.

Tenure — a registered title, or other secure tenure the programme accepts — is not a rung of the
stage ladder: it is the ``tenure`` milestone the transition engine stores in each household's
``milestones`` (see :mod:`farmers.transition.rules`). This module counts it, set-based in one
query, for the ``indicators/`` metric ``tenure`` and for the "Tenure" block of the admin
dashboard, with the same area scoping and small-cell suppression as every other indicator.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import Count, Q
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from registry.actors import Actor

from ..transition.rules import TENURE
from . import charts
from .indicators import protect_counts, scoped_households

METRIC = "tenure"
DIMENSIONS = ("district", "program", "stage")
COLUMNS = {"district": "district_id", "program": "program__code", "stage": "stage"}


def tenure_counts(*, actor: Actor, query: Any) -> list[dict[str, Any]]:
    """Per cell of ``query.group_by`` (district, programme, stage now): ``households`` holding
    tenure and ``live`` (reviewed, active) households in all (unsuppressed; one query)."""
    dims = [d for d in query.group_by if d in DIMENSIONS]
    rows = (
        scoped_households(actor=actor, query=query)
        .order_by()
        .values(*[COLUMNS[d] for d in dims])
        .annotate(live=Count("pk"), held=Count("pk", filter=Q(milestones__has_key=TENURE)))
    )
    cells = [
        {**{d: row[COLUMNS[d]] for d in dims}, "households": row["held"], "live": row["live"]}
        for row in rows
    ]
    return sorted(cells, key=lambda c: tuple(str(c[d]) for d in dims))


def households_with_tenure(*, actor: Actor, query: Any) -> list[dict[str, Any]]:
    """The ``tenure`` indicator: households holding tenure per cell (by programme by default).

    Only the count of households with tenure is published (not the cell's total, whose
    difference would give the households without tenure); a count under 5 is suppressed."""
    cells = [
        {k: v for k, v in cell.items() if k != "live"}
        for cell in tenure_counts(actor=actor, query=query)
        if cell["households"]
    ]
    dims = [d for d in query.group_by if d in DIMENSIONS]
    return protect_counts(cells, keys=dims, dims=dims, enabled=query.suppress)


def dashboard_chart(*, actor: Actor, query: Any) -> SafeString:
    """The dashboard's "Tenure" block: households with tenure of the live ones, per programme."""
    cells = tenure_counts(actor=actor, query=replace(query, group_by=("program",)))
    bars = [
        charts.Bar(
            cell["program"],
            cell["households"],
            _("%(n)s of %(total)s (%(share)s)")
            % {
                "n": charts.number(cell["households"]),
                "total": charts.number(cell["live"]),
                "share": f"{cell['households'] / cell['live']:.0%}",
            },
            charts.BLUE,
        )
        for cell in cells
    ]
    return charts.hbars(
        _("Households with secure tenure, by programme"),
        bars,
        empty_message=_("No household holds a registered title or other accepted tenure yet."),
    )
