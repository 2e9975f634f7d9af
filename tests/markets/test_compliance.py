"""Compliance: side-selling and overdue-delivery alerts from the periodic task; reruns never
duplicate alerts; alerts whose condition no longer holds are resolved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from farmers import services as farmers_services
from farmers.models import Household
from markets import services, tasks
from markets.compliance import compliance_check, elapsed_fraction, expected_by_now
from markets.models import Contract, DeliverySchedule, YieldNorm
from registry.choices import AlertKind, AlertStatus
from registry.models import Alert
from tests.farmers.evidence_helpers import PICHARI_FIX, attach_photo, give_plot

from .conftest import SYSTEM, ContractMaker, Market, today

pytestmark = pytest.mark.django_db


def confirm_licit(household: Household, crop: str, ha: str, visited_on: date) -> None:
    if not household.plots.exists():
        give_plot(household.pk)  # 4 ha: the licit crops fit on it
    visit, _c = farmers_services.verification_create(
        actor=SYSTEM,
        household=household.pk,
        visited_on=visited_on,
        method="field_visit",
        coca_ha=Decimal("0"),
        licit_crops=[{"crop": crop, "ha": ha}],
        location=PICHARI_FIX,  # a coca-free visit is confirmed with GPS and a photo
    )
    attach_photo(visit)
    farmers_services.verification_transition(actor=SYSTEM, verification=visit, to="confirmed")


def test_default_norms_are_loaded() -> None:
    norm = YieldNorm.objects.get(crop="cacao", product_form="cacao_dry")
    assert norm.kg_per_ha_per_season == Decimal("600.00")
    assert YieldNorm.objects.filter(crop="coffee", product_form="coffee_parchment").exists()


def test_arithmetic() -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    assert elapsed_fraction(start, end, date(2025, 12, 1)) == 0
    assert elapsed_fraction(start, end, date(2027, 1, 1)) == 1
    assert elapsed_fraction(start, end, date(2026, 7, 2)) == Decimal(182) / Decimal(364)
    # min(volume, ha × norm) × elapsed
    assert expected_by_now(
        hectares=Decimal("2"),
        norm=Decimal("600"),
        volume_kg=Decimal("5000"),
        elapsed=Decimal("0.5"),
    ) == Decimal("600.00")
    assert expected_by_now(
        hectares=Decimal("2"), norm=Decimal("600"), volume_kg=Decimal("800"), elapsed=Decimal("0.5")
    ) == Decimal("400.00")


def _side_selling_contract(make_contract: ContractMaker, market: Market) -> Contract:
    day = today()
    # 1.5 ha of cacao seen on the ground (no installations: a mature stand); 600 kg/ha a year,
    # no harvest calendar (evenly all year) → 900 × 201/365 kg over the 201-day season, 151
    # days of it gone (issue 16: not a flat per-season figure).
    confirm_licit(market.household, "cacao", "1.50", day - timedelta(days=30))
    return make_contract(
        season_start=day - timedelta(days=150),
        season_end=day + timedelta(days=50),
        volume_kg="2000",
    )


def test_side_selling_is_raised_once_and_resolved(
    make_contract: ContractMaker, market: Market
) -> None:
    contract = _side_selling_contract(make_contract, market)
    report = compliance_check(today=today())
    assert report.side_selling == 1
    alert = Alert.objects.get(kind=AlertKind.SIDE_SELLING)
    assert alert.key == f"contract:{contract.pk}"
    assert alert.household_id == market.household.pk
    assert alert.district_id == "080910"
    assert alert.program_id == market.program.pk
    assert alert.details["expected_kg"] == "372.33"  # 900 × 151/365
    assert alert.details["licit_ha"] == "1.50"
    # A rerun (the task, as Celery calls it) creates nothing new.
    result = tasks.check_compliance.delay().get()
    assert result["raised"] == 0
    assert result["side_selling"] == 1
    assert Alert.objects.filter(kind=AlertKind.SIDE_SELLING).count() == 1
    # Deliveries at half the expectation lift the signal; the alert is resolved.
    services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=today(),
        weight_kg="340",
        quality_grade="a",
    )
    report = compliance_check(today=today())
    assert report.side_selling == 0
    assert report.resolved == 1
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert compliance_check(today=today()).resolved == 0


def test_no_signal_without_visit_norm_or_time(make_contract: ContractMaker, market: Market) -> None:
    day = today()
    make_contract(season_start=day - timedelta(days=150), season_end=day + timedelta(days=50))
    assert compliance_check(today=day).side_selling == 0  # no confirmed visit
    confirm_licit(market.household, "cacao", "1.50", day - timedelta(days=30))
    early = make_contract(
        household=market.household.pk,
        season_start=day - timedelta(days=10),
        season_end=day + timedelta(days=200),
    )
    report = compliance_check(today=day)
    assert report.side_selling == 1  # the first contract only: the second has barely started
    assert not Alert.objects.filter(key=f"contract:{early.pk}").exists()
    YieldNorm.objects.all().delete()
    assert compliance_check(today=day).side_selling == 0


def test_latest_confirmed_visit_counts(make_contract: ContractMaker, market: Market) -> None:
    day = today()
    confirm_licit(market.household, "cacao", "3.00", day - timedelta(days=300))
    confirm_licit(market.household, "cacao", "0.10", day - timedelta(days=20))
    make_contract(
        season_start=day - timedelta(days=150), season_end=day + timedelta(days=50), volume_kg="50"
    )
    # 0.1 ha × 600 × 201/365 = 33.04 kg over the season (under the 50 kg contracted), × 151/201
    # of it due: 24.82 expected, 0 delivered.
    report = compliance_check(today=day)
    assert report.side_selling == 1
    assert Alert.objects.get(kind=AlertKind.SIDE_SELLING).details["expected_kg"] == "24.82"


def test_overdue_deliveries(make_contract: ContractMaker, market: Market) -> None:
    day = today()
    contract = make_contract(
        season_start=day - timedelta(days=100),
        season_end=day + timedelta(days=100),
        schedule=[
            {"due_on": day - timedelta(days=60), "expected_kg": "100"},
            {"due_on": day - timedelta(days=20), "expected_kg": "200"},
            {"due_on": day - timedelta(days=3), "expected_kg": "200"},  # within the grace
        ],
    )
    first, second, third = DeliverySchedule.objects.filter(contract=contract).order_by("due_on")
    report = compliance_check(today=day)
    assert report.overdue == 2
    keys = set(Alert.objects.filter(kind=AlertKind.DELIVERY_OVERDUE).values_list("key", flat=True))
    assert keys == {f"schedule:{first.pk}", f"schedule:{second.pk}"}
    assert compliance_check(today=day).raised == 0
    assert Alert.objects.filter(kind=AlertKind.DELIVERY_OVERDUE).count() == 2
    # 150 kg delivered within the first window covers the first date only (cumulative 300).
    services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=day - timedelta(days=58),
        weight_kg="150",
        quality_grade="a",
    )
    report = compliance_check(today=day)
    assert report.overdue == 1
    assert report.resolved == 1
    live = Alert.objects.filter(
        kind=AlertKind.DELIVERY_OVERDUE, status=AlertStatus.OPEN
    ).values_list("key", flat=True)
    assert list(live) == [f"schedule:{second.pk}"]
    # A rejected delivery does not count.
    rejected, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        delivered_on=day - timedelta(days=21),
        weight_kg="500",
        quality_grade="c",
    )
    services.delivery_transition(
        actor=SYSTEM, delivery=rejected, to="rejected", rejection_reason="moisture"
    )
    assert compliance_check(today=day).overdue == 1
    # Once the contract is no longer active, its alerts are resolved.
    services.contract_transition(actor=SYSTEM, contract=contract, to="completed")
    report = compliance_check(today=day)
    assert report.overdue == 0
    assert not Alert.objects.filter(
        kind=AlertKind.DELIVERY_OVERDUE, status=AlertStatus.OPEN
    ).exists()
    assert Alert.objects.filter(kind=AlertKind.DELIVERY_OVERDUE).count() == 2
    del third


def test_the_task_is_registered_under_its_scheduled_name() -> None:
    from django.conf import settings

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.check_compliance.name == "markets.tasks.check_compliance"
    assert tasks.check_compliance.name in names
