"""The programme as an IATI activity (issue 17, point 4): one ``iati-activities`` file, version
2.03, per programme and calendar year, for the donors who publish what they fund through the
International Aid Transparency Initiative (``docs/api.md``, "IATI file", explains every element).

The file holds aggregates only: the programme, its organizations, its funding agreements, the
costs its funding sources paid for (summed per month, source, agreement and kind), the districts
where its families live and the figures of :func:`iati_figures`, taken from the indicators
service with its small-cell suppression. No household, member, name, document number, plot or
free-text note ever reaches it (``tests/farmers/test_iati.py`` checks it).

:func:`iati_figures` is the one place that says which figures the file publishes: when the
annual results report's figures become indicator metrics, they are added (or the function is
switched to the report's service) there, and nothing else changes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree import ElementTree as ET

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from registry import boundaries
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.exceptions import Conflict
from registry.iati import organization_ref, organization_type, program_identifier
from registry.models import District, FundingAgreement, Organization, Program

from ..choices import SupportKind
from ..models import Household, Support, TrainingEvent
from . import indicators

IATI_VERSION = "2.03"
LANGUAGES = ("es", "en")
COUNTRY = "PE"
# DAC 5-digit sector (vocabulary 1): 31165 "Agricultural alternative development" — "projects to
# reduce illicit drug cultivation through other agricultural marketing and production
# opportunities" (IATI Sector codelist); the programmes' levers are licit crops, their markets
# and titles to the land they grow on.
SECTOR_VOCABULARY = "1"
SECTOR_CODE = "31165"
# Codelists (IATI 2.03).
ROLE_FUNDING, ROLE_ACCOUNTABLE, ROLE_IMPLEMENTING = "1", "2", "4"
STATUS_PIPELINE, STATUS_IMPLEMENTATION, STATUS_FINALISATION = "1", "2", "3"
STATUS_CLOSED, STATUS_SUSPENDED = "4", "6"
DATE_PLANNED_START, DATE_ACTUAL_START, DATE_PLANNED_END, DATE_ACTUAL_END = "1", "2", "3", "4"
TRANSACTION_EXPENDITURE, TRANSACTION_INCOMING_COMMITMENT = "4", "11"
BUDGET_ORIGINAL, BUDGET_COMMITTED = "1", "2"
RESULT_OUTPUT, RESULT_OUTCOME = "1", "2"
MEASURE_UNIT = "1"
REPORTING_ORGANISATION_VOCABULARY = "99"  # IndicatorVocabulary: the reporting organisation's own
REACH_BENEFICIARIES = "2"
EXACTNESS_APPROXIMATE = "2"
CLASS_ADMINISTRATIVE_REGION = "1"
FEATURE_THIRD_ORDER_DIVISION = "ADM3"
COUNTRY_VOCABULARY = "A4"  # GeographicVocabulary: ISO 3166-1 alpha-2
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Figure:
    """One published value of a result indicator: ``value`` ``None`` when suppressed."""

    code: str
    title: Promise
    value: Decimal | int | None
    baseline: Decimal | int | None = None
    note: Promise | None = None


@dataclass(frozen=True)
class Result:
    """A result of the programme and the figures that measure it."""

    code: str
    kind: str
    title: Promise
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Period:
    """The calendar year reported, cut at ``today`` while it runs."""

    year: int
    start: date
    end: date
    today: date

    @property
    def complete(self) -> bool:
        """Whether the year is over (figures of "now" describe it only while it runs)."""
        return self.end < self.today


def year_period(year: int, today: date | None = None) -> Period:
    """The reported period: 1 January to 31 December of ``year``, or to ``today`` while it
    runs."""
    today = today or timezone.localdate()
    start, end = date(year, 1, 1), date(year, 12, 31)
    return Period(year, start, min(end, today), today)


# --- the figures: the one place they are chosen -----------------------------------------------


SYSTEM = Actor(unrestricted=True)


def _cells(metric: str, program: Program, group_by: Sequence[str], **period: Any) -> list[dict]:
    query = indicators.IndicatorQuery(
        metric=metric, group_by=tuple(group_by), program=program.code, suppress=True, **period
    )
    return indicators.indicator_rows(actor=SYSTEM, query=query)


def _total(cells: Iterable[dict[str, Any]], key: str) -> Decimal | int | None:
    """The sum of ``key`` over the cells; ``None`` when a summed cell is suppressed."""
    total: Decimal | int = 0
    for cell in cells:
        if cell.get("suppressed") or cell.get(key) is None:
            return None
        value = cell[key]
        total += Decimal(value) if isinstance(value, str) else value
    return total


def _keyed(cells: Iterable[dict[str, Any]], key: str, field: str) -> Decimal | int | None:
    """``field`` of the annual-report cell ``key`` (0 when the report lists no such cell: it
    leaves zero cells out); ``None`` when the cell is suppressed."""
    for cell in cells:
        if cell.get("key") == key:
            if cell.get("suppressed") or cell.get(field) is None:
                return None
            value = cell[field]
            return Decimal(value) if isinstance(value, str) else value
    return 0


def _households_at(program: Program, day: date, today: date) -> Decimal | int | None:
    """Reviewed households of the programme on ``day``, all stages: the ``households`` metric
    now when ``day`` is today, else at the end of ``day``'s month (from the stage ledger)."""
    if day >= today:
        return _total(_cells("households", program, ("program",)), "households")
    first = day.replace(day=1)
    cells = _cells("households", program, ("program", "month"), date_from=first, date_to=day)
    return _total((c for c in cells if c.get("month") == f"{first:%Y-%m}"), "households")


