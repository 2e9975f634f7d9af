"""Contract compliance: fulfilment, possible side-selling and overdue deliveries.

Run nightly by ``markets.tasks.check_compliance``; set-based (contracts are read in chunks,
with a fixed number of queries per chunk), and idempotent: a live alert is unique per condition,
so reruns add nothing, and alerts whose condition no longer holds are resolved.

Side-selling: a family under contract is expected to deliver, by now, the smaller of the
contracted volume and what its stands of the crop should yield over the season, times the share
of that season's harvest already due. What the stands yield is worked out month by month over
the season: each of the household's crop installations standing that month (planted, not lost)
yields ``area × YieldNorm(age)`` a year, spread evenly over the days of the harvest months of
the crop's calendar in the contract's zone (``HarvestCalendar``; a crop with no calendar is
harvested evenly all year: a season of N days expects N/365 of a year's harvest), where
``YieldNorm(age)`` is the zone's norm for the crop and product form times the share a stand of
that age (whole years since planting) yields: young cacao and coffee yield nothing for their
first years. A household with no installation of the crop falls back to the licit hectares of
its latest confirmed verification visit, taken as a mature stand. When at least
``MARKETS_SIDE_SELLING_MIN_ELAPSED`` of the season's expected harvest is due and the kilograms
delivered (not rejected) are below ``MARKETS_SIDE_SELLING_RATIO`` of the expectation, a
``side_selling`` alert is raised; no stand and no visit, no norm, or nothing expected (stands
too young, no harvest month in the season) means no signal.

Overdue: a scheduled delivery is overdue when its due date plus ``MARKETS_DELIVERY_GRACE_DAYS``
has passed and the kilograms delivered (not rejected) by then do not cover the kilograms
scheduled up to that date (cumulative, so an early large delivery covers later dates).

Price below the contract: a delivery paid under the contract's fixed price (or its floor) is
recorded only with a ``price_reason`` and flagged ``price_below_contract``; the run lists the
flagged deliveries of active contracts (``report.keys["price_below_contract"]``) for review.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from registry.alerts import AlertSpec, alerts_raise_many, alerts_resolve_missing
from registry.choices import AlertKind, AlertSeverity, Role
from registry.display import day, number
from registry.models import District

from .choices import ContractStatus
from .models import Contract, Delivery, DeliverySchedule, HarvestCalendar, YieldNorm
from .selectors import licit_hectares, stands_by_household
from .workflow import COUNTED_DELIVERY_STATES

CHUNK = 1000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


@dataclass
class ComplianceReport:
    """What a compliance run found and did."""

    contracts: int = 0
    side_selling: int = 0
    overdue: int = 0
    price_below_contract: int = 0
    raised: int = 0
    resolved: int = 0
    keys: dict[str, set[str]] = field(default_factory=dict)


def _active_contract_chunks() -> Iterator[list[dict[str, Any]]]:
    fields = (
        "id",
        "household_id",
        "district_id",
        "program_id",
        "crop",
        "product_form",
        "season_start",
        "season_end",
        "volume_kg",
        "delivered_kg",
    )
    last = None
    while True:
        qs = Contract.objects.filter(status=ContractStatus.ACTIVE).order_by("id")
        if last is not None:
            qs = qs.filter(id__gt=last)
        chunk = list(qs.values(*fields)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["id"]


def elapsed_fraction(start: date, end: date, today: date) -> Decimal:
    """The share of the season ``[start, end]`` that has passed by ``today`` (0–1)."""
    if today <= start:
        return Decimal("0")
    if today >= end:
        return Decimal("1")
    return Decimal((today - start).days) / Decimal((end - start).days)


def expected_by_now(
    *, hectares: Decimal, norm: Decimal, volume_kg: Decimal, elapsed: Decimal
) -> Decimal:
    """Kilograms a contract should have seen by now: min(volume, ha × norm) × elapsed share."""
    return (min(volume_kg, hectares * norm) * elapsed).quantize(Decimal("0.01"), ROUND_HALF_UP)


ALL_YEAR = tuple(range(1, 13))
#: A stand: (area in ha, planting date or ``None`` for a mature stand, day it was lost or None).
Stand = tuple[Decimal, date | None, date | None]


@dataclass(frozen=True)
class Norms:
    """The yield norms and harvest calendars, by zone (a department; ``None``: every zone)."""

    norms: dict[tuple[str, str, str | None], YieldNorm]
    calendars: dict[tuple[str, str | None], tuple[int, ...]]

    @classmethod
    def load(cls) -> Norms:
        """Every norm and calendar (two queries: a few rows each)."""
        return cls(
            {(n.crop, n.product_form, n.department_id): n for n in YieldNorm.objects.all()},
            {
                (c.crop, c.department_id): tuple(sorted({int(m) for m in c.months}))
                for c in HarvestCalendar.objects.all()
            },
        )

    def norm(self, crop: str, form: str, department: str | None) -> YieldNorm | None:
        """The zone's norm for the crop and form, else the one of every zone."""
        return self.norms.get((crop, form, department)) or self.norms.get((crop, form, None))

    def months(self, crop: str, department: str | None) -> tuple[int, ...]:
        """The zone's harvest months of the crop, else every zone's, else all year."""
        return (
            self.calendars.get((crop, department)) or self.calendars.get((crop, None)) or ALL_YEAR
        )


