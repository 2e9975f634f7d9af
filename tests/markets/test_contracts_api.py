"""``contracts/``: create, validation, workflow over HTTP, scoping and the household fields a
buyer sees."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from markets.models import Contract, ContractStatusChange, DeliverySchedule
from registry.choices import Scope

from .conftest import (
    BUYER_SCOPES,
    ContractMaker,
    Market,
    contract_payload,
    key_client,
    make_household,
    today,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"
HOUSEHOLD_FIELDS = {"id", "code", "head_name", "district", "community"}


def test_a_buyer_records_and_signs_its_contract(coop_client: APIClient, market: Market) -> None:
    response = coop_client.post(URL, contract_payload(market), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["buyer"] == "coop-pangoa"
    assert body["volume_kg"] == "1500.00"
    assert body["price_pen_per_kg"] == "9.50"
    assert body["fulfilment"] == "0.0000"
    assert set(body["household"]) == HOUSEHOLD_FIELDS
    assert body["household"]["head_name"] == "Juana Quispe Huamán"
    assert body["status_history"] == [
        {
            "from_status": "",
            "to_status": "draft",
            "reason": "",
            "at": body["status_history"][0]["at"],
        }
    ]
    contract_id = body["id"]
    draft = response["ETag"]
    assert coop_client.get(f"{URL}{contract_id}/")["ETag"] == draft
    signed = coop_client.post(
        f"{URL}{contract_id}/transition/", {"to": "active"}, format="json", HTTP_IF_MATCH=draft
    )
    assert signed.status_code == 200, signed.json()
    assert signed.json()["status"] == "active"
    assert signed.json()["activated_on"] == today().isoformat()
    assert signed["ETag"] not in ("", draft)
    stale = coop_client.post(
        f"{URL}{contract_id}/transition/",
        {"to": "suspended", "reason": "x"},
        format="json",
        HTTP_IF_MATCH=draft,
    )
    assert stale.status_code == 412
    wrong = coop_client.post(f"{URL}{contract_id}/transition/", {"to": "draft"}, format="json")
    assert wrong.status_code == 409
    error = wrong.json()["errors"][0]
    assert error["code"] == "invalid_transition"
    assert error["allowed"] == ["completed", "suspended", "terminated"]
    no_reason = coop_client.post(
        f"{URL}{contract_id}/transition/", {"to": "terminated"}, format="json"
    )
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["attr"] == "reason"
    ended = coop_client.post(
        f"{URL}{contract_id}/transition/",
        {"to": "terminated", "reason": "La familia dejó la cooperativa"},
        format="json",
    )
    assert ended.status_code == 200
    assert [h["to_status"] for h in ended.json()["status_history"]] == [
        "draft",
        "active",
        "terminated",
    ]


def test_create_is_idempotent_on_id(coop_client: APIClient, market: Market) -> None:
    cid = str(uuid.uuid4())
    first = coop_client.post(URL, contract_payload(market, id=cid), format="json")
    assert first.status_code == 201
    again = coop_client.post(URL, contract_payload(market, id=cid), format="json")
    assert again.status_code == 200
    assert Contract.objects.filter(pk=cid).count() == 1
    other = coop_client.post(URL, contract_payload(market, id=cid, volume_kg="10"), format="json")
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "idempotency_conflict"


def test_coffee_volume_in_quintales_and_a_schedule(coop_client: APIClient, market: Market) -> None:
    day = today()
    response = coop_client.post(
        URL,
        contract_payload(
            market,
            crop="coffee",
            product_form="coffee_parchment",
            volume_kg=None,
            volume_qq="25",
            schedule=[
                {"due_on": (day + timedelta(days=30)).isoformat(), "expected_kg": "500"},
                {"due_on": (day + timedelta(days=10)).isoformat(), "expected_kg": "250.5"},
            ],
        )
        | {"volume_kg": None},
        format="json",
    )
    # ``volume_kg: null`` is not a decimal string: the schema refuses it.
    assert response.status_code == 400
    data = contract_payload(
        market,
        crop="coffee",
        product_form="coffee_parchment",
        volume_qq="25",
        schedule=[
            {"due_on": (day + timedelta(days=30)).isoformat(), "expected_kg": "500"},
            {"due_on": (day + timedelta(days=10)).isoformat(), "expected_kg": "250.5"},
        ],
    )
    del data["volume_kg"]
    response = coop_client.post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["volume_kg"] == "1150.00"  # 25 qq × 46 kg
    assert [s["expected_kg"] for s in response.json()["schedule"]] == ["250.50", "500.00"]
    assert DeliverySchedule.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "attr", "code"),
    [
        ({"product_form": "coffee_green"}, "product_form", "invalid_product_form"),
        ({"crop": "pineapple", "product_form": "cacao_dry"}, "product_form", None),
        ({"crop": "yuca"}, "crop", None),
        ({"volume_kg": "0"}, "volume_kg", "min_value"),
        ({"volume_kg": "-5"}, "volume_kg", None),
        ({"volume_kg": 1500}, "volume_kg", "not_a_string"),
        ({"volume_qq": "10"}, "volume_kg", None),  # both
        ({"price_pen_per_kg": "0"}, "price_pen_per_kg", "min_value"),
        ({"price_rule": "reference"}, "price_floor_pen_per_kg", "required"),
        (
            {"price_rule": "reference", "price_floor_pen_per_kg": "10.00"},
            "price_pen_per_kg",
            "price_below_floor",
        ),
        ({"price_floor_pen_per_kg": "12.00"}, "price_floor_pen_per_kg", "floor_above_price"),
        ({"certification": "rainforest"}, "certification", None),
        ({"buyer": "nadie"}, "buyer", "does_not_exist"),
        ({"household": str(uuid.uuid4())}, "household", "does_not_exist"),
        ({"season_end": "2020-01-01"}, "season_end", "season_order"),
    ],
)
def test_bad_contracts_are_field_errors(
    staff_client: APIClient, market: Market, overrides: dict[str, Any], attr: str, code: str | None
) -> None:
    response = staff_client.post(URL, contract_payload(market, **overrides), format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert errors[0]["attr"] == attr, errors
    if code:
        assert errors[0]["code"] == code
    assert not Contract.objects.exists()


def test_reference_price_contract(staff_client: APIClient, market: Market) -> None:
    data = contract_payload(
        market,
        price_rule="reference",
        price_floor_pen_per_kg="8.00",
        reference_price_note="NY − 10 %",
    )
    del data["price_pen_per_kg"]
    response = staff_client.post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["price_pen_per_kg"] is None
    assert response.json()["price_floor_pen_per_kg"] == "8.00"


def test_households_must_be_approved(staff_client: APIClient, market: Market) -> None:
    pending = make_household(market.program, approve=False, given="Ana", surnames="Ramos Ruiz")
    response = staff_client.post(
        URL, contract_payload(market, household=str(pending.pk)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "household_not_active"


def test_a_buyer_contracts_only_for_itself(coop_client: APIClient, market: Market) -> None:
    response = coop_client.post(URL, contract_payload(market, buyer="exportadora"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_own_buyer"


def test_a_buyer_learns_nothing_about_a_pending_household(
    coop_client: APIClient, market: Market
) -> None:
    pending = make_household(market.program, approve=False, given="Ana", surnames="Ramos Ruiz")
    response = coop_client.post(
        URL, contract_payload(market, household=str(pending.pk)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "does_not_exist"


def test_staff_contracts_only_in_their_area(market: Market) -> None:
    outsider = make_household(market.other_program, given="Rosa", surnames="Poma Huamán")
    implementer = key_client(market.implementer, [Scope.CONTRACTS_READ, Scope.CONTRACTS_WRITE])
    response = implementer.post(
        URL, contract_payload(market, household=str(outsider.pk)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "does_not_exist"
    ok = implementer.post(URL, contract_payload(market), format="json")
    assert ok.status_code == 201


def test_field_officers_read_but_cannot_write(market: Market) -> None:
    reader = key_client(market.implementer, [Scope.CONTRACTS_READ])
    assert reader.post(URL, contract_payload(market), format="json").status_code == 403


# --- scoping ----------------------------------------------------------------------------------


def test_a_buyer_key_never_reaches_another_buyers_contract(
    make_contract: ContractMaker,
    coop_client: APIClient,
    exporter_client: APIClient,
    market: Market,
) -> None:
    mine = make_contract(buyer="coop-pangoa")
    theirs = make_contract(buyer="exportadora", household=market.other_household.pk)
    listed = coop_client.get(URL).json()["results"]
    assert [c["id"] for c in listed] == [str(mine.pk)]
    assert coop_client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert coop_client.get(f"{URL}{mine.pk}/").status_code == 200
    moved = coop_client.post(
        f"{URL}{theirs.pk}/transition/", {"to": "suspended", "reason": "x"}, format="json"
    )
    assert moved.status_code == 404
    assert Contract.objects.get(pk=theirs.pk).status == "active"
    assert coop_client.get(URL, {"buyer": "exportadora"}).json()["results"] == []
    assert [c["id"] for c in exporter_client.get(URL).json()["results"]] == [str(theirs.pk)]


def test_a_buyer_without_contracts_read_sees_nothing(
    make_contract: ContractMaker, market: Market
) -> None:
    make_contract()
    client = key_client(market.coop, [Scope.HOUSEHOLDS_READ])
    assert client.get(URL).status_code == 403


def test_buyers_never_see_ids_phones_or_coca(
    make_contract: ContractMaker, coop_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    member = market.household.members.get()
    secrets = [member.document_number, member.phone, "987654321", "coca"]
    responses = [
        coop_client.get(URL),
        coop_client.get(f"{URL}{contract.pk}/"),
        coop_client.get("/api/v1/deliveries/"),
        coop_client.post(URL, contract_payload(market, volume_kg="-1"), format="json"),
        coop_client.post(
            URL,
            contract_payload(market, household=str(market.other_household.pk), buyer="x"),
            format="json",
        ),
        coop_client.get(f"/api/v1/households/{market.household.pk}/"),
    ]
    for response in responses:
        text = json.dumps(response.json(), ensure_ascii=False)
        for secret in secrets:
            assert secret not in text, (response.request["PATH_INFO"], secret)
    detail = responses[1].json()
    assert set(detail["household"]) == HOUSEHOLD_FIELDS
    assert responses[-1].status_code in (403, 404)


def test_staff_see_contracts_of_their_programme_only(
    make_contract: ContractMaker, staff_client: APIClient, market: Market
) -> None:
    mine = make_contract()
    outsider = make_household(market.other_program, given="Rosa", surnames="Poma Huamán")
    other = make_contract(household=outsider.pk)
    listed = [c["id"] for c in staff_client.get(URL).json()["results"]]
    assert listed == [str(mine.pk)]
    assert staff_client.get(f"{URL}{other.pk}/").status_code == 404


def test_filters(make_contract: ContractMaker, staff_client: APIClient, market: Market) -> None:
    cacao = make_contract()
    coffee = make_contract(
        crop="coffee",
        product_form="coffee_green",
        buyer="exportadora",
        household=market.other_household.pk,
        status="draft",
        season_start=today().replace(year=2025, month=1, day=1),
        season_end=today().replace(year=2025, month=12, day=31),
    )

    def ids(**params: Any) -> list[str]:
        response = staff_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids(status="active") == [str(cacao.pk)]
    assert ids(crop="coffee") == [str(coffee.pk)]
    assert ids(buyer="exportadora") == [str(coffee.pk)]
    assert ids(household=str(market.household.pk)) == [str(cacao.pk)]
    assert ids(season=2025) == [str(coffee.pk)]
    assert ids(season_from="2026-01-01", season_to=today().isoformat()) == [str(cacao.pk)] or (
        today().year > 2026
    )
    assert staff_client.get(URL, {"season": "20x5"}).status_code == 400
    assert staff_client.get(URL, {"season": "1999"}).status_code == 400
    assert staff_client.get(URL, {"status": "signed"}).status_code == 400


@pytest.mark.parametrize("who", ["buyer", "staff"])
def test_list_query_budget(
    make_contract: ContractMaker, market: Market, staff_client: APIClient, who: str
) -> None:
    client = key_client(market.coop, BUYER_SCOPES) if who == "buyer" else staff_client
    make_contract()
    client.get(URL)  # warm-up (a key's first use of the minute is noted)
    with CaptureQueriesContext(connection) as one:
        response = client.get(URL)
    assert len(response.json()["results"]) == 1
    for n in range(30):
        household = make_household(market.program, given="Eva", surnames=f"Rojas {n}")
        make_contract(household=household.pk, status="draft")
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 31
    assert len(many.captured_queries) == len(one.captured_queries)
    if who == "buyer":  # the page (household and buyer joined); the key comes from the cache
        assert len(many.captured_queries) == 1


def test_detail_shows_the_status_history(
    make_contract: ContractMaker, coop_client: APIClient
) -> None:
    contract = make_contract(status="suspended")
    body = coop_client.get(f"{URL}{contract.pk}/").json()
    assert [(h["from_status"], h["to_status"]) for h in body["status_history"]] == [
        ("", "draft"),
        ("draft", "active"),
        ("active", "suspended"),
    ]
    assert body["status_reason"] == "prueba"
    assert ContractStatusChange.objects.filter(contract=contract).count() == 3
