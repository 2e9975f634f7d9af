"""The annual results report (issue 17): what a programme achieved in a year (or any period), for
funders and the programme's director, broken down by district, province, department and VRAEM
zone and disaggregated by the household head's sex, age band and community.

How it is computed (``docs/indicators.md`` defines every figure):

1. **Rows**: each section's figures are aggregated in SQL (``GROUP BY`` district, the head's sex,
   age band and community and the section's key: stage, crop, kind, funder…), a fixed number of
   queries whatever the number of households, never a loop over households. The head's profile
   is read from the household (``head_sex``, ``head_birth_date``: copies of the active head
   member's kept by ``farmers.services.head``), never a join on members (:func:`profiled`).
   Sections of the apps above ``farmers`` (titles, producer organisations, sales) are computed
   by those apps and registered with :func:`register_section` from their ``AppConfig.ready()``:
   farmers imports neither.
2. **Roll-up**: the rows (aggregates, a few per district) are summed in Python into every
   geography level (the whole area, departments, provinces, districts, VRAEM or not) and
   disaggregation (all, sex, age band, community). A household belongs to one district and one
   group, so sums of household counts are exact; distinct counts that a household does not
   partition (events, organisations) are carried as sets of ids and united.
3. **Small cells** (:func:`farmers.reporting.suppression.protect`, the indicators' rule): a cell
   counting fewer than 5 households is suppressed, and complementary suppression runs along
   every line whose sum is published: districts of a province, provinces of a department,
   departments of the whole, VRAEM and the rest, the groups of each disaggregation, and the
   section's keys that add up to its total (new + continuing = served, the stages, the crops…).
4. **Cost per result** divides published figures only (spend ÷ families served, hectares
   installed, coca hectares reduced, titles issued, attendees), so it reveals nothing more.

Only aggregates and labels leave this module: no household, member, name, document or phone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from registry.actors import Actor
from registry.choices import Crop, Scope
from registry.models import Department, District, Organization, Province

from ..choices import EradicationKind, EradicationStatus, Sex, Stage, VerificationStatus
from ..models import (
    CropInstallation,
    Eradication,
    Household,
    Support,
    TrainingAttendance,
    TrainingEvent,
    Verification,
)
from ..transition.rules import TENURE
from .indicators import COUNTED_STATUSES, IndicatorQuery
from .suppression import protect

__all__ = [
    "AGE_BANDS",
    "LEVELS",
    "SPLITS",
    "Figure",
    "Labels",
    "Report",
    "Section",
    "annual_report",
    "profiled",
    "register_section",
    "scope_q",
]

Row = dict[str, Any]
Cell = dict[str, Any]

LEVELS: tuple[tuple[str, Promise], ...] = (
    ("total", _("All areas")),
    ("department", _("Department")),
    ("province", _("Province")),
    ("district", _("District")),
    ("vraem", _("VRAEM zone")),
)
SPLITS: tuple[tuple[str, Promise], ...] = (
    ("all", _("All households")),
    ("sex", _("Head's sex")),
    ("age_band", _("Head's age band")),
    ("community", _("Community")),
)
# (code, label, lowest age, first age above the band); the age is the head's on the last day.
AGE_BANDS: tuple[tuple[str, Promise, int, int | None], ...] = (
    ("under_30", _("Under 30"), 0, 30),
    ("30_44", _("30 to 44"), 30, 45),
    ("45_59", _("45 to 59"), 45, 60),
    ("60_plus", _("60 or more"), 60, None),
)
UNKNOWN = "unknown"
TOTAL = "total"
NO_FUNDER = "none"
PROFILE = ("district", "sex", "band", "community")
CENT = Decimal("0.01")
TOTAL_LABEL = _("Total")


# --- what the report is made of ---


@dataclass(frozen=True)
class Figure:
    """A published value of a section: its field name, label and kind (``count``, ``ha``,
    ``pen``, ``kg``, ``days``); a ``set`` is carried as ids and published as their count; a
    ``mean`` is ``of[0] / of[1]`` (both carried, only the mean published)."""

    name: str
    label: Promise
    kind: str = "count"
    of: tuple[str, str] | None = None


RowsFunction = Callable[[Actor, IndicatorQuery], list[Row]]


@dataclass(frozen=True)
class Section:
    """One section of the report (a sheet of the workbook, a table of the page)."""

    name: str
    title: Promise
    figures: tuple[Figure, ...]
    rows: RowsFunction
    key_label: Callable[[str], str]
    key_title: Promise = TOTAL_LABEL
    # Lines along the keys: (total key, the keys that add up to it; ``None``: every other key).
    lines: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    # Disaggregated by the head's sex, age band and community.
    split: bool = True
    order: int = 50
    # Values carried for the roll-up but not published (e.g. a mean's numerator).
    carried: tuple[str, ...] = ()
    # The workbook's sheet title, when the title is too long for one (31 characters).
    sheet: Promise | None = None
    # Merges rows of several programmes read from the stored rows
    # (``farmers.reporting.annual_snapshots``) where a value is not a plain sum across them.
    combine: Callable[[list[Row]], list[Row]] | None = None


_sections: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """Add a section to the report (the apps above ``farmers`` register theirs from
    ``AppConfig.ready()``; registering the same name again replaces it)."""
    _sections[section.name] = section


def sections() -> list[Section]:
    """The report's sections in their order."""
    return sorted(_sections.values(), key=lambda s: (s.order, s.name))


@dataclass
class Report:
    """A computed report: its query, period and protected cells per section."""

    query: IndicatorQuery
    period_from: date
    period_to: date
    cells: dict[str, list[Cell]] = field(default_factory=dict)
    generated_on: date | None = None
    # When the figures were computed, if read from the stored rows (``None``: computed now).
    figures_as_of: datetime | None = None
    # The cache key of a report computed from stored rows (its cells and JSON are cached).
    cache_key: str | None = None


