"""seed_deliveries (portable and PostgreSQL paths), benchmark_deliveries, check_compliance and
the demo seeder (idempotent)."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q, Sum

from markets.models import BuyerOffer, BuyerProfile, Contract, Delivery
from markets.services import amount_for
from registry.models import Organization

pytestmark = pytest.mark.django_db


def _seed(count: int) -> str:
    call_command("seed_households", "--count", "12", stdout=StringIO())
    out = StringIO()
    call_command(
        "seed_deliveries",
        "--count",
        str(count),
        "--buyers",
        "3",
        "--per-contract",
        "4",
        "--chunk-contracts",
        "5",
        stdout=out,
    )
    return out.getvalue()


def _check_consistency() -> None:
    for delivery in Delivery.objects.select_related("contract")[:200]:
        assert delivery.amount_pen == amount_for(delivery.weight_kg, delivery.price_pen_per_kg)
        assert delivery.household_id == delivery.contract.household_id
        assert delivery.buyer_id == delivery.contract.buyer_id
        assert delivery.district_id == delivery.contract.district_id
        assert delivery.contract.season_start <= delivery.delivered_on
        assert delivery.delivered_on <= delivery.contract.season_end
        if delivery.status == "paid":
            assert delivery.paid_on is not None
    for contract in Contract.objects.all():
        counted = contract.deliveries.exclude(status="rejected").aggregate(s=Sum("weight_kg"))
        accepted = contract.deliveries.filter(Q(status="accepted") | Q(status="paid")).aggregate(
            kg=Sum("weight_kg"), value=Sum("amount_pen")
        )
        assert contract.delivered_kg == (counted["s"] or Decimal("0"))
        assert contract.accepted_kg == (accepted["kg"] or Decimal("0"))
        assert contract.accepted_value_pen == (accepted["value"] or Decimal("0"))
        # Every seeded contract is with a family offered to its buyer.
        assert BuyerOffer.objects.filter(
            household_id=contract.household_id, buyer_id=contract.buyer_id, withdrawn_at=None
        ).exists()
    # Seeded accepted and paid deliveries count as confirmed by the programme.
    assert not Delivery.objects.filter(
        status__in=["accepted", "paid"], confirmed_at__isnull=True
    ).exists()


def test_seed_deliveries_makes_consistent_rows() -> None:
    out = _seed(37)
    assert "Seeded 37 deliveries" in out
    assert Delivery.objects.count() == 37
    assert Contract.objects.count() == 10  # ceil(37 / 4)
    assert Contract.objects.values("household").distinct().count() <= 12
    assert set(Delivery.objects.values_list("status", flat=True)) >= {"recorded", "paid"}
    assert Organization.objects.filter(code__startswith="bench-buyer-").count() == 3
    assert BuyerProfile.objects.filter(organization__code="bench-buyer-1").exists()
    _check_consistency()


@pytest.mark.postgres
def test_seed_deliveries_on_postgresql_uses_the_set_based_path() -> None:
    _seed(45)
    assert Delivery.objects.count() == 45
    assert Contract.objects.count() == 12
    assert not Contract.objects.exclude(request_hash="").exists()
    _check_consistency()


def test_seed_deliveries_needs_households() -> None:
    with pytest.raises(CommandError):
        call_command("seed_deliveries", "--count", "10", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("seed_deliveries", "--count", "0", stdout=StringIO())


def test_benchmark_runs_on_a_small_database() -> None:
    _seed(40)
    out = StringIO()
    call_command("benchmark_deliveries", "--requests", "5", stdout=out)
    text = out.getvalue()
    assert "deliveries in database: 40" in text
    assert text.count("p50=") == 3
    assert "queries per list request by page_size" in text


def test_check_compliance_command() -> None:
    out = StringIO()
    call_command("check_compliance", "--today", "2026-06-01", stdout=out)
    assert "raised: 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("check_compliance", "--today", "mañana", stdout=StringIO())


def test_seed_demo_is_idempotent_and_goes_through_the_services() -> None:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    assert "Demo contracts:" in out.getvalue()
    contracts = Contract.objects.count()
    deliveries = Delivery.objects.count()
    assert contracts >= 6
    assert deliveries >= 4
    assert Contract.objects.filter(status="active").exists()
    assert Delivery.objects.filter(status="paid").exists()
    assert BuyerProfile.objects.filter(organization__code="coop-pangoa").exists()
    assert Organization.objects.get(code="exportadora-vraem").ruc == "20601234565"
    from registry.models import ChangeRecord

    assert ChangeRecord.objects.filter(
        channel="demo",
        object_id__in=[str(pk) for pk in Contract.objects.values_list("pk", flat=True)],
    ).exists()
    # Demo contracts are with families the programme offered to the buyer (the cooperative's
    # contract sells its members' cacao: no household of its own).
    for contract in Contract.objects.filter(household__isnull=False):
        assert BuyerOffer.objects.filter(
            household=contract.household, buyer=contract.buyer, withdrawn_at=None
        ).exists()
    offers = BuyerOffer.objects.count()
    assert offers > contracts // 2
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Contract.objects.count() == contracts
    assert Delivery.objects.count() == deliveries
    assert BuyerOffer.objects.count() == offers
