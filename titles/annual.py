"""The annual report's "Titles" section (issue 17): titles issued and registered in the period
and the days from submission to title, registered with ``farmers.reporting.annual`` from
``TitlesConfig.ready()`` (farmers never imports titles). Two queries whatever the number of
households; scoping, roll-up and small-cell rules are the report's own."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Func, IntegerField, Q, Sum
from django.db.models.expressions import Expression
from django.utils.translation import gettext_lazy as _

from farmers.reporting.annual import Figure, Section, grouped, period_of, scope_q
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor

from .models import TitleApplication

ISSUED, REGISTERED = "issued", "registered"


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (two dates), on SQLite and PostgreSQL alike."""

    output_field = IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        if connection.vendor == "sqlite":
            sql = f"CAST(julianday({end[0]}) - julianday({start[0]}) AS INTEGER)"
        else:
            sql = f"({end[0]} - {start[0]})"
        return sql, (*end[1], *start[1])


def title_rows(actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
    """Titles issued in the period (with the days from submission to title of those submitted)
    and titles registered in SUNARP in the period, by the report's profile: two queries."""
    start, end = period_of(query)
    files = TitleApplication.objects.filter(scope_q(actor, query, "household__"))
    days: Expression = DaysBetween(F("title_issued_on"), F("submitted_on"))
    rows = []
    for key, date_field in ((ISSUED, "title_issued_on"), (REGISTERED, "registered_on")):
        chosen = files.filter(**{f"{date_field}__gte": start, f"{date_field}__lte": end})
        aggregates: dict[str, Any] = {
            "titles": Count("pk"),
            "households": Count("household_id", distinct=True),
        }
        if key == ISSUED:
            timed = Q(submitted_on__isnull=False)
            aggregates["days_total"] = Sum(days, filter=timed)
            aggregates["timed"] = Count("pk", filter=timed)
        for row in grouped(chosen, on=end, prefix="household__", **aggregates):
            row["key"] = key
            rows.append(row)
    return rows


SECTION = Section(
    name="titles",
    title=_("Land titles"),
    figures=(
        Figure("titles", _("Titles")),
        Figure("households", _("Families")),
        Figure(
            "days_to_title",
            _("Average days from submission to title"),
            "days",
            of=("days_total", "timed"),
        ),
    ),
    rows=title_rows,
    key_label=lambda key: str(
        {ISSUED: _("Issued"), REGISTERED: _("Registered in SUNARP")}.get(key, key)
    ),
    key_title=_("Figure"),
    order=50,
)