# --- scoping and the head's profile ---


def period_of(query: IndicatorQuery) -> tuple[date, date]:
    """The report's period: ``date_from``–``date_to``; ``date_to`` defaults to 31 December of the
    current year (of ``date_from``'s, if later), ``date_from`` to 1 January of ``date_to``'s."""
    today = query.today or timezone.localdate()
    end = query.date_to or date(max(today.year, (query.date_from or today).year), 12, 31)
    start = query.date_from or date(end.year, 1, 1)
    return start, end


def scope_q(actor: Actor, query: IndicatorQuery, prefix: str = "") -> Q:
    """The reviewed households of the actor's area (where it may read indicators) that the
    query's filters keep, as a condition on ``<prefix>`` (``""`` for households,
    ``"household__"`` for a record of a household)."""
    p = prefix
    condition = actor.area_q(
        district_path=f"{p}district_id", program_path=f"{p}program_id", scope=Scope.INDICATORS_READ
    ) & Q(**{f"{p}status__in": COUNTED_STATUSES})
    filters = {
        "program__code": query.program,
        "district_id": query.district,
        "district__department_id": query.department,
        "district__province_id": query.province,
        "program__funder__code": query.funder,
    }
    for path, value in filters.items():
        if value:
            condition &= Q(**{f"{p}{path}": value})
    if query.vraem is not None:
        condition &= Q(**{f"{p}district__is_vraem": query.vraem})
    return condition


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def profiled(queryset: QuerySet[Any], *, on: date, prefix: str = "") -> QuerySet[Any]:
    """``queryset`` with the head-of-household age band ``head_band`` (the head's age on
    ``on``), from the head's birth date kept on the household (``Household.head_birth_date``,
    ``farmers.services.head``): no join on members."""
    birth = f"{prefix}head_birth_date"
    bands: list[When] = [When(**{f"{birth}__isnull": True}, then=Value(UNKNOWN))]
    for code, _label, _low, high in AGE_BANDS:
        if high is not None:
            bands.append(When(**{f"{birth}__gt": _years_before(on, high)}, then=Value(code)))
    return queryset.annotate(
        head_band=Case(*bands, default=Value(AGE_BANDS[-1][0]), output_field=CharField()),
    )


def profile_columns(prefix: str = "") -> dict[str, str]:
    """The row field → queryset column of the profile (after :func:`profiled`)."""
    return {
        "district": f"{prefix}district_id",
        "sex": f"{prefix}head_sex",
        "band": "head_band",
        "community": f"{prefix}community",
    }


SPLIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "all": (),
    "sex": ("sex",),
    "age_band": ("band",),
    "community": ("community",),
}


def grouped(
    queryset: QuerySet[Any],
    *,
    on: date,
    prefix: str = "",
    extra: dict[str, str] | None = None,
    split: bool = True,
    total: str | None = None,
    **aggregates: Any,
) -> list[Row]:
    """``queryset``'s ``aggregates`` (``Count`` / ``Sum``, with ``filter`` and ``distinct``)
    grouped by district, ``extra`` (row field → column) and, with ``split``, each of the
    head's sex, age band and community in turn; with ``total`` (one of ``extra``), also without
    that column (those rows carry ``TOTAL`` in it). Each row says its ``split``.

    One query on PostgreSQL (``GROUPING SETS``), one per grouping on SQLite; either way a
    set-based aggregate whose size is bounded by districts × groups × keys."""
    columns = {"district": f"{prefix}district_id"}
    if split:
        queryset = profiled(queryset, on=on, prefix=prefix)
        columns |= profile_columns(prefix)
    columns |= extra or {}
    inputs: dict[str, Any] = {}
    outer: dict[str, str] = {}
    for name, aggregate in aggregates.items():
        source = aggregate.get_source_expressions()[0]
        if aggregate.filter is not None:
            source = Case(When(aggregate.filter, then=source), default=Value(None))
        inputs[f"a_{name}"] = source
        function = "COUNT" if isinstance(aggregate, Count) else "SUM"
        distinct = "DISTINCT " if getattr(aggregate, "distinct", False) else ""
        outer[name] = f'{function}({distinct}t."a_{name}")'
    inner = (
        queryset.order_by()
        .annotate(**{f"c_{n}": F(c) for n, c in columns.items()}, **inputs)
        .values(*[f"c_{n}" for n in columns], *inputs)
    )
    try:
        inner_sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (e.g. an empty area): no rows
        return []
    fixed = [n for n in columns if n not in ("sex", "band", "community") and n != total]
    sets: list[tuple[str, bool, list[str]]] = []
    for split_name, dims in SPLIT_COLUMNS.items() if split else [("all", ())]:
        for is_total in (False, True) if total else (False,):
            sets.append(
                (
                    split_name,
                    is_total,
                    [*fixed[:1], *dims, *fixed[1:]] + ([] if is_total or not total else [total]),
                )
            )
    select = ", ".join(
        [*[f't."c_{n}"' for n in columns], *[f'{sql} AS "{n}"' for n, sql in outer.items()]]
    )
    rows: list[Row] = []
    with connections[queryset.db].cursor() as cursor:
        if connections[queryset.db].vendor == "postgresql":
            variable = [n for n in columns if n not in fixed]
            grouping = ", ".join(f't."c_{n}"' for n in variable) or "0"
            by_mask = {}
            for split_name, is_total, names in sets:
                mask = sum(
                    1 << (len(variable) - 1 - i) for i, n in enumerate(variable) if n not in names
                )
                by_mask[mask] = (split_name, is_total)
            grouping_sets = ", ".join(
                "(" + ", ".join(f't."c_{n}"' for n in names) + ")" for _s, _t, names in sets
            )
            cursor.execute(
                f"SELECT {select}, GROUPING({grouping}) FROM ({inner_sql}) t "  # noqa: S608
                f"GROUP BY GROUPING SETS ({grouping_sets})",
                params,
            )
            for record in cursor.fetchall():
                rows.append(_row(columns, outer, record, *by_mask[record[-1]], total))
        else:
            for split_name, is_total, names in sets:
                listed = ", ".join(
                    f't."c_{n}"' if n in names else f'NULL AS "c_{n}"' for n in columns
                )
                aggregated = "".join(f', {sql} AS "{n}"' for n, sql in outer.items())
                group_by = ", ".join(f't."c_{n}"' for n in names)
                cursor.execute(
                    f"SELECT {listed}{aggregated} FROM ({inner_sql}) t "  # noqa: S608
                    f"GROUP BY {group_by}",
                    params,
                )
                for record in cursor.fetchall():
                    rows.append(_row(columns, outer, record, split_name, is_total, total))
    return rows