def iati_figures(*, program: Program, period: Period) -> list[Result]:
    """The results the file publishes for ``program`` in ``period``, from the indicators
    service (with its small-cell suppression; the whole programme, whoever asks)."""
    window = {"date_from": period.start, "date_to": period.end}
    last_year = date(period.year - 1, 12, 31)
    results = [
        Result(
            "families",
            RESULT_OUTPUT,
            _("Families served"),
            (
                Figure(
                    "households",
                    _("Families in the programme (reviewed), at the end of the period"),
                    _households_at(program, period.end, period.today),
                    baseline=_households_at(program, last_year, period.today),
                ),
            ),
        ),
    ]
    training = _cells("training", program, ("program",), **window)
    results.append(
        Result(
            "training",
            RESULT_OUTPUT,
            _("Technical assistance and training"),
            (
                Figure("training.events", _("Training events held"), _total(training, "events")),
                Figure("training.attendees", _("Attendees"), _total(training, "attendees")),
                Figure(
                    "training.households", _("Families attending"), _total(training, "households")
                ),
            ),
        )
    )
    # The annual report's own sections (``farmers.reporting.annual``, as indicator metrics), so
    # the file and the report never disagree.
    hectares = _cells("licit_hectares", program, (), **window)
    coca = _cells("coca_reduced", program, (), **window)
    titles = _cells("titles", program, (), **window)
    results.append(
        Result(
            "licit_crops",
            RESULT_OUTPUT,
            _("Licit crops installed and maintained"),
            (
                Figure(
                    "licit_hectares.installed",
                    _("Hectares of licit crops installed in the period"),
                    _keyed(hectares, "total", "installed_ha"),
                ),
                Figure(
                    "licit_hectares.maintained",
                    _("Hectares of licit crops in maintenance"),
                    _keyed(hectares, "total", "maintained_ha"),
                ),
            ),
        )
    )
    results.append(
        Result(
            "coca_reduced",
            RESULT_OUTCOME,
            _("Coca reduced"),
            (
                Figure(
                    "coca_reduced.hectares",
                    _("Hectares of coca reduced (verified eradications)"),
                    _keyed(coca, "total", "hectares"),
                ),
                Figure(
                    "coca_reduced.voluntary",
                    _("Of which voluntary (hectares)"),
                    _keyed(coca, "voluntary", "hectares"),
                ),
            ),
        )
    )
    results.append(
        Result(
            "titles",
            RESULT_OUTPUT,
            _("Land titles"),
            (
                Figure("titles.issued", _("Titles issued"), _keyed(titles, "issued", "titles")),
                Figure(
                    "titles.registered",
                    _("Titles registered"),
                    _keyed(titles, "registered", "titles"),
                ),
            ),
        )
    )
    if "producer_organisations" in indicators.METRICS:
        sales = _cells("producer_organisations", program, ("program",), **window)
        results.append(
            Result(
                "markets",
                RESULT_OUTCOME,
                _("Market access through producer organisations"),
                (
                    Figure(
                        "producer_organisations.households",
                        _("Families that are members of a producer organisation"),
                        _total(sales, "households"),
                        note=_("Members at the date of the file."),
                    ),
                    Figure(
                        "producer_organisations.delivered_kg",
                        _("Produce sold through producer organisations (kg)"),
                        _total(sales, "delivered_kg"),
                    ),
                    Figure(
                        "producer_organisations.sales_pen",
                        _("Sales value through producer organisations (PEN)"),
                        _total(sales, "sales_pen"),
                    ),
                ),
            )
        )
    if not period.complete:
        # The tenure track has no history: published for the running year only.
        tenure = _cells("tenure", program, ("program",))
        results.append(
            Result(
                "tenure",
                RESULT_OUTCOME,
                _("Secure land tenure"),
                (
                    Figure(
                        "tenure",
                        _("Families holding secure tenure (a registered title or other)"),
                        _total(tenure, "households"),
                        note=_("Counted at the date of the file."),
                    ),
                ),
            )
        )
    return results


