"""The side-selling check with crop installations (issue 16, point 2): the expected harvest is
Σ installations' area × norm(age), spread over the crop's harvest months in the contract's zone;
young stands expect nothing; a household without installations falls back to its latest visit's
hectares (a mature stand); a zone's calendar or norm beats the national one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from farmers.models import CropInstallation, Household
from markets import services
from markets.compliance import Norms, expected_harvest
from markets.models import HarvestCalendar, YieldNorm
from registry.choices import AlertKind
from registry.models import Alert
from tests.farmers.evidence_helpers import give_plot

from .conftest import SYSTEM, ContractMaker, Market, today
from .test_compliance import confirm_licit

pytestmark = pytest.mark.django_db
YEAR = today().year
CUSCO = "08"  # Pichari's department


def cacao_norm() -> YieldNorm:
    return YieldNorm.objects.get(crop="cacao", product_form="cacao_dry", department=None)


def test_default_norms_grow_with_age() -> None:
    norm = cacao_norm()
    assert (norm.bearing_from_years, norm.full_from_years) == (3, 5)
    shares = [norm.share_at(age) for age in range(7)]
    assert shares == [0, 0, 0, Decimal(1) / 3, Decimal(2) / 3, 1, 1]
    coffee = YieldNorm.objects.get(crop="coffee", product_form="coffee_parchment")
    assert (coffee.bearing_from_years, coffee.full_from_years) == (2, 4)


AGE_CASES = [
    # planted on, window, months, expected kg for 1 ha at 600 kg/ha a year (cacao: 3 → 5
    # years), spread over the days of the harvest months
    pytest.param(date(2010, 1, 1), (1, 12), (3, 4, 5, 6, 7), "600", id="mature-full-year"),
    pytest.param(date(2010, 1, 1), (1, 4), (3, 4, 5, 6, 7), "239.22", id="mature-two-of-five"),
    pytest.param(date(2010, 1, 1), (8, 12), (3, 4, 5, 6, 7), "0", id="out-of-season"),
    pytest.param(date(2024, 6, 1), (1, 12), (3, 4, 5, 6, 7), "0", id="young-nothing"),
    pytest.param(date(2022, 1, 1), (1, 12), (3, 4, 5, 6, 7), "400", id="four-years-two-thirds"),
    pytest.param(date(2010, 1, 1), (1, 6), tuple(range(1, 13)), "297.53", id="no-calendar-even"),
]


@pytest.mark.parametrize(("planted", "window", "months", "kg"), AGE_CASES)
def test_expected_harvest_by_age_and_calendar(
    planted: date, window: tuple[int, int], months: tuple[int, ...], kg: str
) -> None:
    start = date(2026, window[0], 1)
    end = date(2026, window[1], 28 if window[1] == 2 else 30 if window[1] in (4, 6, 9, 11) else 31)
    got = expected_harvest([(Decimal("1"), planted, None)], cacao_norm(), months, start, end)
    assert got.quantize(Decimal("0.01")) == Decimal(kg)


def test_a_stand_lost_midway_counts_until_then() -> None:
    stand = (Decimal("1"), date(2010, 1, 1), date(2026, 5, 1))  # lost before mid-May
    got = expected_harvest(
        [stand], cacao_norm(), (3, 4, 5, 6, 7), date(2026, 1, 1), date(2026, 12, 31)
    )
    assert got.quantize(Decimal("0.01")) == Decimal("239.22")  # March and April


def install(household: Household, ha: str, planted_on: date) -> None:
    plot = household.plots.first() or give_plot(household.pk)
    CropInstallation.objects.create(
        household=household,
        plot=plot,
        crop="cacao",
        variety="ccn51",
        area_ha=Decimal(ha),
        plants=100,
        planted_on=planted_on,
    )


def season_contract(make_contract: ContractMaker, **extra: Any) -> Any:
    return make_contract(
        # Signed on the season's first day, after the family's enrolment (05/01).
        season_start=date(YEAR, 1, 6),
        season_end=date(YEAR, 12, 31),
        volume_kg="5000",
        **extra,
    )


def side_selling(day: date) -> dict[str, Any] | None:
    from markets.compliance import compliance_check

    compliance_check(today=day)
    alert = Alert.objects.filter(kind=AlertKind.SIDE_SELLING).order_by("-id").first()
    return None if alert is None or alert.status == "resolved" else alert.details


def test_young_stands_expect_nothing(make_contract: ContractMaker, market: Market) -> None:
    install(market.household, "2", date(YEAR - 1, 6, 1))
    season_contract(make_contract)
    assert side_selling(date(YEAR, 11, 1)) is None


def test_mature_stands_by_the_calendar(make_contract: ContractMaker, market: Market) -> None:
    install(market.household, "1", date(2010, 1, 1))
    install(market.household, "1", date(YEAR - 4, 1, 1))  # four years: two thirds
    services.harvest_calendar_save(actor=SYSTEM, crop="cacao", months=[3, 4, 5, 6, 7])
    season_contract(make_contract)
    # Before the harvest has half come in (Mar–Apr of Mar–Jul): no signal, whatever the date.
    assert side_selling(date(YEAR, 4, 30)) is None
    details = side_selling(date(YEAR, 8, 1))
    assert details is not None
    # 600 + 400 kg for the season, all of it due by August.
    assert (details["season_expected_kg"], details["expected_kg"]) == ("1000.00", "1000.00")
    assert details["from_installations"] is True and details["harvest_months"] == [3, 4, 5, 6, 7]


def test_a_zones_calendar_beats_the_national_one(
    make_contract: ContractMaker, market: Market
) -> None:
    install(market.household, "1", date(2010, 1, 1))
    services.harvest_calendar_save(actor=SYSTEM, crop="cacao", months=[3, 4, 5, 6, 7])
    services.harvest_calendar_save(actor=SYSTEM, crop="cacao", months=[11, 12], department=CUSCO)
    season_contract(make_contract)
    assert side_selling(date(YEAR, 10, 1)) is None  # Cusco's harvest has not started
    # A zone's norm beats the national one too.
    services.yield_norm_save(
        actor=SYSTEM,
        crop="cacao",
        product_form="cacao_dry",
        kg_per_ha_per_season="300",
        department=CUSCO,
        bearing_from_years=3,
        full_from_years=5,
    )
    details = side_selling(date(YEAR, 12, 31))
    assert details is not None and details["season_expected_kg"] == "300.00"


def test_without_installations_the_visit_counts_as_a_mature_stand(
    make_contract: ContractMaker, market: Market
) -> None:
    confirm_licit(market.household, "cacao", "1.50", date(YEAR, 1, 15))
    services.harvest_calendar_save(actor=SYSTEM, crop="cacao", months=[3, 4, 5, 6, 7])
    season_contract(make_contract)
    details = side_selling(date(YEAR, 8, 1))
    assert details is not None
    assert (details["season_expected_kg"], details["from_installations"]) == ("900.00", False)


def test_bad_calendars_and_ages_write_nothing() -> None:
    from django.core.exceptions import ValidationError

    for months in ([], [0, 3], [13], ["x"]):
        with pytest.raises(ValidationError):
            services.harvest_calendar_save(actor=SYSTEM, crop="cacao", months=months)
    with pytest.raises(ValidationError) as order:
        services.yield_norm_save(
            actor=SYSTEM,
            crop="cacao",
            product_form="cacao_dry",
            kg_per_ha_per_season="600",
            bearing_from_years=5,
            full_from_years=3,
        )
    assert order.value.error_dict["full_from_years"][0].code == "ages_out_of_order"
    assert not HarvestCalendar.objects.exists()
    assert (cacao_norm().bearing_from_years, cacao_norm().full_from_years) == (3, 5)
    assert Norms.load().months("cacao", CUSCO) == tuple(range(1, 13))