def _row(
    columns: dict[str, str],
    outer: dict[str, str],
    record: tuple[Any, ...],
    split_name: str,
    is_total: bool,
    total: str | None,
) -> Row:
    names = [*columns, *outer]
    row = dict(zip(names, record[: len(names)], strict=True))
    row["split"] = split_name
    if is_total and total:
        row[total] = TOTAL
    return row


def profile_key(row: Row) -> tuple[Any, ...]:
    """A row's grouping: its split and profile columns (those it is not grouped by are
    ``None``)."""
    return (row["split"], *(row.get(k) for k in PROFILE))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _enrolled_by(day: date) -> Q:
    """Households enrolled on or before ``day`` (the registration's date where no enrolment
    date is recorded)."""
    return Q(enrolled_on__lte=day) | Q(
        enrolled_on__isnull=True, created_at__lt=_day_start(day + timedelta(days=1))
    )


# --- the farmers' sections ---


def families_rows(actor: Actor, query: IndicatorQuery) -> list[Row]:
    """Families served (enrolled by the period's end), new (enrolled in it) and continuing, by
    stage and tenure track now: one query."""
    start, end = period_of(query)
    households = Household.objects.filter(scope_q(actor, query) & _enrolled_by(end))
    stages: dict[str, Any] = {f"stage_{s}": Count("pk", filter=Q(stage=s)) for s in Stage.values}
    rows = grouped(
        households,
        on=end,
        served=Count("pk"),
        new=Count("pk", filter=~_enrolled_by(start - timedelta(days=1))),
        tenure=Count("pk", filter=Q(milestones__has_key=TENURE)),
        **stages,
    )
    out: list[Row] = []
    for row in rows:
        profile = {k: row[k] for k in (*PROFILE, "split")}
        counts = {
            "served": row["served"],
            "new": row["new"],
            "continuing": row["served"] - row["new"],
            "tenure_held": row["tenure"],
            "tenure_none": row["served"] - row["tenure"],
        }
        counts.update({f"stage:{s}": row[f"stage_{s}"] for s in Stage.values})
        out.extend({**profile, "key": k, "households": n} for k, n in counts.items() if n)
    return out


FAMILY_KEYS: dict[str, Promise] = {
    "served": _("Families served"),
    "new": _("New"),
    "continuing": _("Continuing"),
    "tenure_held": _("With secure tenure"),
    "tenure_none": _("Without secure tenure yet"),
}


def _family_key(key: str) -> str:
    if key.startswith("stage:"):
        return str(_("Stage: %(stage)s") % {"stage": Stage(key[6:]).label})
    return str(FAMILY_KEYS.get(key, key))


def _crop_label(key: str) -> str:
    if key == TOTAL:
        return str(_("All crops"))
    return str(Crop(key).label) if key in Crop.values else key


def hectares_rows(actor: Actor, query: IndicatorQuery) -> list[Row]:
    """Licit hectares by crop: installed in the period and in maintenance (planted before it
    and not lost before it began), from crop installations; and, for families with no crop
    installation, the licit hectares seen at their latest confirmed visit of the period: three
    queries."""
    start, end = period_of(query)
    installs = CropInstallation.objects.filter(
        scope_q(actor, query, "household__"),
        planted_on__lte=end,
    ).filter(Q(planted_on__gte=start) | Q(lost_on__isnull=True) | Q(lost_on__gte=start))
    sums: dict[str, Any] = {
        "installed_ha": Sum("area_ha", filter=Q(planted_on__gte=start)),
        "maintained_ha": Sum("area_ha", filter=Q(planted_on__lt=start)),
        "households": Count("household_id", distinct=True),
    }
    rows = grouped(
        installs, on=end, prefix="household__", extra={"key": "crop"}, total="key", **sums
    )
    # Families without any installation: the latest confirmed visit of the period (the first of
    # each household's confirmed visits, latest first: one sorted pass, no self anti-join).
    latest = Window(
        RowNumber(),
        partition_by=[F("household_id")],
        order_by=[F("visited_on").desc(), F("created_at").desc(), F("pk").desc()],
    )
    visits = (
        Verification.objects.filter(
            scope_q(actor, query, "household__"),
            status=VerificationStatus.CONFIRMED,
            visited_on__gte=start,
            visited_on__lte=end,
        )
        .filter(~Exists(CropInstallation.objects.filter(household_id=OuterRef("household_id"))))
        .annotate(latest=latest)
        .filter(latest=1)
    )
    if connections[visits.db].vendor == "postgresql":
        return rows + _observed_postgresql(visits, end)
    seen = grouped(
        visits, on=end, prefix="household__", extra={"crops": "licit_crops"}, n=Count("pk")
    )
    parsed: dict[str, dict[str, Decimal]] = {}
    observed: dict[tuple[Any, ...], Row] = {}
    for row in seen:
        crops = row["crops"]
        text = crops if isinstance(crops, str) else json.dumps(crops, sort_keys=True)
        by_crop = parsed.get(text)
        if by_crop is None:
            by_crop = parsed[text] = _licit_by_crop(json.loads(text) if text else [])
        n = row["n"]
        for crop, ha in by_crop.items():
            identity = (*profile_key(row), crop)
            target = observed.get(identity)
            if target is None:
                target = observed[identity] = {
                    **{k: row.get(k) for k in (*PROFILE, "split")},
                    "key": crop,
                    "observed_ha": Decimal(0),
                    "households": 0,
                }
            target["observed_ha"] += ha * n
            target["households"] += n
    return rows + list(observed.values())