# --- what the programme spent, and who paid ---------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """Costs of one month paid by one source under one agreement, of one kind (PEN)."""

    month: date
    kind: str
    source: Organization | None
    agreement: FundingAgreement | None
    amount: Decimal
    items: int


def programme_spend(*, program: Program, period: Period) -> list[Spend]:
    """The programme's costs in the period, summed per month, funding source, agreement and
    kind: support given to its families (any status: the money was spent) and its training
    events (two queries, plus one for the organizations and agreements named)."""
    support = (
        Support.objects.filter(
            is_active=True,
            household__program=program,
            given_on__gte=period.start,
            given_on__lte=period.end,
        )
        .order_by()
        .annotate(month=TruncMonth("given_on"))
        .values("month", "kind", "funding_source_id", "funding_agreement_id")
        .annotate(amount=Sum("cost_pen"), items=Count("pk"))
    )
    events = (
        TrainingEvent.objects.filter(
            is_active=True, program=program, held_on__gte=period.start, held_on__lte=period.end
        )
        .order_by()
        .annotate(month=TruncMonth("held_on"))
        .values("month", "funding_source_id", "funding_agreement_id")
        .annotate(amount=Sum("cost_pen"), items=Count("pk"))
    )
    rows = [*support, *({**row, "kind": "training_event"} for row in events)]
    sources = Organization.objects.in_bulk({r["funding_source_id"] for r in rows} - {None})
    agreements = FundingAgreement.objects.in_bulk(
        {r["funding_agreement_id"] for r in rows} - {None}
    )
    spend: dict[tuple[Any, ...], Spend] = {}
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        key = (month, row["kind"], row["funding_source_id"], row["funding_agreement_id"])
        amount = row["amount"] or Decimal(0)
        if key in spend:  # the same kind from both tables cannot happen; kept exact anyway
            old = spend[key]
            spend[key] = replace(old, amount=old.amount + amount, items=old.items + row["items"])
            continue
        spend[key] = Spend(
            month=month,
            kind=row["kind"],
            source=sources.get(row["funding_source_id"]),
            agreement=agreements.get(row["funding_agreement_id"]),
            amount=amount,
            items=row["items"],
        )
    return sorted(
        spend.values(),
        key=lambda s: (
            s.month,
            s.source.code if s.source else "",
            s.agreement.code if s.agreement else "",
            s.kind,
        ),
    )


def _agreements(program: Program, period: Period) -> list[FundingAgreement]:
    """The programme's active funding agreements in force during the period."""
    return list(
        FundingAgreement.objects.filter(
            program=program,
            is_active=True,
            starts_on__lte=period.end,
            ends_on__gte=period.start,
        )
        .select_related("funder")
        .order_by("starts_on", "code")
    )


def _share(agreement: FundingAgreement, period: Period) -> tuple[date, date, Decimal]:
    """The part of an agreement's budget that falls in the period's year: its days in that year
    over all its days (IATI budgets cover at most a year; agreements carry one total)."""
    start = max(agreement.starts_on, date(period.year, 1, 1))
    end = min(agreement.ends_on, date(period.year, 12, 31))
    days = (agreement.ends_on - agreement.starts_on).days + 1
    inside = (end - start).days + 1
    amount = (agreement.budget_amount * inside / days).quantize(CENT, rounding=ROUND_HALF_UP)
    return start, end, amount


