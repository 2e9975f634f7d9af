"""``deliveries/``: record against active contracts within the season (409 otherwise), computed
amounts, over-volume flag, price floor, quality check and payment, scoping, filters, budgets."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from markets import services
from markets.models import Contract, Delivery
from registry.choices import ChangeAction, Scope
from registry.models import ChangeRecord

from .conftest import BUYER_SCOPES, SYSTEM, ContractMaker, Market, key_client, make_household, today

pytestmark = pytest.mark.django_db

URL = "/api/v1/deliveries/"


def delivery_payload(of: Contract, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "contract": str(of.pk),
        "delivered_on": (today() - timedelta(days=2)).isoformat(),
        "weight_kg": "420.5",
        "quality_grade": "a",
        "receipt_reference": "GR-0001",
    }
    data.update(overrides)
    return data


def test_record_accept_and_pay(
    make_contract: ContractMaker, coop_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    response = coop_client.post(URL, delivery_payload(contract), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "recorded"
    assert body["price_pen_per_kg"] == "9.50"  # the contract's price
    assert body["amount_pen"] == "3994.75"
    assert body["exceeds_volume"] is False
    assert body["household"] == {
        "id": str(market.household.pk),
        "code": market.household.code,
        "head_name": "Juana Quispe Huamán",
        "district": "080910",
        "community": "Natividad",
    }
    delivery_id = body["id"]
    accepted = coop_client.post(
        f"{URL}{delivery_id}/transition/", {"to": "accepted"}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    paid = coop_client.post(
        f"{URL}{delivery_id}/transition/",
        {"to": "paid", "payment_reference": "TRF-123", "paid_on": today().isoformat()},
        format="json",
        HTTP_IF_MATCH=accepted["ETag"],
    )
    assert paid.status_code == 200, paid.json()
    assert paid.json()["paid_amount_pen"] == "3994.75"
    assert paid["ETag"] not in ("", accepted["ETag"])
    contract.refresh_from_db()
    assert contract.accepted_kg == Decimal("420.50")
    assert contract.accepted_value_pen == Decimal("3994.75")
    detail = coop_client.get(f"/api/v1/contracts/{contract.pk}/").json()
    assert detail["fulfilment"] == "0.2803"  # 420.5 / 1500
    assert (
        ChangeRecord.objects.filter(object_id=delivery_id, action=ChangeAction.TRANSITION).count()
        == 2
    )


def test_weight_in_quintales(make_contract: ContractMaker, coop_client: APIClient) -> None:
    contract = make_contract(crop="coffee", product_form="coffee_parchment", price_pen_per_kg="14")
    data = delivery_payload(contract, weight_qq="3")
    del data["weight_kg"]
    response = coop_client.post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["weight_kg"] == "138.00"
    assert response.json()["amount_pen"] == "1932.00"


def test_over_volume_is_accepted_but_flagged(
    make_contract: ContractMaker, coop_client: APIClient
) -> None:
    contract = make_contract(volume_kg="500")
    first = coop_client.post(URL, delivery_payload(contract, weight_kg="400"), format="json")
    assert first.json()["exceeds_volume"] is False
    second = coop_client.post(URL, delivery_payload(contract, weight_kg="100.01"), format="json")
    assert second.status_code == 201
    assert second.json()["exceeds_volume"] is True
    flagged = coop_client.get(URL, {"exceeds_volume": "true"}).json()["results"]
    assert [d["id"] for d in flagged] == [second.json()["id"]]
    # A rejected delivery frees its kilograms.
    services.delivery_transition(
        actor=SYSTEM,
        delivery=Delivery.objects.get(pk=first.json()["id"]),
        to="rejected",
        rejection_reason="moisture",
    )
    third = coop_client.post(URL, delivery_payload(contract, weight_kg="300"), format="json")
    assert third.json()["exceeds_volume"] is False


@pytest.mark.parametrize("status", ["draft", "suspended", "completed", "terminated", "cancelled"])
def test_only_active_contracts_take_deliveries(
    make_contract: ContractMaker, coop_client: APIClient, status: str
) -> None:
    contract = make_contract(status=status)
    response = coop_client.post(URL, delivery_payload(contract), format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "contract_not_active"
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("days", [-61, 121])
def test_outside_the_season_is_a_field_error(
    make_contract: ContractMaker, coop_client: APIClient, days: int
) -> None:
    day = today()
    contract = make_contract(
        season_start=day - timedelta(days=60), season_end=day + timedelta(days=120)
    )
    if days > 0:  # a future date is refused first: the season ended 30 days ago instead
        Contract.objects.filter(pk=contract.pk).update(
            season_start=day - timedelta(days=300), season_end=day - timedelta(days=30)
        )
        when = day - timedelta(days=10)
    else:
        when = day + timedelta(days=days)
    response = coop_client.post(
        URL, delivery_payload(contract, delivered_on=when.isoformat()), format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0] == {
        "code": "outside_contract_season",
        "detail": response.json()["errors"][0]["detail"],
        "attr": "delivered_on",
    }
    assert not Delivery.objects.exists()


def test_season_edges_are_inside(make_contract: ContractMaker, coop_client: APIClient) -> None:
    day = today()
    contract = make_contract(season_start=day - timedelta(days=10), season_end=day)
    for when in (day - timedelta(days=10), day):
        response = coop_client.post(
            URL, delivery_payload(contract, delivered_on=when.isoformat()), format="json"
        )
        assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("overrides", "attr", "code"),
    [
        ({"weight_kg": "0"}, "weight_kg", "min_value"),
        ({"weight_kg": "abc"}, "weight_kg", None),
        ({"weight_qq": "1"}, "weight_kg", None),  # both weights
        ({"quality_grade": "z"}, "quality_grade", None),
        ({"price_pen_per_kg": "7.99"}, "price_pen_per_kg", "price_below_contract"),
        ({"delivered_on": "2999-01-01"}, "delivered_on", "future_date"),
        ({"contract": "not-a-uuid"}, "contract", None),
    ],
)
def test_bad_deliveries_are_field_errors(
    make_contract: ContractMaker,
    coop_client: APIClient,
    overrides: dict[str, Any],
    attr: str,
    code: str | None,
) -> None:
    contract = make_contract(price_floor_pen_per_kg="8.00")
    response = coop_client.post(URL, delivery_payload(contract, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == attr
    if code:
        assert response.json()["errors"][0]["code"] == code
    assert not Delivery.objects.exists()


def test_reference_price_needs_the_price_of_the_day(
    make_contract: ContractMaker, coop_client: APIClient
) -> None:
    contract = make_contract(
        price_rule="reference", price_pen_per_kg=None, price_floor_pen_per_kg="8.00"
    )
    missing = coop_client.post(URL, delivery_payload(contract), format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "price_pen_per_kg"
    ok = coop_client.post(URL, delivery_payload(contract, price_pen_per_kg="8.00"), format="json")
    assert ok.status_code == 201
    assert ok.json()["amount_pen"] == "3364.00"


def test_idempotent_on_id(make_contract: ContractMaker, coop_client: APIClient) -> None:
    contract = make_contract()
    did = str(uuid.uuid4())
    assert (
        coop_client.post(URL, delivery_payload(contract, id=did), format="json").status_code == 201
    )
    assert (
        coop_client.post(URL, delivery_payload(contract, id=did), format="json").status_code == 200
    )
    other = coop_client.post(URL, delivery_payload(contract, id=did, weight_kg="1"), format="json")
    assert other.status_code == 409
    assert Delivery.objects.count() == 1
    contract.refresh_from_db()
    assert contract.delivered_kg == Decimal("420.50")


def test_transition_errors(make_contract: ContractMaker, coop_client: APIClient) -> None:
    contract = make_contract()
    delivery_id = coop_client.post(URL, delivery_payload(contract), format="json").json()["id"]
    path = f"{URL}{delivery_id}/transition/"
    paid_early = coop_client.post(
        path, {"to": "paid", "payment_reference": "T", "paid_on": today().isoformat()}
    )
    assert paid_early.status_code == 409
    assert paid_early.json()["errors"][0]["allowed"] == ["accepted", "rejected"]
    no_reason = coop_client.post(path, {"to": "rejected"}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["attr"] == "rejection_reason"
    bad_reason = coop_client.post(
        path, {"to": "rejected", "rejection_reason": "mood"}, format="json"
    )
    assert bad_reason.status_code == 400
    rejected = coop_client.post(
        path, {"to": "rejected", "rejection_reason": "moisture", "note": "22 %"}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "moisture"
    assert rejected.json()["note"] == "22 %"


# --- scoping ----------------------------------------------------------------------------------


def test_a_buyer_key_never_reaches_another_buyers_deliveries(
    make_contract: ContractMaker,
    coop_client: APIClient,
    exporter_client: APIClient,
    market: Market,
) -> None:
    mine = make_contract()
    theirs = make_contract(buyer="exportadora", household=market.other_household.pk)
    own, _c = services.delivery_record(
        actor=SYSTEM, contract=mine.pk, delivered_on=today(), weight_kg="10", quality_grade="a"
    )
    other, _c = services.delivery_record(
        actor=SYSTEM, contract=theirs.pk, delivered_on=today(), weight_kg="10", quality_grade="a"
    )
    assert [d["id"] for d in coop_client.get(URL).json()["results"]] == [str(own.pk)]
    assert coop_client.get(f"{URL}{other.pk}/").status_code == 404
    moved = coop_client.post(f"{URL}{other.pk}/transition/", {"to": "accepted"}, format="json")
    assert moved.status_code == 404
    assert Delivery.objects.get(pk=other.pk).status == "recorded"
    # Writing a delivery on another buyer's contract: the contract is not found.
    response = coop_client.post(URL, delivery_payload(theirs), format="json")
    assert response.status_code == 404
    assert Delivery.objects.filter(contract=theirs).count() == 1
    assert coop_client.get(URL, {"contract": str(theirs.pk)}).json()["results"] == []
    assert [d["id"] for d in exporter_client.get(URL).json()["results"]] == [str(other.pk)]


def test_staff_and_readers(
    make_contract: ContractMaker, staff_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="10", quality_grade="a"
    )
    assert len(staff_client.get(URL).json()["results"]) == 1
    outsider = key_client(market.implementer, [Scope.CONTRACTS_READ])
    assert len(outsider.get(URL).json()["results"]) == 1  # Pichari is in its area
    assert outsider.post(URL, delivery_payload(contract), format="json").status_code == 403
    elsewhere = make_household(market.other_program, given="Rosa", surnames="Poma Huamán")
    other = make_contract(household=elsewhere.pk)
    services.delivery_record(
        actor=SYSTEM, contract=other.pk, delivered_on=today(), weight_kg="10", quality_grade="a"
    )
    assert len(staff_client.get(URL).json()["results"]) == 1


def test_filters(make_contract: ContractMaker, staff_client: APIClient, market: Market) -> None:
    cacao = make_contract()
    coffee = make_contract(
        buyer="exportadora",
        household=market.other_household.pk,
        crop="coffee",
        product_form="coffee_green",
    )
    d1, _c = services.delivery_record(
        actor=SYSTEM,
        contract=cacao.pk,
        delivered_on=today() - timedelta(days=20),
        weight_kg="10",
        quality_grade="a",
    )
    d2, _c = services.delivery_record(
        actor=SYSTEM, contract=coffee.pk, delivered_on=today(), weight_kg="10", quality_grade="b"
    )
    services.delivery_transition(actor=SYSTEM, delivery=d2, to="accepted")

    def ids(**params: Any) -> list[str]:
        response = staff_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [d["id"] for d in response.json()["results"]]

    assert ids(contract=str(cacao.pk)) == [str(d1.pk)]
    assert ids(status="accepted") == [str(d2.pk)]
    assert ids(buyer="coop-pangoa") == [str(d1.pk)]
    assert ids(household=str(market.other_household.pk)) == [str(d2.pk)]
    assert ids(delivered_after=(today() - timedelta(days=5)).isoformat()) == [str(d2.pk)]
    assert ids(delivered_before=(today() - timedelta(days=5)).isoformat()) == [str(d1.pk)]
    assert staff_client.get(URL, {"delivered_after": "ayer"}).status_code == 400
    assert staff_client.get(URL, {"exceeds_volume": "quizá"}).status_code == 400


@pytest.mark.parametrize("who", ["buyer", "staff"])
def test_list_query_budget(
    make_contract: ContractMaker, market: Market, staff_client: APIClient, who: str
) -> None:
    client = key_client(market.coop, BUYER_SCOPES) if who == "buyer" else staff_client
    contract = make_contract(volume_kg="100000")
    services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="1", quality_grade="a"
    )
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        response = client.get(URL, {"status": "recorded"})
    assert len(response.json()["results"]) == 1
    for n in range(40):
        services.delivery_record(
            actor=SYSTEM,
            contract=contract.pk,
            delivered_on=today(),
            weight_kg=str(n + 1),
            quality_grade="a",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"status": "recorded", "page_size": "100"})
    assert len(response.json()["results"]) == 41
    assert len(many.captured_queries) == len(one.captured_queries)
    if who == "buyer":  # the page; the key and its area come from the cache (issue 19)
        assert len(many.captured_queries) == 1


def test_the_fast_representation_equals_the_declared_fields(
    make_contract: ContractMaker, coop_client: APIClient
) -> None:
    from markets.api.serializers import DeliverySerializer
    from markets.selectors import delivery_list

    contract = make_contract(price_pen_per_kg="8.35")
    recorded, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="0.3", quality_grade="a"
    )
    paid, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="12", quality_grade="b"
    )
    services.delivery_transition(actor=SYSTEM, delivery=paid, to="accepted")
    services.delivery_transition(
        actor=SYSTEM,
        delivery=paid,
        to="paid",
        payment_reference="T-1",
        paid_on=today(),
        paid_amount_pen="99.5",
    )
    rejected, _c = services.delivery_record(
        actor=SYSTEM, contract=contract.pk, delivered_on=today(), weight_kg="3", quality_grade="c"
    )
    services.delivery_transition(
        actor=SYSTEM, delivery=rejected, to="rejected", rejection_reason="grade", note="ñandú"
    )
    rows = list(delivery_list(actor=SYSTEM))
    assert len(rows) == 3
    for row in rows:
        serializer = DeliverySerializer(row)
        assert serializer.to_representation(row) == serializer.generic_representation(row)
    listed = {d["id"]: d for d in coop_client.get(URL).json()["results"]}
    assert listed[str(paid.pk)]["paid_amount_pen"] == "99.50"
    assert listed[str(recorded.pk)]["amount_pen"] == "2.51"
    assert listed[str(recorded.pk)]["paid_on"] is None
