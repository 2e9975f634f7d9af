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

from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

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

__all__ = ["calendar_year", "decode_rows", "encode_rows", "refresh_annual_snapshots", "stored_rows"]


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
    if actor.unrestricted:
        return dict.fromkeys(program_ids)
    if not actor.has_scope(Scope.INDICATORS_READ):
        return {}
    areas = [a for a in actor.areas if a.allows(Scope.INDICATORS_READ)]
    out: dict[int, frozenset[str] | None] = {}
    for program_id in program_ids:
        districts: set[str] = set()
        for area in areas:
            if area.programs is not None and program_id not in area.programs:
                continue
            if area.districts is None:
                out[program_id] = None
                break
            districts |= area.districts
        else:
            if districts:
                out[program_id] = frozenset(districts)
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


def stored_rows(
    actor: Actor, query: IndicatorQuery, chosen: list[Section]
) -> tuple[dict[str, list[Row]], dict[str, Place], datetime] | None:
    """The rows of ``chosen`` sections for ``query`` read from the stored rows, with the places
    of their districts and the oldest ``computed_at`` read; ``None`` when the report must be
    computed live (see the module's docstring). Two queries."""
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
    found = list(
        AnnualReportRows.objects.filter(
            year=year, program_id__in=list(readable), section__in=names
        ).values_list("program_id", "section", "rows", "computed_at")
    )
    if len(found) != len(readable) * len(names):
        return None
    districts = {row["district"] for *_k, rows, _t in found for row in rows}
    places = places_of(districts)
    out: dict[str, list[Row]] = {name: [] for name in names}
    for program_id, name, rows, _computed in found:
        allowed = readable[program_id]
        out[name].extend(
            row
            for row in decode_rows(rows)
            if (allowed is None or row["district"] in allowed)
            and _kept(query, places.get(row["district"]), row["district"])
        )
    for section in chosen:
        if section.combine is not None and len(readable) > 1:
            out[section.name] = section.combine(out[section.name])
    return out, places, min(computed for *_k, computed in found)
