"""Suspension (issue 15, build 7): while a household is relapsed or excluded, new support, new
contracts (and their signing) and deliveries are refused with 409 ``household_suspended``
unless programme staff of the programme's agency override with a recorded reason; anyone else
sending ``override_reason`` gets a 403. Refusals write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from farmers.choices import Stage
from farmers.models import Household, Support
from markets.choices import ContractStatus
from markets.models import Contract, Delivery
from registry.choices import Role, Scope
from registry.models import ChangeRecord
from registry.services import membership_assign, role_groups_sync
from tests.factories import UserFactory

from .conftest import BUYER_SCOPES, ContractMaker, Market, contract_payload, key_client, today

pytestmark = pytest.mark.django_db

REASON = "Cosecha comprometida antes de la recaída; autorizado por la jefatura zonal."


def suspend(household: Household, stage: str) -> None:
    Household.objects.filter(pk=household.pk).update(stage=stage)


def client_for(who: str, market: Market, staff_client: APIClient) -> APIClient:
    if who == "staff":
        return staff_client
    if who == "implementer":
        return key_client(market.implementer, [Scope.CONTRACTS_READ, Scope.CONTRACTS_WRITE])
    return key_client(market.coop, BUYER_SCOPES)


# (stage, who, override, expected status, expected code)
CASES = [
    (Stage.ENROLLED, "buyer", False, None, None),
    (Stage.RELAPSED, "buyer", False, 409, "household_suspended"),
    (Stage.EXCLUDED, "buyer", False, 409, "household_suspended"),
    (Stage.RELAPSED, "staff", False, 409, "household_suspended"),
    (Stage.RELAPSED, "buyer", True, 403, "override_not_allowed"),
    (Stage.EXCLUDED, "implementer", True, 403, "override_not_allowed"),
    (Stage.RELAPSED, "staff", True, None, None),
    (Stage.EXCLUDED, "staff", True, None, None),
]
IDS = [f"{stage}-{who}-{'override' if o else 'plain'}" for stage, who, o, _s, _c in CASES]


def _check(response: Any, status: int | None, code: str | None, ok: int) -> None:
    if status is None:
        assert response.status_code == ok, response.content
        return
    assert response.status_code == status, response.content
    error = response.json()["errors"][0]
    assert error["code"] == code
    assert error["attr"]


@pytest.mark.parametrize(("stage", "who", "override", "status", "code"), CASES, ids=IDS)
def test_contract_create(
    market: Market,
    staff_client: APIClient,
    stage: str,
    who: str,
    override: bool,
    status: Any,
    code: Any,
) -> None:
    suspend(market.household, stage)
    payload = contract_payload(market, **({"override_reason": REASON} if override else {}))
    response = client_for(who, market, staff_client).post(
        "/api/v1/contracts/", payload, format="json"
    )
    _check(response, status, code, 201)
    if status is not None:
        assert not Contract.objects.exists()
        assert not ChangeRecord.objects.filter(content_type__model="contract").exists()
        return
    contract = Contract.objects.get()
    assert contract.suspension_override == (REASON if override else "")
    record = ChangeRecord.objects.get(object_id=str(contract.pk), action="create")
    assert record.changes.get("override_reason") == (REASON if override else None)


@pytest.mark.parametrize(("stage", "who", "override", "status", "code"), CASES, ids=IDS)
def test_contract_activation(
    market: Market,
    make_contract: ContractMaker,
    staff_client: APIClient,
    stage: str,
    who: str,
    override: bool,
    status: Any,
    code: Any,
) -> None:
    draft = make_contract(status=ContractStatus.DRAFT)
    suspend(market.household, stage)
    payload: dict[str, Any] = {"to": "active"}
    if override:
        payload["override_reason"] = REASON
    response = client_for(who, market, staff_client).post(
        f"/api/v1/contracts/{draft.pk}/transition/", payload, format="json"
    )
    _check(response, status, code, 200)
    draft.refresh_from_db()
    if status is not None:
        assert (draft.status, draft.version) == (ContractStatus.DRAFT, 1)
        assert draft.status_changes.count() == 1
        return
    assert draft.status == ContractStatus.ACTIVE
    assert draft.suspension_override == (REASON if override else "")
    record = ChangeRecord.objects.get(object_id=str(draft.pk), action="transition")
    assert record.changes.get("override_reason") == (REASON if override else None)


@pytest.mark.parametrize(("stage", "who", "override", "status", "code"), CASES, ids=IDS)
def test_delivery(
    market: Market,
    make_contract: ContractMaker,
    staff_client: APIClient,
    stage: str,
    who: str,
    override: bool,
    status: Any,
    code: Any,
) -> None:
    contract = make_contract()
    suspend(market.household, stage)
    payload: dict[str, Any] = {
        "contract": str(contract.pk),
        "delivered_on": (today() - timedelta(days=2)).isoformat(),
        "weight_kg": "420.5",
        "quality_grade": "a",
    }
    if override:
        payload["override_reason"] = REASON
    response = client_for(who, market, staff_client).post(
        "/api/v1/deliveries/", payload, format="json"
    )
    _check(response, status, code, 201)
    contract.refresh_from_db()
    if status is not None:
        assert not Delivery.objects.exists()
        assert contract.delivered_kg == 0
        return
    delivery = Delivery.objects.get()
    assert delivery.suspension_override == (REASON if override else "")


def test_suspension_message_in_spanish(make_contract: ContractMaker, market: Market) -> None:
    contract = make_contract()
    suspend(market.household, Stage.RELAPSED)
    payload = {
        "contract": str(contract.pk),
        "delivered_on": (today() - timedelta(days=2)).isoformat(),
        "weight_kg": "10",
        "quality_grade": "a",
    }
    client = key_client(market.coop, BUYER_SCOPES)
    english = client.post("/api/v1/deliveries/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
    spanish = client.post("/api/v1/deliveries/", payload, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert english.json()["errors"][0]["detail"].startswith("New support")
    assert spanish.json()["errors"][0]["detail"].startswith("Se suspenden")
    # The message does not say why (relapse or exclusion are coca data).
    assert "relap" not in english.json()["errors"][0]["detail"].lower()


def _admin_client(market: Market, where: str) -> Any:
    role_groups_sync()
    user = UserFactory.create(username=f"admin-{where}", is_staff=True)
    organization = market.agency if where == "agency" else market.implementer
    membership_assign(user=user, organization=organization, role=Role.PROGRAM_STAFF)
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("stage", "where", "override", "saved", "error_field"),
    [
        (Stage.ENROLLED, "implementer", "", True, None),
        (Stage.RELAPSED, "agency", "", False, "household"),
        # Staff of an implementer are not the programme's agency: no override.
        (Stage.EXCLUDED, "implementer", REASON, False, "suspension_override"),
        (Stage.RELAPSED, "agency", REASON, True, None),
        (Stage.EXCLUDED, "agency", REASON, True, None),
    ],
)
def test_support_in_the_admin(
    market: Market, stage: str, where: str, override: str, saved: bool, error_field: Any
) -> None:
    """Support is recorded in the admin (it has no API): the same rule, as a form error."""
    from registry.models import District

    market.agency.districts.set(District.objects.filter(ubigeo__in=["080910"]))
    suspend(market.household, stage)
    client = _admin_client(market, where)
    response = client.post(
        reverse("admin:farmers_support_add"),
        {
            "household": str(market.household.pk),
            "kind": "inputs",
            "description": "Plantones",
            "cost_pen": "120.00",
            "given_on": today().isoformat(),
            "suspension_override": override,
        },
    )
    if saved:
        assert response.status_code == 302, response.content[:2000]
        support = Support.objects.get()
        assert support.cost_pen == Decimal("120.00")
        assert support.suspension_override == (override if stage != Stage.ENROLLED else "")
    else:
        assert response.status_code == 200
        assert error_field in response.context["adminform"].form.errors
        assert not Support.objects.exists()