# A visit's licit hectares by crop (positive only), expanded in SQL from ``licit_crops``.
_BY_CROP = """CROSS JOIN LATERAL (
    SELECT COALESCE(item ->> 'crop', 'None') AS crop,
           SUM(COALESCE(NULLIF(item ->> 'ha', ''), '0')::numeric) AS ha
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(t."a_crops") = 'array' THEN t."a_crops" ELSE '[]'::jsonb END
    ) AS item
    GROUP BY 1
    HAVING SUM(COALESCE(NULLIF(item ->> 'ha', ''), '0')::numeric) > 0
) x"""


def _observed_postgresql(visits: QuerySet[Any], end: date) -> list[Row]:
    """The observed hectares of ``visits`` (one per household) by crop and in total, by the
    report's profile, the crops expanded and summed in SQL (one ``GROUPING SETS`` query whose
    result is bounded by districts × groups × crops, not one row per distinct ``licit_crops``
    value): the same rows as :func:`_licit_by_crop` summed in Python on SQLite."""
    columns = profile_columns("household__")
    inner = (
        profiled(visits, on=end, prefix="household__")
        .order_by()
        .annotate(
            **{f"c_{n}": F(c) for n, c in columns.items()},
            a_visit=F("pk"),
            a_crops=F("licit_crops"),
        )
        .values(*[f"c_{n}" for n in columns], "a_visit", "a_crops")
    )
    try:
        inner_sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return []
    variable = ("sex", "band", "community")
    sets: dict[int, tuple[str, bool]] = {}
    listed = []
    for split, dims in SPLIT_COLUMNS.items():
        for is_total in (False, True):
            names = [f't."c_{d}"' for d in dims] + ([] if is_total else ["x.crop"])
            mask = sum(1 << (3 - i) for i, d in enumerate(variable) if d not in dims)
            sets[mask | (1 if is_total else 0)] = (split, is_total)
            listed.append("(" + ", ".join(['t."c_district"', *names]) + ")")
    profile = ", ".join(f't."c_{n}"' for n in columns)
    rows: list[Row] = []
    with connections[visits.db].cursor() as cursor:
        cursor.execute(
            f'SELECT {profile}, x.crop, SUM(x.ha), COUNT(DISTINCT t."a_visit"), '  # noqa: S608
            f'GROUPING(t."c_sex", t."c_band", t."c_community", x.crop) '
            f"FROM ({inner_sql}) t {_BY_CROP} GROUP BY GROUPING SETS ({', '.join(listed)})",
            params,
        )
        for *profile_values, crop, hectares, households, mask in cursor.fetchall():
            split, is_total = sets[mask]
            row: Row = dict(zip(columns, profile_values, strict=True))
            row.update(
                split=split,
                key=TOTAL if is_total else crop,
                observed_ha=hectares,
                households=households,
            )
            rows.append(row)
    return rows


def _licit_by_crop(items: Iterable[dict[str, Any]] | None) -> dict[str, Decimal]:
    """Licit hectares by crop of a visit's ``licit_crops`` (and ``TOTAL``), positive only."""
    by_crop: dict[str, Decimal] = defaultdict(Decimal)
    for item in items or ():
        by_crop[str(item.get("crop"))] += Decimal(str(item.get("ha") or 0))
    shown = {crop: ha for crop, ha in by_crop.items() if ha > 0}
    if shown:
        shown[TOTAL] = sum(shown.values(), Decimal(0))
    return shown


def coca_rows(actor: Actor, query: IndicatorQuery) -> list[Row]:
    """Coca hectares reduced in the period (verified eradications), voluntary and forced: two
    queries."""
    start, end = period_of(query)
    records = Eradication.objects.filter(
        scope_q(actor, query, "household__"),
        status=EradicationStatus.VERIFIED,
        eradicated_on__gte=start,
        eradicated_on__lte=end,
    )
    sums: dict[str, Any] = {
        "hectares": Sum("hectares"),
        "households": Count("household_id", distinct=True),
    }
    return grouped(
        records, on=end, prefix="household__", extra={"key": "kind"}, total="key", **sums
    )


def _coca_label(key: str) -> str:
    if key == TOTAL:
        return str(_("Total reduced"))
    return str(EradicationKind(key).label) if key in EradicationKind.values else key


def training_rows(actor: Actor, query: IndicatorQuery) -> list[Row]:
    """Training and technical-assistance events held in the period (active; with ``funder``,
    those it paid for), their attendees and families: two queries."""
    start, end = period_of(query)
    rows_q = TrainingAttendance.objects.filter(
        scope_q(actor, query, "household__"),
        event__is_active=True,
        event__held_on__gte=start,
        event__held_on__lte=end,
    )
    if query.funder:
        rows_q = rows_q.filter(event__funding_source__code=query.funder)
    rows = grouped(
        rows_q,
        on=end,
        prefix="household__",
        attendees=Count("member_id", distinct=True),
        households=Count("household_id", distinct=True),
    )
    events: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for row in grouped(rows_q, on=end, prefix="household__", extra={"event": "event_id"}):
        events[profile_key(row)].add(row["event"])
    for row in rows:
        row["key"] = TOTAL
        row["events"] = events.get(profile_key(row), set())
    return rows


