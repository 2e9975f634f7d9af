"""Contract compliance: fulfilment, possible side-selling and overdue deliveries.

Run nightly by ``markets.tasks.check_compliance``; set-based (contracts are read in chunks,
with a fixed number of queries per chunk), and idempotent: a live alert is unique per condition,
so reruns add nothing, and alerts whose condition no longer holds are resolved.

Side-selling: a family under contract is expected to deliver, by now, the smaller of the
contracted volume and what its licit hectares of the crop should yield
(``licit ha × YieldNorm.kg_per_ha_per_season``), pro rata of the season elapsed. When at least
``MARKETS_SIDE_SELLING_MIN_ELAPSED`` of the season has passed and the kilograms delivered (not
rejected) are below ``MARKETS_SIDE_SELLING_RATIO`` of that, a ``side_selling`` alert is raised.
Licit hectares are those of the household's latest confirmed verification visit (what field
officers saw, not what was declared); no visit or no norm means no signal.

Overdue: a scheduled delivery is overdue when its due date plus ``MARKETS_DELIVERY_GRACE_DAYS``
has passed and the kilograms delivered (not rejected) by then do not cover the kilograms
scheduled up to that date (cumulative, so an early large delivery covers later dates).

Price below the contract: a delivery paid under the contract's fixed price (or its floor) is
recorded only with a ``price_reason`` and flagged ``price_below_contract``; the run lists the
flagged deliveries of active contracts (``report.keys["price_below_contract"]``) for review.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from registry.alerts import AlertSpec, alerts_raise_many, alerts_resolve_missing
from registry.choices import AlertKind, AlertSeverity, Role

from .choices import ContractStatus
from .models import Contract, Delivery, DeliverySchedule, YieldNorm
from .selectors import licit_hectares
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


def _side_selling_specs(
    chunk: list[dict[str, Any]], norms: dict[tuple[str, str], Decimal], today: date
) -> list[AlertSpec]:
    ratio = Decimal(str(_setting("MARKETS_SIDE_SELLING_RATIO", "0.5")))
    min_elapsed = Decimal(str(_setting("MARKETS_SIDE_SELLING_MIN_ELAPSED", "0.5")))
    hectares = licit_hectares(c["household_id"] for c in chunk)
    specs: list[AlertSpec] = []
    for c in chunk:
        norm = norms.get((c["crop"], c["product_form"]))
        ha = hectares.get((str(c["household_id"]), c["crop"]))
        elapsed = elapsed_fraction(c["season_start"], c["season_end"], today)
        if norm is None or not ha or elapsed < min_elapsed:
            continue
        expected = expected_by_now(
            hectares=ha, norm=norm, volume_kg=c["volume_kg"], elapsed=elapsed
        )
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
                    "norm_kg_per_ha": str(norm),
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
                % {"kg": expected_kg, "due": due_on.isoformat()},
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
    norms = {(n.crop, n.product_form): n.kg_per_ha_per_season for n in YieldNorm.objects.all()}
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
