"""The annual results report's stored rows (issue 17: the report of a programme-year in ≤ 2 s,
flat from 100k to 1M households).

Each section of the report computes its *rows* (aggregates by district, the head's profile and
the section's key; ``farmers.reporting.annual``) with a fixed number of set-based queries, but
those queries still read every record of the period: seconds at 1M households. For a calendar
year, the rows of every programme are stored (``AnnualReportRows``: one JSON list per year,
programme and section, a few thousand rows at most) by :func:`refresh_annual_snapshots`:

- nightly after the sweep (beat ``annual-report-rows``, Lima time), for the current and the
  previous year, so that the families' stages are those the sweep has just computed;
- on demand: the admin's report page (*Recalcular ahora*) and ``refresh_annual_reports``.

:func:`stored_rows` serves a report from them when it asks for one whole calendar year without a
funding-source filter (the funder filter narrows support and training by the item's own source,
which the rows do not keep) and every programme the actor may read has rows for every section
asked: the rows are kept where the actor's area and the query's filters (district, province,
department, VRAEM) allow, by district and programme, exactly as ``scope_q`` does on the records;
then the usual roll-up, suppression and output run on them. The report carries the oldest
``computed_at`` of the rows it read (``Report.figures_as_of``), shown on every output, so nobody
mistakes stored figures for live ones. Any other period, or a year not stored, is computed live.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from registry import degraded
from registry.actors import Actor
from registry.choices import Scope
from registry.models import Program

from ..models import AnnualReportRows
from .annual import (
    Place,
    Row,
    Section,
    in_memory,
    places_of,
    sections,
)
from .indicators import IndicatorQuery

__all__ = [
    "calendar_year",
    "decode_rows",
    "encode_rows",
    "refresh_annual_snapshots",
    "stored_source",
]


def encode_rows(rows: Iterable[Row]) -> list[Row]:
    """``rows`` as stored: sets (of event or organisation ids) as sorted lists; decimals, ids and
    dates become text through the field's ``DjangoJSONEncoder``."""
    return [
        {k: sorted(v, key=str) if isinstance(v, set) else v for k, v in row.items()} for row in rows
    ]


