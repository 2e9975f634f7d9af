"""Twenty retries of one contract and of one delivery arrive at once (PostgreSQL): one record is
stored and every request answers 201 or 200 with it."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from markets.models import Contract, Delivery
from tests.concurrency import parallel_posts
from tests.markets.conftest import ContractMaker, Market, contract_payload, today

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("geography"),
]
PARALLEL = 20


def test_parallel_retries_of_one_contract(coop_client: APIClient, market: Market) -> None:
    cid = str(uuid.uuid4())
    payload = contract_payload(market, id=cid)
    results = parallel_posts(coop_client, "/api/v1/contracts/", [payload] * PARALLEL)
    statuses = Counter(status for status, _body in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses[201] == 1
    assert Contract.objects.filter(pk=cid).count() == 1


def test_parallel_retries_of_one_delivery(
    coop_client: APIClient, make_contract: ContractMaker
) -> None:
    contract = make_contract()
    did = str(uuid.uuid4())
    payload = {
        "id": did,
        "contract": str(contract.pk),
        "delivered_on": today().isoformat(),
        "weight_kg": "120",
        "quality_grade": "a",
    }
    results = parallel_posts(coop_client, "/api/v1/deliveries/", [payload] * PARALLEL)
    statuses = Counter(status for status, _body in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses[201] == 1
    assert Delivery.objects.filter(pk=did).count() == 1


def test_parallel_memberships_of_one_household(market: Market) -> None:
    """Issue 16: ten requests add the same household to a cooperative at once: one membership
    is stored (the open-membership constraint), the others get the field error."""
    from markets.models import ProducerMembership
    from registry.choices import OrganizationKind, Scope
    from registry.models import District
    from tests.factories import OrganizationFactory
    from tests.markets.conftest import PICHARI, key_client

    coop = OrganizationFactory.create(
        code="coop-race",
        kind=OrganizationKind.PRODUCER_ORG,
        district=District.objects.get(pk=PICHARI),
    )
    client = key_client(market.implementer, [Scope.CONTRACTS_READ, Scope.HOUSEHOLDS_WRITE])
    payload = {
        "organization": coop.code,
        "household": str(market.household.pk),
        "joined_on": "2026-02-01",
    }
    results = parallel_posts(client, "/api/v1/producer-memberships/", [payload] * 10)
    statuses = Counter(status for status, _body in results)
    assert statuses[201] == 1, results
    assert set(statuses) == {201, 400}, results
    refused = [body for status, body in results if status == 400]
    assert all(b["errors"][0]["code"] == "already_member" for b in refused), refused
    assert ProducerMembership.objects.filter(organization=coop).count() == 1
