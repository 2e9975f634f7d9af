"""``buyers/``: registration with RUC validation (field errors), idempotency, who may register."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from markets import services
from markets.models import BuyerProfile
from registry.choices import ChangeAction, OrganizationKind, Scope
from registry.models import ChangeRecord, Organization

from .conftest import BUYER_SCOPES, Market, key_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/buyers/"


def payload(**overrides: Any) -> dict[str, Any]:
    data = {
        "code": "coop-satipo",
        "name": "Cooperativa Agraria Satipo",
        "ruc": "20487654320",
        "district": "120606",
        "contact_name": "María Rojas",
        "phone": "987 112 233",
        "email": "Compras@Satipo.example.org",
    }
    data.update(overrides)
    return data


@pytest.fixture
def writer(market: Market) -> APIClient:
    """The implementer's key with contracts:write (registers buyers for the programme)."""
    return key_client(market.implementer, [Scope.CONTRACTS_WRITE])


def test_register_a_buyer_and_read_it(writer: APIClient) -> None:
    response = writer.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "code": "coop-satipo",
        "name": "Cooperativa Agraria Satipo",
        "ruc": "20487654320",
        "district": "120606",
        "contact_name": "María Rojas",
        "phone": "+51987112233",
        "email": "compras@satipo.example.org",
        "is_active": True,
        "version": 1,
    }
    organization = Organization.objects.get(code="coop-satipo")
    assert organization.kind == OrganizationKind.BUYER
    assert ChangeRecord.objects.filter(object_id=str(organization.pk)).exists()
    profile = BuyerProfile.objects.get(organization=organization)
    assert ChangeRecord.objects.filter(
        object_id=str(profile.pk), action=ChangeAction.CREATE
    ).exists()
    detail = writer.get(f"{URL}coop-satipo/")
    assert detail.status_code == 200
    assert detail["ETag"] == response["ETag"]  # the representation the create returned
    assert writer.get(f"{URL}coop-satipo/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert detail.json()["phone"] == "+51987112233"


def test_same_code_same_details_is_idempotent_other_details_conflict(writer: APIClient) -> None:
    assert writer.post(URL, payload(), format="json").status_code == 201
    again = writer.post(URL, payload(), format="json")
    assert again.status_code == 200
    assert Organization.objects.filter(code="coop-satipo").count() == 1
    other = writer.post(URL, payload(name="Otra"), format="json")
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "idempotency_conflict"


def test_a_code_of_another_kind_of_organization_conflicts(
    writer: APIClient, market: Market
) -> None:
    response = writer.post(URL, payload(code="implementa"), format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "not_a_buyer"
    assert Organization.objects.get(code="implementa").kind == OrganizationKind.IMPLEMENTER


@pytest.mark.parametrize(
    ("ruc", "code"),
    [
        ("20487654321", "invalid_checksum"),  # wrong check digit
        ("2048765432", "invalid_length"),  # 10 digits
        ("204876543200", "invalid_length"),  # 12 digits
        ("20A87654320", "invalid_format"),  # a letter
        ("RUC20487654", "invalid_format"),  # letters
        ("", "required"),
    ],
)
def test_bad_rucs_are_field_errors(writer: APIClient, ruc: str, code: str) -> None:
    response = writer.post(URL, payload(ruc=ruc), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["type"] == "validation_error"
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {("ruc", code)} or (
        code == "required" and body["errors"][0]["attr"] == "ruc"
    )
    assert not Organization.objects.filter(code="coop-satipo").exists()


def test_other_bad_fields(writer: APIClient) -> None:
    response = writer.post(
        URL, payload(phone="12", district="999999", email="no-es-correo"), format="json"
    )
    assert response.status_code == 400
    attrs = {e["attr"] for e in response.json()["errors"]}
    assert "email" in attrs
    response = writer.post(URL, payload(phone="12", district="999999"), format="json")
    assert {e["attr"] for e in response.json()["errors"]} == {"phone", "district"}


def test_a_ruc_already_taken_is_a_field_error(writer: APIClient, market: Market) -> None:
    response = writer.post(URL, payload(ruc=market.coop.ruc), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "ruc"


def test_registering_needs_contracts_write(market: Market) -> None:
    reader = key_client(market.implementer, [Scope.CONTRACTS_READ])
    assert reader.post(URL, payload(), format="json").status_code == 403
    assert reader.get(URL).status_code == 200  # reference data: any key reads buyers


def test_a_buyer_key_registers_only_itself(market: Market) -> None:
    client = key_client(market.coop, BUYER_SCOPES)
    response = client.post(URL, payload(), format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_own_buyer"
    own = client.post(
        URL,
        payload(
            code="coop-pangoa",
            name="Cooperativa Agraria Pangoa",
            ruc="20131312955",
            contact_name="Esther Huamán",
            phone="+51964123456",
            email="acopio@pangoa.example.org",
        ),
        format="json",
    )
    assert own.status_code == 200, own.json()


def test_only_buyers_are_listed_with_a_fixed_number_of_queries(market: Market) -> None:
    client = key_client(market.implementer, [])
    client.get(URL)  # the key's first use of the minute is noted (one write): warm up
    with CaptureQueriesContext(connection) as few:
        response = client.get(URL)
    assert [b["code"] for b in response.json()["results"]] == ["coop-pangoa", "exportadora"]
    for n in range(25):
        services.buyer_register(
            actor=None, code=f"buyer-{n:02d}", name=f"Comprador {n}", ruc=_ruc(n)
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 27
    assert len(many.captured_queries) == len(few.captured_queries)


def _ruc(n: int) -> str:
    from tests.factories import valid_ruc

    return valid_ruc(5_000 + n)