def decode_rows(rows: Iterable[Row]) -> list[Row]:
    """Stored rows as the roll-up takes them: lists back to sets (decimals stay text, which the
    roll-up sums as ``Decimal``)."""
    return [{k: set(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]


def default_years(today: date) -> list[int]:
    """The years refreshed when none is named: the previous and the current one."""
    return [today.year - 1, today.year]


def refresh_annual_snapshots(
    *,
    years: Iterable[int] | None = None,
    programs: Iterable[str] | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Compute and store every section's rows of ``years`` (default: the previous and current
    year) for ``programs`` (codes; default: all), one programme-year per transaction, replacing
    what was stored. Returns the number of programme-years stored."""
    today = today or timezone.localdate()
    chosen_years = sorted(set(years)) if years is not None else default_years(today)
    queryset = Program.objects.order_by("code")
    if programs is not None:
        queryset = queryset.filter(code__in=list(programs))
    actor = Actor(unrestricted=True)
    stored = 0
    for year in chosen_years:
        for program in queryset:
            query = IndicatorQuery(
                program=program.code,
                date_from=date(year, 1, 1),
                date_to=date(year, 12, 31),
                today=today,
            )
            with in_memory():
                computed = {s.name: s.rows(actor, query) for s in sections()}
                now = timezone.now()
                with transaction.atomic():
                    for name, rows in computed.items():
                        AnnualReportRows.objects.update_or_create(
                            year=year,
                            program=program,
                            section=name,
                            defaults={"rows": encode_rows(rows), "computed_at": now},
                        )
                    AnnualReportRows.objects.filter(year=year, program=program).exclude(
                        section__in=list(computed)
                    ).delete()
            stored += 1
            if progress is not None:
                size = sum(len(r) for r in computed.values())
                progress(f"{year} {program.code}: {size:,} rows")
    warm(chosen_years, [p.code for p in queryset], today)
    return stored


def calendar_year(query: IndicatorQuery) -> int | None:
    """The year of ``query``'s period when it is one whole calendar year, else ``None``."""
    start, end = query.date_from, query.date_to
    if start is None or end is None or start.year != end.year:
        return None
    if (start.month, start.day, end.month, end.day) != (1, 1, 12, 31):
        return None
    return start.year


def _readable(actor: Actor, program_ids: Iterable[int]) -> dict[int, frozenset[str] | None]:
    """The programmes of ``program_ids`` the actor may read indicators of, each with the
    districts it may read there (``None``: any)."""
    out: dict[int, frozenset[str] | None] = {}
    for program_id in program_ids:
        districts = actor.districts_in(program=program_id, scope=Scope.INDICATORS_READ)
        if districts is not False:
            out[program_id] = districts
    return out


def _kept(query: IndicatorQuery, place: Place | None, district: str) -> bool:
    if place is None:
        return False
    return (
        (not query.district or district == query.district)
        and (not query.department or place.department == query.department)
        and (not query.province or place.province == query.province)
        and (query.vraem is None or place.vraem == query.vraem)
    )


@dataclass
class StoredSource:
    """Where a report's rows come from when they are stored: the programme-years read (each with
    the districts the actor may read there), when they were computed and the cache key of the
    report they make (the same rows, area, filters and sections give the same cells)."""

    year: int
    readable: dict[int, frozenset[str] | None]
    names: list[str]
    as_of: datetime
    key: str

    def rows(
        self, query: IndicatorQuery, chosen: list[Section]
    ) -> tuple[dict[str, list[Row]], dict[str, Place]]:
        """The rows of ``chosen`` kept by the area and ``query``'s filters, and the places of
        their districts: two queries."""
        found = list(
            AnnualReportRows.objects.filter(
                year=self.year, program_id__in=list(self.readable), section__in=self.names
            ).values_list("program_id", "section", "rows")
        )
        places = places_of({row["district"] for *_k, rows in found for row in rows})
        out: dict[str, list[Row]] = {name: [] for name in self.names}
        for program_id, name, rows in found:
            allowed = self.readable[program_id]
            out[name].extend(
                row
                for row in decode_rows(rows)
                if (allowed is None or row["district"] in allowed)
                and _kept(query, places.get(row["district"]), row["district"])
            )
        for section in chosen:
            if section.combine is not None and len(self.readable) > 1:
                out[section.name] = section.combine(out[section.name])
        return out, places


def stored_source(
    actor: Actor, query: IndicatorQuery, chosen: list[Section]
) -> StoredSource | None:
    """The stored rows a report of ``chosen`` sections for ``query`` can be read from, or
    ``None`` when it must be computed live (see the module's docstring). Two small queries (the
    programmes, and when each programme-year's rows were computed), no rows read yet."""
    year = calendar_year(query)
    if year is None or query.funder or not chosen:
        return None
    programs = Program.objects.all()
    if query.program:
        programs = programs.filter(code=query.program)
    readable = _readable(actor, programs.values_list("pk", flat=True))
    if not readable:
        return None
    names = [s.name for s in chosen]
    found = sorted(
        AnnualReportRows.objects.filter(
            year=year, program_id__in=list(readable), section__in=names
        ).values_list("program_id", "section", "computed_at")
    )
    if len(found) != len(readable) * len(names):
        return None
    identity = (
        CACHE_VERSION,
        year,
        [(p, sorted(d) if d is not None else None) for p, d in sorted(readable.items())],
        [(p, n, t.isoformat()) for p, n, t in found],
        (query.program, query.district, query.department, query.province, query.vraem),
        query.suppress,
    )
    key = "annual-report:" + hashlib.sha256(repr(identity).encode()).hexdigest()
    return StoredSource(
        year=year, readable=readable, names=names, as_of=min(t for *_k, t in found), key=key
    )


def data_key(key: str, generated_on: date | None) -> str:
    """The cache key of the JSON of the report cached under ``key``, in the active language and
    for the day it was drawn."""
    return f"{key}:data:{translation.get_language()}:{generated_on}"


# Bump when the cells or the JSON computed from the same rows change shape.
CACHE_VERSION = 1
# Seconds a report computed from stored rows is kept; a refresh changes the key before that.
CACHE_SECONDS = 24 * 3600


def cached(key: str) -> Any:
    """The cached value of ``key`` (``None`` when absent or the cache is down)."""
    try:
        return cache.get(key)
    except degraded.BACKEND_ERRORS as exc:
        degraded.mark_down("cache")
        degraded.warn("cache", "annual reports computed from their stored rows", exc)
        return None


def keep(key: str, value: Any) -> None:
    """Cache ``value`` under ``key`` (nothing when the cache is down)."""
    try:
        cache.set(key, value, CACHE_SECONDS)
    except degraded.BACKEND_ERRORS as exc:
        degraded.mark_down("cache")
        degraded.warn("cache", "annual reports computed from their stored rows", exc)


def warm(years: Iterable[int], programs: Iterable[str], today: date) -> None:
    """Compute and cache the reports most read after a refresh: each programme-year and each
    year of all programmes, for the whole area (suppressed, as the API serves them), with their
    JSON in Spanish and English."""
    from .annual import annual_report
    from .annual_output import report_data

    actor = Actor(unrestricted=True)
    for year in years:
        for code in [None, *programs]:
            query = IndicatorQuery(
                program=code, date_from=date(year, 1, 1), date_to=date(year, 12, 31), today=today
            )
            report = annual_report(actor=actor, query=query)
            for language in ("es", "en"):
                with translation.override(language):
                    report_data(report)
