"""Contract and delivery dates out of any sane range are field errors (a season in year 9999 was
accepted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from markets.models import Contract
from tests.markets.conftest import ContractMaker, Market, contract_payload, today

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [("season_end", "9999-12-31"), ("season_start", "1066-10-14"), ("season_end", "2099-01-01")],
)
def test_a_season_out_of_range_is_a_field_error(
    coop_client: APIClient, market: Market, field: str, value: str
) -> None:
    response = coop_client.post(
        "/api/v1/contracts/", contract_payload(market, **{field: value}), format="json"
    )
    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        (field, "date_out_of_range")
    ]
    assert not Contract.objects.exists()


def test_a_schedule_and_a_delivery_out_of_range(
    coop_client: APIClient, market: Market, make_contract: ContractMaker
) -> None:
    payload = contract_payload(market, schedule=[{"due_on": "9999-01-01", "expected_kg": "10"}])
    response = coop_client.post("/api/v1/contracts/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "date_out_of_range"
    contract = make_contract()
    delivery = coop_client.post(
        "/api/v1/deliveries/",
        {
            "contract": str(contract.pk),
            "delivered_on": "1900-01-01",
            "weight_kg": "10",
            "quality_grade": "a",
        },
        format="json",
    )
    assert delivery.status_code == 400
    assert [(e["attr"], e["code"]) for e in delivery.json()["errors"]] == [
        ("delivered_on", "date_out_of_range")
    ]
    fine = coop_client.post(
        "/api/v1/contracts/",
        contract_payload(market, season_end=(today() + timedelta(days=300)).isoformat()),
        format="json",
    )
    assert fine.status_code == 201, fine.content
