"""A contract names the funder of the programme's support to it (issue 17): a funder
organization, or a field error; the list filters by ``funder``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from markets.models import Contract
from registry.choices import OrganizationKind
from tests.factories import OrganizationFactory

from .conftest import Market, contract_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/contracts/"


def test_contract_funding_source(staff_client: APIClient, market: Market) -> None:
    OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)
    refused = staff_client.post(
        URL, contract_payload(market, funding_source="coop-pangoa"), format="json"
    )
    assert refused.status_code == 400
    assert ("funding_source", "not_funder") in {
        (e["attr"], e["code"]) for e in refused.json()["errors"]
    }
    assert not Contract.objects.exists()
    made = staff_client.post(URL, contract_payload(market, funding_source="usaid"), format="json")
    assert made.status_code == 201, made.content
    assert made.json()["funding_source"] == "usaid"
    assert len(staff_client.get(f"{URL}?funder=usaid").json()["results"]) == 1
    assert staff_client.get(f"{URL}?funder=otro").json()["results"] == []