# --- the XML ----------------------------------------------------------------------------------


KIND_LABELS: dict[str, Promise] = {
    **{str(value): label for value, label in SupportKind.choices},
    "training_event": _("Training events"),
}


def _text(
    parent: ET.Element,
    tag: str,
    message: Any,
    params: dict[str, Any] | None = None,
    **attrs: str,
) -> ET.Element:
    """``<tag>`` with one ``narrative`` per language: ``message`` translated into each (and
    filled with ``params`` there, labels among them translated too)."""
    element = ET.SubElement(parent, tag, attrs)
    for language in LANGUAGES:
        with translation.override(language):
            text = str(message)
            if params is not None:
                text = text % {k: str(v) for k, v in params.items()}
            ET.SubElement(element, "narrative", {XML_LANG: language}).text = text
    return element


def _named(parent: ET.Element, tag: str, name: str, **attrs: str) -> ET.Element:
    """``<tag>`` naming an organization: its name as one narrative (a proper name)."""
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
    ET.SubElement(element, "narrative").text = name
    return element


def _organization(parent: ET.Element, tag: str, organization: Organization, **attrs: str) -> None:
    _named(
        parent,
        tag,
        organization.name,
        ref=organization_ref(organization),
        type=organization_type(organization),
        **attrs,
    )


def _number(value: Decimal | int) -> str:
    if isinstance(value, Decimal):
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    return str(value)


def _value(parent: ET.Element, amount: Decimal, currency: str, on: date) -> None:
    element = ET.SubElement(
        parent, "value", {"currency": currency.upper(), "value-date": on.isoformat()}
    )
    element.text = _number(amount)


def _status(program: Program, today: date) -> str:
    ended = program.ends_on is not None and program.ends_on < today
    if not program.is_active:
        return STATUS_CLOSED if ended else STATUS_SUSPENDED
    if program.starts_on is not None and program.starts_on > today:
        return STATUS_PIPELINE
    return STATUS_FINALISATION if ended else STATUS_IMPLEMENTATION


