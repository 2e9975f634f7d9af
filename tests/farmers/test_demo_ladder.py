"""The demo tells a true story about the ladder (issue 15): after ``seed_demo`` the families
that sell — accepted or paid deliveries the programme confirmed — and hold no title are
``market_linked``: tenure is a track of its own, not a gate to the market."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household
from markets.choices import DeliveryStatus
from markets.models import Delivery
from titles.choices import TitleStatus
from titles.models import TitleApplication

pytestmark = pytest.mark.django_db


def test_after_seed_demo_selling_families_without_title_are_market_linked(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # seed_demo runs the sweep (run_periodic); its recomputes are queued on commit.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--force", stdout=StringIO())
    selling = set(
        Delivery.objects.filter(
            status__in=[DeliveryStatus.ACCEPTED, DeliveryStatus.PAID], confirmed_at__isnull=False
        ).values_list("household_id", flat=True)
    )
    titled = set(
        TitleApplication.objects.filter(status=TitleStatus.REGISTERED).values_list(
            "household_id", flat=True
        )
    )
    untitled_sellers = Household.objects.filter(
        pk__in=selling - titled, status=HouseholdStatus.ACTIVE
    )
    assert untitled_sellers.count() >= 5
    stages = {h.import_ref: h.stage for h in untitled_sellers}
    assert set(stages.values()) == {Stage.MARKET_LINKED}, stages
    for h in untitled_sellers:
        assert "tenure" not in h.milestones
        assert h.milestones["market_linked"]
    # No household of the demo sits at a rung that no longer exists.
    assert not Household.objects.filter(stage="formalized").exists()
    # Issue 16: crops stand on the demo plots (some planted before the EUDR cut-off), and the
    # VRAEM's harvest calendars are loaded.
    from datetime import date

    from farmers.models import CropInstallation
    from markets.models import HarvestCalendar

    assert CropInstallation.objects.filter(planted_on__lte=date(2020, 12, 31)).exists()
    assert CropInstallation.objects.filter(planted_on__gt=date(2020, 12, 31)).exists()
    assert set(CropInstallation.objects.values_list("crop", flat=True)) == {"cacao", "coffee"}
    assert HarvestCalendar.objects.get(crop="cacao", department="08").months == [3, 4, 5, 6, 7]
    # Titled families carry the tenure milestone, whatever their stage.
    for h in Household.objects.filter(pk__in=titled, status=HouseholdStatus.ACTIVE):
        assert h.milestones.get("tenure"), h.import_ref
    # Issue 16, point 1: a cooperative of the VRAEM sells its members' cacao to the exporter;
    # its contract's EUDR file lists the plots of the members that delivered under it.
    from markets.eudr import eudr_collection
    from markets.models import Contract, ProducerMembership

    coop_contract = Contract.objects.get(seller_organization__code="coop-cacao-vraem")
    assert coop_contract.household_id is None and coop_contract.buyer.code == "exportadora-vraem"
    member_sales = Delivery.objects.filter(contract=coop_contract, status=DeliveryStatus.ACCEPTED)
    sellers = set(member_sales.values_list("household_id", flat=True))
    assert len(sellers) >= 3
    members = ProducerMembership.objects.filter(organization=coop_contract.seller_organization)
    assert sellers < set(members.values_list("household_id", flat=True))
    built = eudr_collection(coop_contract)
    assert built.data["features"] and set(built.household_ids) <= sellers