def _month_starts(start: date, end: date) -> Iterator[date]:
    day = date(start.year, start.month, 1)
    while day <= end:
        yield day
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _age_years(planted_on: date, on: date) -> int:
    """Whole years from ``planted_on`` to ``on``."""
    return on.year - planted_on.year - ((on.month, on.day) < (planted_on.month, planted_on.day))


def harvest_days_per_year(months: tuple[int, ...]) -> int:
    """The days of a (common) year that fall in ``months``."""
    return sum(monthrange(2025, m)[1] for m in months)


def expected_harvest(
    stands: list[Stand], norm: YieldNorm, months: tuple[int, ...], start: date, end: date
) -> Decimal:
    """Kilograms ``stands`` should yield from ``start`` to ``end`` (both included): a stand's
    yearly harvest ``area × norm × share(age)`` comes in evenly over the days of the harvest
    months (with no calendar: every day of the year, so a window of N days expects N/365 of
    it); the age is taken in the middle of each month, and a stand counts in a month it stood
    in (planted by its middle, not lost before it)."""
    if end < start or not months:
        return Decimal("0")
    per_day = norm.kg_per_ha_per_season / Decimal(harvest_days_per_year(months))
    total = Decimal("0")
    for first in _month_starts(start, end):
        if first.month not in months:
            continue
        last = date(first.year, first.month, monthrange(first.year, first.month)[1])
        days = (min(last, end) - max(first, start)).days + 1
        if days <= 0:
            continue
        middle = first.replace(day=15)
        for area, planted_on, lost_on in stands:
            if planted_on is not None and planted_on > middle:
                continue
            if lost_on is not None and lost_on <= middle:
                continue
            share = (
                Decimal("1")
                if planted_on is None
                else norm.share_at(_age_years(planted_on, middle))
            )
            total += area * per_day * share * days
    return total


def _side_selling_specs(chunk: list[dict[str, Any]], norms: Norms, today: date) -> list[AlertSpec]:
    ratio = Decimal(str(_setting("MARKETS_SIDE_SELLING_RATIO", "0.5")))
    min_elapsed = Decimal(str(_setting("MARKETS_SIDE_SELLING_MIN_ELAPSED", "0.5")))
    # A producer organisation's contract has no household of its own to hold the side-selling
    # check against (its members sell through it); overdue deliveries are still checked.
    chunk = [c for c in chunk if c["household_id"] is not None]
    households = [c["household_id"] for c in chunk]
    stands = stands_by_household(households, {c["crop"] for c in chunk})
    hectares = licit_hectares(households)
    departments = dict(
        District.objects.filter(ubigeo__in={c["district_id"] for c in chunk}).values_list(
            "ubigeo", "department_id"
        )
    )
    specs: list[AlertSpec] = []
    for c in chunk:
        zone = departments.get(c["district_id"])
        norm = norms.norm(c["crop"], c["product_form"], zone)
        if norm is None:
            continue
        own = stands.get((str(c["household_id"]), c["crop"]))
        seen = hectares.get((str(c["household_id"]), c["crop"]))
        if not own and not seen:
            continue
        crop_stands: list[Stand] = list(own) if own else [(seen or Decimal("0"), None, None)]
        ha = sum((area for area, _planted, _lost in crop_stands), Decimal("0"))
        months = norms.months(c["crop"], zone)
        season = expected_harvest(crop_stands, norm, months, c["season_start"], c["season_end"])
        if season <= 0:
            continue
        due = expected_harvest(
            crop_stands, norm, months, c["season_start"], min(today, c["season_end"])
        )
        elapsed = due / season
        if elapsed < min_elapsed:
            continue
        expected = (min(c["volume_kg"], season) * elapsed).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if expected <= 0 or c["delivered_kg"] >= ratio * expected:
            continue
        specs.append(
            AlertSpec(
                kind=AlertKind.SIDE_SELLING,
                key=f"contract:{c['id']}",
                message=_(
                    "Deliveries of %(delivered)s kg are well below the %(expected)s kg expected "
                    "by now from %(ha)s ha: possible side-selling."
                )
                % {"delivered": c["delivered_kg"], "expected": expected, "ha": ha},
                district_id=c["district_id"],
                program_id=c["program_id"],
                household_id=c["household_id"],
                severity=AlertSeverity.WARNING,
                owner_role=Role.FIELD_OFFICER,
                details={
                    "contract": str(c["id"]),
                    "delivered_kg": str(c["delivered_kg"]),
                    "expected_kg": str(expected),
                    "licit_ha": str(ha),
                    "norm_kg_per_ha": str(norm.kg_per_ha_per_season),
                    "season_expected_kg": str(season.quantize(Decimal("0.01"))),
                    "harvest_months": list(months),
                    "from_installations": bool(own),
                    "season_elapsed": str(elapsed.quantize(Decimal("0.01"))),
                },
            )
        )
    return specs