def _dates(activity: ET.Element, program: Program, period: Period) -> None:
    first = (
        Household.objects.filter(program=program)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if program.starts_on:
        ET.SubElement(
            activity,
            "activity-date",
            {"type": DATE_PLANNED_START, "iso-date": program.starts_on.isoformat()},
        )
    started = timezone.localtime(first).date() if first else None
    if started is None and not program.starts_on:
        started = timezone.localtime(program.created_at).date()
    if started is not None and started <= period.today:
        ET.SubElement(
            activity, "activity-date", {"type": DATE_ACTUAL_START, "iso-date": started.isoformat()}
        )
    if program.ends_on:
        ET.SubElement(
            activity,
            "activity-date",
            {"type": DATE_PLANNED_END, "iso-date": program.ends_on.isoformat()},
        )
        if program.ends_on < period.today:
            ET.SubElement(
                activity,
                "activity-date",
                {"type": DATE_ACTUAL_END, "iso-date": program.ends_on.isoformat()},
            )


def programme_funders(program: Program) -> list[Organization]:
    """The programme's funders: its own funder and those of its active funding agreements."""
    funders: dict[int, Organization] = {}
    if program.funder is not None:
        funders[program.funder.pk] = program.funder
    agreements = FundingAgreement.objects.filter(program=program, is_active=True)
    for agreement in agreements.select_related("funder").order_by("starts_on", "code"):
        funders.setdefault(agreement.funder_id, agreement.funder)
    return sorted(funders.values(), key=lambda o: o.code)


def _participants(program: Program) -> list[tuple[str, Organization]]:
    """(role, organization) pairs: funders, the accountable agency, implementers."""
    implementers = Organization.objects.filter(
        programs=program, kind=OrganizationKind.IMPLEMENTER, is_active=True
    ).order_by("code")
    return [
        *((ROLE_FUNDING, org) for org in programme_funders(program)),
        (ROLE_ACCOUNTABLE, program.agency),
        *((ROLE_IMPLEMENTING, org) for org in implementers),
    ]


def _locations(activity: ET.Element, program: Program) -> None:
    """One ``location`` per district where the programme's reviewed families live: its name,
    its INEI ubigeo (``ref``), the country as administrative area and a point at the centre of
    its outline (approximate)."""
    ubigeos = (
        Household.objects.filter(program=program, status__in=indicators.COUNTED_STATUSES)
        .order_by()
        .values_list("district_id", flat=True)
        .distinct()
    )
    districts = District.objects.filter(ubigeo__in=ubigeos).select_related("province", "department")
    for district in districts.order_by("ubigeo"):
        location = ET.SubElement(activity, "location", {"ref": f"PE-UBIGEO-{district.ubigeo}"})
        ET.SubElement(location, "location-reach", {"code": REACH_BENEFICIARIES})
        name = f"{district.name} ({district.province.name}, {district.department.name})"
        ET.SubElement(ET.SubElement(location, "name"), "narrative").text = name
        _text(
            location,
            "description",
            _("District (INEI ubigeo %(ubigeo)s), Peru"),
            {"ubigeo": district.ubigeo},
        )
        ET.SubElement(
            location,
            "administrative",
            {"vocabulary": COUNTRY_VOCABULARY, "level": "0", "code": COUNTRY},
        )
        centre = boundaries.district_centroid(district.ubigeo)
        if centre is not None:
            point = ET.SubElement(location, "point", {"srsName": WGS84})
            ET.SubElement(point, "pos").text = f"{centre[1]:.5f} {centre[0]:.5f}"
        ET.SubElement(location, "exactness", {"code": EXACTNESS_APPROXIMATE})
        ET.SubElement(location, "location-class", {"code": CLASS_ADMINISTRATIVE_REGION})
        ET.SubElement(location, "feature-designation", {"code": FEATURE_THIRD_ORDER_DIVISION})


def _budgets(activity: ET.Element, agreements: Sequence[FundingAgreement], period: Period) -> None:
    for agreement in agreements:
        start, end, amount = _share(agreement, period)
        budget = ET.SubElement(
            activity, "budget", {"type": BUDGET_ORIGINAL, "status": BUDGET_COMMITTED}
        )
        ET.SubElement(budget, "period-start", {"iso-date": start.isoformat()})
        ET.SubElement(budget, "period-end", {"iso-date": end.isoformat()})
        _value(budget, amount, agreement.currency, start)


def _transactions(
    activity: ET.Element,
    program: Program,
    agreements: Sequence[FundingAgreement],
    period: Period,
) -> None:
    for agreement in agreements:
        transaction = ET.SubElement(activity, "transaction", {"ref": agreement.code})
        ET.SubElement(transaction, "transaction-type", {"code": TRANSACTION_INCOMING_COMMITMENT})
        ET.SubElement(
            transaction, "transaction-date", {"iso-date": agreement.starts_on.isoformat()}
        )
        _value(transaction, agreement.budget_amount, agreement.currency, agreement.starts_on)
        _text(
            transaction,
            "description",
            _("Funding agreement %(code)s (%(start)s – %(end)s)"),
            {
                "code": agreement.code,
                "start": agreement.starts_on.isoformat(),
                "end": agreement.ends_on.isoformat(),
            },
        )
        _organization(transaction, "provider-org", agreement.funder)
        _organization(transaction, "receiver-org", program.agency)
    for spend in programme_spend(program=program, period=period):
        last_day = spend.month.replace(
            day=calendar.monthrange(spend.month.year, spend.month.month)[1]
        )
        on = min(last_day, period.end)
        transaction = ET.SubElement(activity, "transaction")
        ET.SubElement(transaction, "transaction-type", {"code": TRANSACTION_EXPENDITURE})
        ET.SubElement(transaction, "transaction-date", {"iso-date": on.isoformat()})
        _value(transaction, spend.amount, "PEN", on)
        params: dict[str, Any] = {
            "kind": KIND_LABELS.get(spend.kind, spend.kind),
            "month": f"{spend.month:%Y-%m}",
        }
        if spend.agreement is not None:
            params["agreement"] = spend.agreement.code
            message = _("%(kind)s, %(month)s: funding agreement %(agreement)s")
        elif spend.source is not None:
            message = _("%(kind)s, %(month)s")
        else:
            message = _("%(kind)s, %(month)s: funding source not recorded")
        _text(transaction, "description", message, params)
        if spend.source is not None:
            _organization(transaction, "provider-org", spend.source)


def _results(activity: ET.Element, results: Sequence[Result], period: Period) -> None:
    for result in results:
        element = ET.SubElement(activity, "result", {"type": result.kind})
        _text(element, "title", result.title)
        for figure in result.figures:
            indicator = ET.SubElement(element, "indicator", {"measure": MEASURE_UNIT})
            _text(indicator, "title", figure.title)
            ET.SubElement(
                indicator,
                "reference",
                {"vocabulary": REPORTING_ORGANISATION_VOCABULARY, "code": figure.code},
            )
            if figure.baseline is not None:
                ET.SubElement(
                    indicator,
                    "baseline",
                    {
                        "year": str(period.year - 1),
                        "iso-date": date(period.year - 1, 12, 31).isoformat(),
                        "value": _number(figure.baseline),
                    },
                )
            element_period = ET.SubElement(indicator, "period")
            ET.SubElement(element_period, "period-start", {"iso-date": period.start.isoformat()})
            ET.SubElement(element_period, "period-end", {"iso-date": period.end.isoformat()})
            attrs = {} if figure.value is None else {"value": _number(figure.value)}
            actual = ET.SubElement(element_period, "actual", attrs)
            if figure.value is None:
                _text(
                    actual,
                    "comment",
                    _("Not published: fewer than %(n)s households (small-cell suppression)."),
                    {"n": indicators.SUPPRESSION_THRESHOLD},
                )
            elif figure.note is not None:
                _text(actual, "comment", figure.note)


def iati_activities(*, program: Program, year: int, today: date | None = None) -> bytes:
    """The ``iati-activities`` file (UTF-8 XML, version 2.03) of ``program`` for ``year``: a
    409 ``iati_identifier_missing`` when neither the programme nor its agency has an IATI
    identifier (nor the agency a RUC)."""
    program = Program.objects.select_related("agency", "funder").get(pk=program.pk)
    identifier = program_identifier(program)
    reporting_ref = organization_ref(program.agency)
    if not identifier or not reporting_ref:
        raise Conflict(
            _(
                "Set an IATI identifier (or a RUC) on the programme's agency, or an IATI "
                "activity identifier on the programme, in the admin."
            ),
            code="iati_identifier_missing",
            attr="program",
        )
    period = year_period(year, today)
    now = timezone.now().replace(microsecond=0)
    root = ET.Element(
        "iati-activities", {"version": IATI_VERSION, "generated-datetime": now.isoformat()}
    )
    activity = ET.SubElement(
        root,
        "iati-activity",
        {
            "last-updated-datetime": timezone.localtime(program.updated_at)
            .replace(microsecond=0)
            .isoformat(),
            XML_LANG: "es",
            "default-currency": "PEN",
        },
    )
    ET.SubElement(activity, "iati-identifier").text = identifier
    _organization(activity, "reporting-org", program.agency)
    title = ET.SubElement(activity, "title")
    for language in LANGUAGES:
        ET.SubElement(title, "narrative", {XML_LANG: language}).text = program.name
    _text(
        activity,
        "description",
        _(
            "%(name)s: an alternative-development programme run by %(agency)s that helps "
            "coca-growing families in Peru move to licit livelihoods through licit crops, "
            "technical assistance and training, market access and land titles. Figures for "
            "%(year)s, from the programme's registry; aggregates only."
        ),
        {"name": program.name, "agency": program.agency.name, "year": year},
        type="1",
    )
    agreements = _agreements(program, period)
    for role, organization in _participants(program):
        _organization(activity, "participating-org", organization, role=role)
    ET.SubElement(activity, "activity-status", {"code": _status(program, period.today)})
    _dates(activity, program, period)
    ET.SubElement(activity, "recipient-country", {"code": COUNTRY, "percentage": "100"})
    _locations(activity, program)
    ET.SubElement(
        activity,
        "sector",
        {"vocabulary": SECTOR_VOCABULARY, "code": SECTOR_CODE, "percentage": "100"},
    )
    _budgets(activity, agreements, period)
    _transactions(activity, program, agreements, period)
    _results(activity, iati_figures(program=program, period=period), period)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
