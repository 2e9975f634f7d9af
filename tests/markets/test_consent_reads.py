"""Issue 19 point 2 in the markets API: a buyer sees the family's name and community on its
contracts and deliveries only while the family's current consent includes ``buyer_sharing``;
the programme sees them under ``registry``. A withdrawal takes effect at once; lists keep their
query budget; offers show the pseudonym only, whatever the consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers.models import Consent
from markets.models import Contract

from .conftest import ContractMaker, Market, make_household, today

pytestmark = pytest.mark.django_db


def _narrow(market: Market, purposes: list[str]) -> None:
    Consent.objects.create(
        household=market.household, signed_on=today(), purposes=purposes, reason="retira"
    )


def _deliver(client: APIClient, contract: Contract) -> None:
    response = client.post(
        "/api/v1/deliveries/",
        {
            "contract": str(contract.pk),
            "delivered_on": (today() - timedelta(days=2)).isoformat(),
            "weight_kg": "100",
            "quality_grade": "a",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_buyer_sees_the_name_only_with_buyer_sharing(
    make_contract: ContractMaker,
    market: Market,
    coop_client: APIClient,
    staff_client: APIClient,
) -> None:
    contract = make_contract()
    _deliver(coop_client, contract)
    contract_url = f"/api/v1/contracts/{contract.pk}/"
    assert coop_client.get(contract_url).json()["household"]["head_name"] == "Juana Quispe Huamán"
    # The family keeps partner sharing but withdraws buyer sharing: the buyer loses the name at
    # once, on the contract, the contracts list and the deliveries list.
    _narrow(market, ["registry", "partner_sharing"])
    pseudonym = {
        "id": str(market.household.pk),
        "code": market.household.code,
        "head_name": None,
        "district": "080910",
        "community": None,
    }
    assert coop_client.get(contract_url).json()["household"] == pseudonym
    (listed,) = coop_client.get("/api/v1/contracts/").json()["results"]
    assert listed["household"] == pseudonym
    (delivery,) = coop_client.get("/api/v1/deliveries/").json()["results"]
    assert delivery["household"] == pseudonym
    # Statuses, quantities and prices are the contract's own: kept.
    assert delivery["weight_kg"] == "100.00" and listed["volume_kg"] == "1500.00"
    # The programme's own staff still see the family (registry).
    staff_view = staff_client.get(contract_url).json()["household"]
    assert staff_view["head_name"] == "Juana Quispe Huamán"


def test_offers_show_the_pseudonym_whatever_the_consent(
    market: Market, coop_client: APIClient
) -> None:
    for offer in coop_client.get("/api/v1/offers/").json()["results"]:
        assert set(offer["household"]) == {"id", "code", "district"}


def test_masked_lists_keep_their_budget(
    make_contract: ContractMaker, market: Market, coop_client: APIClient
) -> None:
    make_contract()
    coop_client.get("/api/v1/contracts/")
    with CaptureQueriesContext(connection) as one:
        assert len(coop_client.get("/api/v1/contracts/").json()["results"]) == 1
    for n in range(12):
        household = make_household(market.program, given="Eva", surnames=f"Rojas {n}")
        if n % 2:
            Consent.objects.create(
                household=household, signed_on=today(), purposes=["registry"], reason="retira"
            )
        make_contract(household=household.pk, status="draft")
    with CaptureQueriesContext(connection) as many:
        results = coop_client.get("/api/v1/contracts/", {"page_size": 100}).json()["results"]
    assert len(results) == 13
    assert {r["household"]["head_name"] is None for r in results} == {True, False}
    assert len(many.captured_queries) == len(one.captured_queries)