def spend_rows(actor: Actor, query: IndicatorQuery) -> list[Row]:
    """Spend in the period by funding source: support items given to the report's households
    (by their district) and training events held (by the event's district); with ``funder``,
    only that funder's own spend: four queries. ``households`` is the larger of the families
    supported and the families trained (each a distinct count, so never more than the
    families the spend reached)."""
    start, end = period_of(query)
    support = Support.objects.filter(
        scope_q(actor, query, "household__"), is_active=True, given_on__gte=start, given_on__lte=end
    )
    events = TrainingEvent.objects.filter(
        actor.area_q(
            district_path="district_id", program_path="program_id", scope=Scope.INDICATORS_READ
        ),
        is_active=True,
        held_on__gte=start,
        held_on__lte=end,
    )
    for path, value in {
        "program__code": query.program,
        "district_id": query.district,
        "district__department_id": query.department,
        "district__province_id": query.province,
        "program__funder__code": query.funder,
    }.items():
        if value:
            events = events.filter(**{path: value})
    if query.vraem is not None:
        events = events.filter(district__is_vraem=query.vraem)
    if query.funder:
        support = support.filter(funding_source__code=query.funder)
        events = events.filter(funding_source__code=query.funder)
    cells: dict[tuple[str, str], Row] = {}

    def cell(district: str, key: str) -> Row:
        return cells.setdefault(
            (district, key),
            {
                "district": district,
                "key": key,
                "support_pen": Decimal(0),
                "training_pen": Decimal(0),
                "supported": 0,
                "trained": 0,
            },
        )

    def key(row: Row) -> str:
        return str(row["key"] or NO_FUNDER)

    by_source = {"key": "funding_source__code"}
    for row in grouped(
        support,
        on=end,
        prefix="household__",
        split=False,
        extra=by_source,
        total="key",
        pen=Sum("cost_pen"),
        n=Count("household_id", distinct=True),
    ):
        c = cell(row["district"], key(row))
        c["support_pen"] += Decimal(str(row["pen"] or 0))
        c["supported"] += row["n"]
    for row in grouped(
        events, on=end, split=False, extra=by_source, total="key", pen=Sum("cost_pen")
    ):
        cell(row["district"], key(row))["training_pen"] += Decimal(str(row["pen"] or 0))
    attendances = TrainingAttendance.objects.filter(event__in=events.values("pk"))
    for row in grouped(
        attendances,
        on=end,
        prefix="event__",
        split=False,
        extra={"key": "event__funding_source__code"},
        total="key",
        n=Count("household_id", distinct=True),
    ):
        cell(row["district"], key(row))["trained"] += row["n"]
    rows = []
    for c in cells.values():
        c["total_pen"] = c["support_pen"] + c["training_pen"]
        c["households"] = max(c["supported"], c["trained"])
        rows.append(c)
    return rows


