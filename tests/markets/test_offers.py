"""Buyers reach only the families the programme offered them (issue 13, "a buyer can contract with
any active family"), and a buyer's own accepted deliveries count as evidence only once the
programme confirms them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from farmers.transition import evidence
from markets import services
from markets.models import BuyerOffer, Contract, Delivery
from markets.policies import households_offered_to
from markets.selectors import market_facts
from registry.choices import ChangeAction, Role
from registry.models import ChangeRecord
from registry.services import membership_assign
from tests.factories import UserFactory

from .conftest import (
    BUYER_SCOPES,
    PICHARI,
    SIVIA,
    SYSTEM,
    ContractMaker,
    Market,
    contract_payload,
    key_client,
    make_household,
    today,
)

pytestmark = pytest.mark.django_db
CONTRACTS = "/api/v1/contracts/"
OFFERS = "/api/v1/offers/"
DELIVERIES = "/api/v1/deliveries/"


def codes(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


# --- contracts only with offered households -------------------------------------------------------


def test_a_buyer_cannot_contract_with_a_family_it_was_not_offered(
    market: Market, exporter_client: APIClient
) -> None:
    """The reproduction: a buyer's key with contracts:write posts a contract for an active
    household it has no link to. It gets exactly the answer an unknown id gets, and nothing of
    the family (no name, community or district) comes back."""
    stranger = market.other_household  # offered to the cooperative, not to the exporter
    attempt = exporter_client.post(
        CONTRACTS,
        contract_payload(market, household=str(stranger.pk), buyer="exportadora"),
        format="json",
    )
    unknown = exporter_client.post(
        CONTRACTS,
        contract_payload(market, household=str(uuid.uuid4()), buyer="exportadora"),
        format="json",
    )
    assert attempt.status_code == unknown.status_code == 400
    assert attempt.json() == unknown.json()
    assert codes(attempt) == {("household", "does_not_exist")}
    body = attempt.content.decode()
    assert stranger.head_name not in body and stranger.community not in body
    assert not Contract.objects.filter(household=stranger).exists()


def test_a_withdrawn_offer_closes_the_door(
    market: Market, staff: Any, coop_client: APIClient
) -> None:
    offer = BuyerOffer.objects.get(household=market.household, buyer=market.coop)
    services.offer_withdraw(actor=staff, offer=offer, reason="otra cooperativa")
    refused = coop_client.post(CONTRACTS, contract_payload(market), format="json")
    assert refused.status_code == 400
    assert codes(refused) == {("household", "does_not_exist")}
    services.offer_create(actor=staff, household=market.household, buyer="coop-pangoa")
    assert coop_client.post(CONTRACTS, contract_payload(market), format="json").status_code == 201


def test_an_offered_family_that_is_no_longer_active_is_unknown(
    market: Market, staff: Any, coop_client: APIClient
) -> None:
    from farmers import services as farmers_services

    farmers_services.household_transition(
        actor=SYSTEM, household=market.household, to="inactive", reason="se mudó"
    )
    assert market.household.pk not in set(
        households_offered_to(market.coop).values_list("pk", flat=True)
    )
    refused = coop_client.post(CONTRACTS, contract_payload(market), format="json")
    assert codes(refused) == {("household", "does_not_exist")}


def test_programme_contracts_link_the_family_to_the_buyer(market: Market, staff: Any) -> None:
    household = make_household(market.program, given="Rosa", surnames="Mamani Ccori")
    assert not households_offered_to(market.exporter).filter(pk=household.pk).exists()
    services.contract_create(
        actor=staff,
        household=household.pk,
        buyer="exportadora",
        crop="coffee",
        product_form="coffee_parchment",
        season_start=today() - timedelta(days=10),
        season_end=today() + timedelta(days=100),
        volume_kg="900",
        price_pen_per_kg="12",
    )
    assert households_offered_to(market.exporter).filter(pk=household.pk).exists()


# --- making and withdrawing offers ----------------------------------------------------------------


def test_offers_are_made_by_programme_staff_and_implementers_in_their_area(
    market: Market, staff_client: APIClient
) -> None:
    household = make_household(market.program, given="Lidia", surnames="Soto Rojas")
    payload = {"household": str(household.pk), "buyer": "exportadora"}
    made = staff_client.post(OFFERS, payload, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["household"] == {
        "id": str(household.pk),
        "code": household.code,
        "district": PICHARI,
    }
    again = staff_client.post(OFFERS, payload, format="json")
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    record = ChangeRecord.objects.get(object_id=made.json()["id"])
    assert record.action == ChangeAction.CREATE

    implementer = key_client(market.implementer, BUYER_SCOPES)
    other = make_household(market.program, given="Nora", surnames="Ccasa Puma")
    assert (
        implementer.post(
            OFFERS, {"household": str(other.pk), "buyer": "exportadora"}, format="json"
        ).status_code
        == 201
    )
    # Outside the implementer's districts the household is unknown.
    far = make_household(market.program, SIVIA, given="Elsa", surnames="Paucar Luna")
    outside = implementer.post(
        OFFERS, {"household": str(far.pk), "buyer": "exportadora"}, format="json"
    )
    assert outside.status_code == 400
    assert codes(outside) == {("household", "does_not_exist")}


@pytest.mark.parametrize("who", ["buyer", "supervisor"])
def test_buyers_and_other_roles_cannot_offer(market: Market, who: str) -> None:
    household = make_household(market.program, given="Lidia", surnames="Soto Rojas")
    if who == "buyer":
        client = key_client(market.exporter, BUYER_SCOPES)
    else:
        user = UserFactory.create()
        membership_assign(user=user, organization=market.implementer, role=Role.SUPERVISOR)
        client = APIClient()
        client.force_login(user)
    response = client.post(
        OFFERS, {"household": str(household.pk), "buyer": "exportadora"}, format="json"
    )
    assert response.status_code in (400, 403)
    assert not BuyerOffer.objects.filter(household=household).exists()
    offer = BuyerOffer.objects.filter(buyer=market.exporter).first()
    assert offer is not None
    withdraw = client.post(f"{OFFERS}{offer.pk}/withdraw/", {}, format="json")
    assert withdraw.status_code in (403, 404)
    offer.refresh_from_db()
    assert offer.withdrawn_at is None


def test_one_live_offer_per_household_and_buyer(market: Market, staff: Any) -> None:
    offer = BuyerOffer.objects.get(household=market.household, buyer=market.coop)
    services.offer_withdraw(actor=staff, offer=offer)
    services.offer_withdraw(actor=staff, offer=offer)  # twice: nothing more
    fresh, created = services.offer_create(
        actor=staff, household=market.household, buyer="coop-pangoa"
    )
    assert created and fresh.pk != offer.pk
    assert BuyerOffer.objects.filter(household=market.household, buyer=market.coop).count() == 2
    assert (
        ChangeRecord.objects.filter(object_id=str(offer.pk), action=ChangeAction.UPDATE).count()
        == 1
    )


# --- what a buyer sees ----------------------------------------------------------------------------


def test_a_buyer_lists_only_its_live_offers_without_personal_data(
    market: Market, exporter_client: APIClient, staff_client: APIClient
) -> None:
    response = exporter_client.get(OFFERS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["household"]["id"] for row in rows] == [str(market.household.pk)]
    assert set(rows[0]) == {"id", "household", "buyer", "program", "offered_at", "withdrawn_at"}
    assert set(rows[0]["household"]) == {"id", "code", "district"}
    assert market.household.head_name not in response.content.decode()
    # Another buyer's offer is a 404 to it.
    coop_offer = BuyerOffer.objects.get(household=market.other_household, buyer=market.coop)
    assert exporter_client.get(f"{OFFERS}{coop_offer.pk}/").status_code == 404
    # Programme staff see every offer in their area.
    assert len(staff_client.get(OFFERS).json()["results"]) == 3


@pytest.mark.parametrize("who", ["buyer", "staff"])
def test_offer_list_query_budget(market: Market, staff_client: APIClient, who: str) -> None:
    client = key_client(market.exporter, BUYER_SCOPES) if who == "buyer" else staff_client
    client.get(OFFERS)  # warm-up (a key's first use of the minute is noted)
    with CaptureQueriesContext(connection) as one:
        first = client.get(OFFERS)
    seen = len(first.json()["results"])
    for n in range(30):
        household = make_household(market.program, given="Eva", surnames=f"Rojas {n}")
        services.offer_create(actor=SYSTEM, household=household, buyer=market.exporter)
    with CaptureQueriesContext(connection) as many:
        response = client.get(OFFERS, {"page_size": 100})
    assert len(response.json()["results"]) == seen + 30
    assert len(many.captured_queries) == len(one.captured_queries)


# --- a buyer cannot manufacture a market link -----------------------------------------------------


def _buyer_accepted_delivery(
    make_contract: ContractMaker, coop_client: APIClient
) -> tuple[Contract, str]:
    contract = make_contract()
    recorded = coop_client.post(
        DELIVERIES,
        {
            "contract": str(contract.pk),
            "delivered_on": today().isoformat(),
            "weight_kg": "100",
            "quality_grade": "a",
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    delivery_id = recorded.json()["id"]
    accepted = coop_client.post(
        f"{DELIVERIES}{delivery_id}/transition/", {"to": "accepted"}, format="json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["confirmed_at"] is None
    return contract, delivery_id


def test_a_buyers_own_acceptance_is_not_evidence_until_the_programme_confirms(
    make_contract: ContractMaker, market: Market, coop_client: APIClient, staff_client: APIClient
) -> None:
    _contract, delivery_id = _buyer_accepted_delivery(make_contract, coop_client)

    def delivered() -> list[str]:
        facts = market_facts([market.household.pk], today())
        return [f.ref for f in facts if f.kind == evidence.DELIVERY_ACCEPTED]

    assert delivered() == []
    # The buyer cannot confirm its own delivery.
    refused = coop_client.post(f"{DELIVERIES}{delivery_id}/confirm/", format="json")
    assert refused.status_code == 403
    assert codes(refused) == {(None, "not_programme")}
    assert delivered() == []
    confirmed = staff_client.post(f"{DELIVERIES}{delivery_id}/confirm/", format="json")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["confirmed_at"] is not None
    assert delivered() == [delivery_id]
    # Confirming again changes nothing.
    again = staff_client.post(f"{DELIVERIES}{delivery_id}/confirm/", format="json")
    assert again.json()["version"] == confirmed.json()["version"]


def test_an_implementer_in_the_area_confirms(
    make_contract: ContractMaker, market: Market, coop_client: APIClient
) -> None:
    _contract, delivery_id = _buyer_accepted_delivery(make_contract, coop_client)
    implementer = key_client(market.implementer, BUYER_SCOPES)
    assert implementer.post(f"{DELIVERIES}{delivery_id}/confirm/").status_code == 200
    assert Delivery.objects.get(pk=delivery_id).confirmed_by_key is not None


def test_programme_acceptance_confirms_and_a_recorded_delivery_cannot_be_confirmed(
    make_contract: ContractMaker, market: Market, coop_client: APIClient, staff: Any
) -> None:
    contract = make_contract()
    recorded = coop_client.post(
        DELIVERIES,
        {
            "contract": str(contract.pk),
            "delivered_on": today().isoformat(),
            "weight_kg": "50",
            "quality_grade": "b",
        },
        format="json",
    ).json()
    delivery = Delivery.objects.get(pk=recorded["id"])
    assert delivery.confirmed_at is None
    with pytest.raises(Exception) as refused:
        services.delivery_confirm(actor=staff, delivery=delivery)
    assert getattr(refused.value, "code", None) == "delivery_not_accepted"
    accepted = services.delivery_transition(actor=staff, delivery=delivery, to="accepted")
    assert accepted.confirmed_at is not None and accepted.confirmed_by is not None


# --- admin ----------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(staff_user: Any, market: Market) -> Client:
    from registry.services import role_groups_sync

    role_groups_sync()
    membership_assign(user=staff_user, organization=market.agency, role=Role.PROGRAM_STAFF)
    staff_user.is_staff = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_offers_in_the_admin(admin_client: Client, market: Market) -> None:
    changelist = admin_client.get(reverse("admin:markets_buyeroffer_changelist"))
    assert changelist.status_code == 200
    assert len(changelist.context["cl"].result_list) == 3
    household = make_household(market.program, given="Lidia", surnames="Soto Rojas")
    added = admin_client.post(
        reverse("admin:markets_buyeroffer_add"),
        {"household": str(household.pk), "buyer": market.exporter.pk, "note": "feria"},
    )
    assert added.status_code == 302
    offer = BuyerOffer.objects.get(household=household, buyer=market.exporter)
    assert ChangeRecord.objects.filter(object_id=str(offer.pk)).exists()
    # A household outside the person's programme is refused with a form error.
    stranger = make_household(market.other_program, given="Ada", surnames="Luna Paz")
    refused = admin_client.post(
        reverse("admin:markets_buyeroffer_add"),
        {"household": str(stranger.pk), "buyer": market.exporter.pk},
    )
    assert refused.status_code == 200
    assert not BuyerOffer.objects.filter(household=stranger).exists()
    withdrawn = admin_client.post(
        reverse("admin:markets_buyeroffer_changelist"),
        {"action": "withdraw", "_selected_action": [str(offer.pk)]},
    )
    assert withdrawn.status_code == 302
    offer.refresh_from_db()
    assert offer.withdrawn_at is not None


def test_deliveries_are_confirmed_from_the_admin(
    admin_client: Client, make_contract: ContractMaker, coop_client: APIClient
) -> None:
    _contract, delivery_id = _buyer_accepted_delivery(make_contract, coop_client)
    response = admin_client.post(
        reverse("admin:markets_delivery_changelist"),
        {"action": "confirm", "_selected_action": [delivery_id]},
    )
    assert response.status_code == 302
    assert Delivery.objects.get(pk=delivery_id).confirmed_at is not None