def _overdue_specs(chunk: list[dict[str, Any]], today: date) -> list[AlertSpec]:
    grace = timedelta(days=int(_setting("MARKETS_DELIVERY_GRACE_DAYS", 7)))
    by_id = {c["id"]: c for c in chunk}
    schedules = (
        DeliverySchedule.objects.filter(contract_id__in=list(by_id), due_on__lt=today - grace)
        .order_by("contract_id", "due_on")
        .values_list("id", "contract_id", "due_on", "expected_kg")
    )
    rows = list(schedules)
    if not rows:
        return []
    deliveries: dict[Any, list[tuple[date, Decimal]]] = {}
    for contract_id, delivered_on, weight in (
        Delivery.objects.filter(
            contract_id__in={r[1] for r in rows}, status__in=COUNTED_DELIVERY_STATES
        )
        .order_by()
        .values_list("contract_id", "delivered_on", "weight_kg")
    ):
        deliveries.setdefault(contract_id, []).append((delivered_on, weight))
    specs: list[AlertSpec] = []
    cumulative: dict[Any, Decimal] = {}
    for schedule_id, contract_id, due_on, expected_kg in rows:
        cumulative[contract_id] = cumulative.get(contract_id, Decimal("0")) + expected_kg
        delivered = sum(
            (kg for day, kg in deliveries.get(contract_id, []) if day <= due_on + grace),
            Decimal("0"),
        )
        if delivered >= cumulative[contract_id]:
            continue
        c = by_id[contract_id]
        specs.append(
            AlertSpec(
                kind=AlertKind.DELIVERY_OVERDUE,
                key=f"schedule:{schedule_id}",
                message=_("A delivery of %(kg)s kg was due on %(due)s and has not been received.")
                % {"kg": number(expected_kg), "due": day(due_on)},
                district_id=c["district_id"],
                program_id=c["program_id"],
                household_id=c["household_id"],
                severity=AlertSeverity.WARNING,
                owner_role=Role.FIELD_OFFICER,
                due_on=due_on,
                details={
                    "contract": str(contract_id),
                    "scheduled_kg_to_date": str(cumulative[contract_id]),
                    "delivered_kg_to_date": str(delivered),
                },
            )
        )
    return specs


def _below_price_keys(chunk: list[dict[str, Any]]) -> set[str]:
    """``delivery:<id>`` of the chunk's deliveries flagged below the contract's price (one
    query; rejected deliveries left out)."""
    return {
        f"delivery:{pk}"
        for pk in Delivery.objects.filter(
            contract_id__in=[c["id"] for c in chunk],
            price_below_contract=True,
            status__in=COUNTED_DELIVERY_STATES,
        )
        .order_by()
        .values_list("id", flat=True)
    }


def compliance_check(*, today: date) -> ComplianceReport:
    """Raise side-selling and overdue-delivery alerts for active contracts; resolve the alerts
    whose condition no longer holds; list the deliveries paid below the contract. Idempotent."""
    norms = Norms.load()
    report = ComplianceReport()
    side_keys: set[str] = set()
    overdue_keys: set[str] = set()
    below_keys: set[str] = set()
    for chunk in _active_contract_chunks():
        below_keys.update(_below_price_keys(chunk))
        report.contracts += len(chunk)
        side = _side_selling_specs(chunk, norms, today)
        overdue = _overdue_specs(chunk, today)
        side_keys.update(s.key for s in side)
        overdue_keys.update(s.key for s in overdue)
        report.raised += alerts_raise_many([*side, *overdue])
    report.side_selling = len(side_keys)
    report.overdue = len(overdue_keys)
    report.price_below_contract = len(below_keys)
    report.resolved = alerts_resolve_missing(
        AlertKind.SIDE_SELLING, side_keys, key_prefix="contract:"
    ) + alerts_resolve_missing(AlertKind.DELIVERY_OVERDUE, overdue_keys, key_prefix="schedule:")
    report.keys = {
        "side_selling": side_keys,
        "delivery_overdue": overdue_keys,
        "price_below_contract": below_keys,
    }
    return report