def combine_spend(rows: list[Row]) -> list[Row]:
    """Spend rows of several programmes merged per district and funding source: amounts summed,
    ``households`` the larger of the families supported and trained there (as
    :func:`spend_rows` computes it over all programmes at once)."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        target = merged.get((row["district"], row["key"]))
        if target is None:
            target = merged[(row["district"], row["key"])] = {
                "district": row["district"],
                "key": row["key"],
                **{n: Decimal(0) for n in ("support_pen", "training_pen", "total_pen")},
                "supported": 0,
                "trained": 0,
            }
        for name in ("support_pen", "training_pen", "total_pen"):
            target[name] += Decimal(str(row[name] or 0))
        target["supported"] += row["supported"]
        target["trained"] += row["trained"]
    for target in merged.values():
        target["households"] = max(target["supported"], target["trained"])
    return list(merged.values())


def _funder_label(key: str) -> str:
    if key == TOTAL:
        return str(_("All funding sources"))
    if key == NO_FUNDER:
        return str(_("Not recorded"))
    return key


def _one(label: Promise) -> Callable[[str], str]:
    return lambda _key: str(label)


register_section(
    Section(
        name="families",
        title=_("Families served"),
        figures=(Figure("households", _("Families")),),
        rows=families_rows,
        key_label=_family_key,
        key_title=_("Figure"),
        lines=(
            ("served", ("new", "continuing")),
            ("served", tuple(f"stage:{s}" for s in Stage.values)),
            ("served", ("tenure_held", "tenure_none")),
        ),
        order=10,
    )
)
register_section(
    Section(
        name="hectares",
        title=_("Licit hectares"),
        figures=(
            Figure("installed_ha", _("Hectares installed in the period"), "ha"),
            Figure("maintained_ha", _("Hectares in maintenance"), "ha"),
            Figure("observed_ha", _("Hectares seen at visits (no installation recorded)"), "ha"),
            Figure("households", _("Families")),
        ),
        rows=hectares_rows,
        key_label=_crop_label,
        key_title=_("Crop"),
        lines=((TOTAL, None),),
        order=20,
    )
)
register_section(
    Section(
        name="coca",
        title=_("Coca hectares reduced"),
        figures=(
            Figure("hectares", _("Hectares reduced"), "ha"),
            Figure("households", _("Families")),
        ),
        rows=coca_rows,
        key_label=_coca_label,
        key_title=_("Kind"),
        lines=((TOTAL, None),),
        order=30,
    )
)
register_section(
    Section(
        name="training",
        title=_("Training and technical assistance"),
        sheet=_("Training and assistance"),
        figures=(
            Figure("events", _("Events"), "set"),
            Figure("attendees", _("Attendees")),
            Figure("households", _("Families")),
        ),
        rows=training_rows,
        key_label=_one(_("Total")),
        order=70,
    )
)
register_section(
    Section(
        name="spend",
        title=_("Spend by funding source"),
        sheet=_("Spend by source"),
        figures=(
            Figure("support_pen", _("Support (PEN)"), "pen"),
            Figure("training_pen", _("Training (PEN)"), "pen"),
            Figure("total_pen", _("Total (PEN)"), "pen"),
        ),
        carried=("households",),
        rows=spend_rows,
        key_label=_funder_label,
        key_title=_("Funding source"),
        lines=((TOTAL, None),),
        split=False,
        order=80,
        combine=combine_spend,
    )
)


# --- roll-up, suppression and the report ---


@dataclass(frozen=True)
class Place:
    department: str
    province: str
    vraem: bool


def places_of(district_ids: Iterable[str]) -> dict[str, Place]:
    return {
        d["ubigeo"]: Place(d["department_id"], d["province_id"], d["is_vraem"])
        for d in District.objects.filter(ubigeo__in=set(district_ids)).values(
            "ubigeo", "department_id", "province_id", "is_vraem"
        )
    }


def _group(split: str, row: Row) -> str:
    if split == "all":
        return "all"
    if split == "sex":
        return row.get("sex") or UNKNOWN
    if split == "age_band":
        return row.get("band") or UNKNOWN
    return row.get("community") or ""


def _add(target: Cell, row: Row, names: Iterable[str]) -> None:
    _add_figures(target, _figures(row, names))


def _figures(row: Row, names: Iterable[str]) -> list[tuple[str, Any]]:
    """``row``'s figures among ``names`` that it has (not ``None``), ready to add: sets and
    integers as they are, anything else as a ``Decimal``."""
    out = []
    for name in names:
        value = row.get(name)
        if value is None:
            continue
        kind = type(value)
        out.append((name, value if kind is set or kind is int else Decimal(value)))
    return out


def _add_figures(target: Cell, figures: list[tuple[str, Any]]) -> None:
    """Add ``figures`` (``_figures``) to ``target``: sets united, numbers summed."""
    for name, value in figures:
        if type(value) is set:
            target.setdefault(name, set()).update(value)
        else:
            found = target.get(name)
            target[name] = value if found is None else found + value


def _carried(section: Section) -> list[str]:
    names = [f.name for f in section.figures if f.of is None]
    names += [n for f in section.figures if f.of for n in f.of]
    names += list(section.carried)
    if "households" not in names:
        names.append("households")
    return list(dict.fromkeys(names))


def _compact(rows: list[Row], names: list[str], splits: list[str]) -> list[Row]:
    """``rows`` merged per district, split, group and key (the finest cells), so the levels
    are summed from a few rows per district, whatever the number of input rows."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        for split in [row["split"]] if "split" in row else splits:
            group = _group(split, row)
            identity = (row["district"], split, group, row["key"])
            target = merged.get(identity)
            if target is None:
                target = merged[identity] = {
                    "district": row["district"],
                    "split": split,
                    "group": group,
                    "key": row["key"],
                }
            _add(target, row, names)
    return list(merged.values())


def roll_up(section: Section, rows: list[Row], places: dict[str, Place]) -> list[Cell]:
    """The section's cells at every level and disaggregation, summed from ``rows``."""
    names = _carried(section)
    splits = [s for s, _l in SPLITS] if section.split else ["all"]
    cells: dict[tuple[str, str, str, str, str], Cell] = {}
    for row in _compact(rows, names, splits):
        place = places.get(row["district"])
        if place is None:
            continue
        figures = _figures(row, names)
        areas = {
            "total": TOTAL,
            "department": place.department,
            "province": place.province,
            "district": row["district"],
            "vraem": "in" if place.vraem else "out",
        }
        for level, area in areas.items():
            for split in [row["split"]]:
                key = (level, area, split, row["group"], row["key"])
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = {
                        "level": level,
                        "area": area,
                        "split": split,
                        "group": key[3],
                        "key": row["key"],
                        "_province": place.province if level == "district" else None,
                        "_department": place.department if level == "province" else None,
                    }
                _add_figures(cell, figures)
    return list(cells.values())


def _lines(section: Section) -> list[Callable[[Cell], Hashable | None]]:
    """The lines whose sums are published (see the module's docstring)."""

    # A cell's identity (level, area, split, group, key) without some of its parts, spelled
    # out: these run for every cell and line.
    def but_place(cell: Cell) -> tuple[Any, ...]:
        return (cell["split"], cell["group"], cell["key"])

    def but_group(cell: Cell) -> tuple[Any, ...]:
        return (cell["level"], cell["area"], cell["key"])

    def but_key(cell: Cell) -> tuple[Any, ...]:
        return (cell["level"], cell["area"], cell["split"], cell["group"])

    def districts(cell: Cell) -> Hashable | None:
        if cell["level"] == "district":
            return ("p", cell["_province"], *but_place(cell))
        if cell["level"] == "province":
            return ("p", cell["area"], *but_place(cell))
        return None

    def provinces(cell: Cell) -> Hashable | None:
        if cell["level"] == "province":
            return ("d", cell["_department"], *but_place(cell))
        if cell["level"] == "department":
            return ("d", cell["area"], *but_place(cell))
        return None

    def departments(cell: Cell) -> Hashable | None:
        if cell["level"] in ("department", "total"):
            return ("n", *but_place(cell))
        return None

    def vraem(cell: Cell) -> Hashable | None:
        if cell["level"] in ("vraem", "total"):
            return ("v", *but_place(cell))
        return None

    lines: list[Callable[[Cell], Hashable | None]] = [districts, provinces, departments, vraem]

    def split_line(split: str) -> Callable[[Cell], Hashable | None]:
        def line(cell: Cell) -> Hashable | None:
            if cell["split"] in (split, "all"):
                return ("s", split, *but_group(cell))
            return None

        return line

    if section.split:
        lines += [split_line(s) for s, _l in SPLITS if s != "all"]

    def key_line(n: int, total: str, parts: tuple[str, ...] | None) -> Callable[[Cell], Hashable]:
        def line(cell: Cell) -> Hashable | None:
            if cell["key"] == total or (
                cell["key"] in parts if parts is not None else cell["key"] != total
            ):
                return ("k", n, *but_key(cell))
            return None

        return line

    lines += [key_line(n, total, parts) for n, (total, parts) in enumerate(section.lines)]
    return lines


