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
