"""Twenty offline retries of one registration arrive at once (PostgreSQL): one household is
stored, every request answers 201 or 200 with it, never a 409 ``duplicate``; the same id with
another payload is an ``idempotency_conflict``."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from farmers.models import Household, Plot
from tests.concurrency import parallel_posts
from tests.farmers.conftest import ClientMaker, household_payload
from tests.farmers.test_plots_api import plot_payload, square

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 3
PARALLEL = 20


@pytest.mark.usefixtures("geography")
def test_parallel_retries_of_one_registration_all_answer_with_it(client_for: ClientMaker) -> None:
    client = client_for()
    for round_no in range(ROUNDS):
        hid = str(uuid.uuid4())
        dni = f"4{round_no:03d}5678"
        payload = household_payload(id=hid)
        payload["members"] = payload["members"][:1]
        payload["members"][0]["document_number"] = dni

        results = parallel_posts(client, "/api/v1/households/", [payload] * PARALLEL)
        statuses = Counter(status for status, _body in results)
        assert set(statuses) <= {200, 201}, results
        assert statuses[201] == 1
        assert {body["id"] for _status, body in results} == {hid}
        assert Household.objects.filter(pk=hid).count() == 1


@pytest.mark.usefixtures("geography")
def test_parallel_same_id_with_other_payloads_conflicts(client_for: ClientMaker) -> None:
    client = client_for()
    hid = str(uuid.uuid4())
    payloads = []
    for index in range(PARALLEL):
        payload = household_payload(id=hid, community=f"Comunidad {index}")
        payload["members"] = payload["members"][:1]
        payload["members"][0]["document_number"] = f"{46000000 + index}"
        payloads.append(payload)

    results = parallel_posts(client, "/api/v1/households/", payloads)
    statuses = Counter(status for status, _body in results)
    assert statuses == {201: 1, 409: PARALLEL - 1}, results
    codes = {body["errors"][0]["code"] for status, body in results if status == 409}
    assert codes == {"idempotency_conflict"}


@pytest.mark.usefixtures("geography")
def test_parallel_retries_of_one_plot_all_answer_with_it(client_for: ClientMaker) -> None:
    client = client_for()
    created = client.post("/api/v1/households/", household_payload(), format="json")
    assert created.status_code == 201, created.json()
    pid = str(uuid.uuid4())
    payload = plot_payload(created.json()["id"], square(), id=pid)

    results = parallel_posts(client, "/api/v1/plots/", [payload] * PARALLEL)
    statuses = Counter(status for status, _body in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses[201] == 1
    assert Plot.objects.filter(pk=pid).count() == 1