def _protect(section: Section, cells: list[Cell], *, enabled: bool) -> list[Cell]:
    values = [*_carried(section)]
    return protect(
        cells,
        values=values,
        count=lambda c: c.get("households") or 0,
        keys=("level", "area", "split", "group", "key"),
        dims=(),
        lines=_lines(section),
        enabled=enabled,
    )


def _published(section: Section, cell: Cell) -> Cell:
    """A protected cell as published: sets as counts, means computed, decimals rounded."""
    out: Cell = {k: cell[k] for k in ("level", "area", "split", "group", "key", "suppressed")}
    for figure in section.figures:
        if cell["suppressed"]:
            out[figure.name] = None
            continue
        if figure.of is not None:
            top, bottom = (cell.get(n) for n in figure.of)
            out[figure.name] = (
                (Decimal(top) / Decimal(bottom)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                if top is not None and bottom
                else None
            )
            continue
        value = cell.get(figure.name)
        if figure.kind == "set":
            out[figure.name] = len(value or ())
        elif figure.kind == "count":
            out[figure.name] = value or 0
        elif value is None:
            out[figure.name] = Decimal("0.00") if figure.kind in ("pen", "ha") else None
        else:
            out[figure.name] = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return out


RESULTS: tuple[tuple[str, str, str, str, Promise], ...] = (
    # (key, section, its total key, figure, label)
    ("families", "families", "served", "households", _("Family served")),
    ("hectares", "hectares", TOTAL, "installed_ha", _("Licit hectare installed")),
    ("coca", "coca", TOTAL, "hectares", _("Coca hectare reduced")),
    ("titles", "titles", "issued", "titles", _("Title issued")),
    ("attendees", "training", TOTAL, "attendees", _("Training attendee")),
)


def cost_per_result(report: Report) -> list[Cell]:
    """Spend (all sources, the report's) ÷ each result, per area (all households only); shown
    only where both are published."""
    spend = {
        (c["level"], c["area"]): c
        for c in report.cells.get("spend", [])
        if c["key"] == TOTAL and c["split"] == "all"
    }
    out: list[Cell] = []
    for key, section, total, figure, _label in RESULTS:
        for cell in report.cells.get(section, []):
            if cell["key"] != total or cell["split"] != "all":
                continue
            money = spend.get((cell["level"], cell["area"]))
            if money is None:
                continue
            result, cost = cell.get(figure), money.get("total_pen")
            hidden = cell["suppressed"] or money["suppressed"] or not result or cost is None
            out.append(
                {
                    "level": cell["level"],
                    "area": cell["area"],
                    "split": "all",
                    "group": "all",
                    "key": key,
                    "suppressed": bool(hidden),
                    "results": None if hidden else result,
                    "cost_pen": None if hidden else cost,
                    "cost_per_result_pen": None
                    if hidden
                    else (Decimal(str(cost)) / Decimal(str(result))).quantize(
                        CENT, rounding=ROUND_HALF_UP
                    ),
                }
            )
    return out


COST_SECTION = Section(
    name="cost_per_result",
    title=_("Cost per result"),
    figures=(
        Figure("results", _("Results"), "ha"),
        Figure("cost_pen", _("Spend (PEN)"), "pen"),
        Figure("cost_per_result_pen", _("Cost per result (PEN)"), "pen"),
    ),
    rows=lambda _actor, _query: [],
    key_label=lambda key: str({r[0]: r[4] for r in RESULTS}.get(key, key)),
    key_title=_("Result"),
    split=False,
    order=90,
)


# PostgreSQL's memory for each sort and hash of the report's aggregates (``work_mem``, 4 MB by
# default): at 1M households the families' ``GROUPING SETS`` sorted 900,000 rows on disk
# (external merge, ~25 MB per worker); in memory the section takes 1.3 s instead of 2.2 s.
REPORT_WORK_MEM = "64MB"


@contextmanager
def in_memory(using: str = "default") -> Iterator[None]:
    """Within the block, on PostgreSQL, the report's queries sort and hash in memory
    (``REPORT_WORK_MEM``, for this transaction only: ``set_config(…, true)``)."""
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [REPORT_WORK_MEM])
        yield


def annual_report(
    *,
    actor: Actor,
    query: IndicatorQuery,
    only: Iterable[str] | None = None,
    live: bool = False,
) -> Report:
    """The annual results report of ``actor``'s area for ``query`` (its period, defaulting to
    the current year; its filters), every section protected when ``query.suppress``. A whole
    calendar year is read from the stored rows when they exist (``annual_snapshots``; the
    report's ``figures_as_of`` says when they were computed), unless ``live``."""
    from .annual_snapshots import cached, keep, stored_source

    start, end = period_of(query)
    query = replace(query, date_from=start, date_to=end)
    wanted = set(only) if only is not None else None
    chosen = [s for s in sections() if wanted is None or s.name in wanted]
    stored = None if live else stored_source(actor, query, chosen)
    report = Report(query=query, period_from=start, period_to=end)
    report.generated_on = query.today or timezone.localdate()
    if stored is not None:
        report.figures_as_of, report.cache_key = stored.as_of, stored.key
        cells = cached(stored.key)
        if cells is not None:
            report.cells = cells
            return report
        rows, places = stored.rows(query, chosen)
    else:
        with in_memory():
            rows = {s.name: s.rows(actor, query) for s in chosen}
        places = places_of({row["district"] for rs in rows.values() for row in rs})
    for section in chosen:
        cells = roll_up(section, rows[section.name], places)
        cells.sort(key=_cell_order)
        protected = _protect(section, cells, enabled=query.suppress)
        report.cells[section.name] = [_published(section, c) for c in protected]
    if wanted is None or COST_SECTION.name in wanted:
        report.cells[COST_SECTION.name] = cost_per_result(report)
    if stored is not None:
        keep(stored.key, report.cells)
    return report


LEVEL_ORDER = {level: n for n, (level, _l) in enumerate(LEVELS)}
SPLIT_ORDER = {split: n for n, (split, _l) in enumerate(SPLITS)}


def _cell_order(cell: Cell) -> tuple[Any, ...]:
    return (
        LEVEL_ORDER[cell["level"]],
        str(cell["area"]),
        SPLIT_ORDER[cell["split"]],
        str(cell["group"]),
        cell["key"] != TOTAL and cell["key"] != "served",
        str(cell["key"]),
    )


def all_sections() -> list[Section]:
    """Every section including the derived cost per result, in order."""
    return [*sections(), COST_SECTION]


# --- labels ---


class Labels:
    """Names for the report's areas, groups and keys, never codes (three or four queries)."""

    def __init__(self, report: Report) -> None:
        codes: dict[str, set[str]] = defaultdict(set)
        for cells in report.cells.values():
            for cell in cells:
                codes[cell["level"]].add(cell["area"])
        self.names: dict[tuple[str, str], str] = {}
        self._cache: dict[tuple[str, str], str] = {}
        for level, model, pk in (
            ("department", Department, "code"),
            ("province", Province, "code"),
            ("district", District, "ubigeo"),
        ):
            if codes[level]:
                rows = model.objects.filter(**{f"{pk}__in": codes[level]})
                for code, name in rows.values_list(pk, "name"):
                    self.names[(level, code)] = name
        funders = {c["key"] for c in report.cells.get("spend", ())} - {TOTAL, NO_FUNDER}
        self.funders = dict(
            Organization.objects.filter(code__in=funders).values_list("code", "name")
        )
        self.fixed: dict[tuple[str, str], Promise] = {
            ("total", TOTAL): _("All areas"),
            ("vraem", "in"): _("VRAEM"),
            ("vraem", "out"): _("Outside the VRAEM"),
            ("sex", UNKNOWN): _("Not recorded"),
            ("age_band", UNKNOWN): _("Not recorded"),
            ("community", ""): _("No community recorded"),
            ("all", "all"): _("All households"),
            **{("sex", s.value): s.label for s in Sex},
            **{("age_band", code): label for code, label, _lo, _hi in AGE_BANDS},
            **{("level", code): label for code, label in LEVELS},
            **{("split", code): label for code, label in SPLITS},
        }

    def __call__(self, kind: str, code: str) -> str:
        found = self._cache.get((kind, code))
        if found is None:
            found = self._cache[(kind, code)] = self._label(kind, code)
        return found

    def _label(self, kind: str, code: str) -> str:
        """The label of ``code`` of ``kind`` (a level, ``sex``, ``age_band``, ``community``,
        ``all``, ``level`` or ``split``)."""
        if (kind, code) in self.names:
            return self.names[(kind, code)]
        if (kind, code) in self.fixed:
            return str(self.fixed[(kind, code)])
        return str(code)

    def key(self, section: Section, key: str) -> str:
        """The label of one of ``section``'s keys."""
        found = self._cache.get((f"key:{section.name}", key))
        if found is None:
            if section.name == "spend" and key in self.funders:
                found = self.funders[key]
            else:
                found = section.key_label(key)
            self._cache[(f"key:{section.name}", key)] = found
        return found


# --- the report's figures as indicators ---


def annual_indicator(
    *, actor: Actor, query: IndicatorQuery
) -> tuple[list[dict[str, Any]], datetime | None]:
    """The cells of one annual-report section as an indicator (``metric`` one of
    ``indicators.ANNUAL_METRICS``): the whole area, or by ``district``, optionally by the head's
    ``sex``; each cell names its ``key`` and carries the section's figures. The cells are the
    report's own, protected with all of the report's lines, so the two never disagree. Returned
    with the report's ``figures_as_of``: when the stored rows it was read from were computed
    (``None`` when computed for this call)."""
    from .indicators import ANNUAL_METRICS

    name = ANNUAL_METRICS[query.metric]
    section = next(s for s in sections() if s.name == name)
    report = annual_report(actor=actor, query=query, only=[name])
    level = "district" if "district" in query.group_by else "total"
    split = "sex" if "sex" in query.group_by and section.split else "all"
    out = []
    for cell in report.cells[name]:
        if cell["level"] != level or cell["split"] != split:
            continue
        row: dict[str, Any] = {}
        if level == "district":
            row["district"] = cell["area"]
        if split == "sex":
            row["sex"] = cell["group"]
        row["key"] = cell["key"]
        for figure in section.figures:
            value = cell[figure.name]
            row[figure.name] = str(value) if isinstance(value, Decimal) else value
        row["suppressed"] = cell["suppressed"]
        out.append(row)
    return out, report.figures_as_of
