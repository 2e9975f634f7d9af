"""The one error shape: 400 field errors for bad parameters, 404/405/500 outside and inside DRF."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.choices import Scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(key_client: Callable[..., APIClient]) -> APIClient:
    return key_client(scopes=[Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE])


def errors_of(response: Any) -> list[tuple[str | None, str]]:
    body = response.json()
    assert set(body) == {"type", "errors"}
    for error in body["errors"]:
        assert set(error) >= {"code", "detail", "attr"}
        assert error["detail"]
    return [(e["attr"], e["code"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("vraem=maybe", "vraem"),
        ("department=5", "department"),
        ("department=ab", "department"),
        ("province=050", "province"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=lots", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_query_parameter_is_400_with_field(client: APIClient, query: str, attr: str) -> None:
    response = client.get(f"/api/v1/districts/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert errors_of(response) == [(attr, "invalid")]


def test_several_bad_filters_are_all_reported(client: APIClient) -> None:
    response = client.get("/api/v1/districts/?vraem=maybe&department=x")
    assert response.status_code == 400
    assert {attr for attr, _code in errors_of(response)} == {"vraem", "department"}


def test_bad_kind_filter_on_organizations(client: APIClient) -> None:
    response = client.get("/api/v1/organizations/?kind=alien")
    assert response.status_code == 400
    assert errors_of(response) == [("kind", "invalid_choice")]


def test_unknown_route_under_api_is_json_404(client: APIClient) -> None:
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert errors_of(response) == [(None, "not_found")]


def test_unknown_object_is_404(client: APIClient) -> None:
    response = client.get("/api/v1/districts/999999/")
    assert response.status_code == 404
    assert errors_of(response) == [(None, "not_found")]
    assert client.get("/api/v1/organizations/nadie/").status_code == 404


def test_method_not_allowed_is_405(client: APIClient) -> None:
    response = client.post("/api/v1/districts/", {"ubigeo": "999999"})
    assert response.status_code == 405
    assert errors_of(response) == [(None, "method_not_allowed")]
    assert client.delete("/api/v1/districts/080910/").status_code == 405


@pytest.mark.urls("tests.registry.plumbing_urls")
def test_malformed_json_is_400(client: APIClient, organization: Any) -> None:
    response = client.generic(
        "PATCH",
        f"/api/test/editable-organizations/{organization.code}/",
        "{not json",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [(None, "parse_error")]


@pytest.mark.urls("tests.registry.plumbing_urls")
def test_model_validation_errors_are_field_errors(client: APIClient, organization: Any) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    response = client.patch(url, {"ruc": "20131312954"})
    assert response.status_code == 400
    assert errors_of(response) == [("ruc", "invalid_checksum")]
    organization.refresh_from_db()
    assert organization.ruc != "20131312954"


@pytest.mark.urls("tests.registry.plumbing_urls")
def test_unhandled_error_is_500_in_the_shape(client: APIClient) -> None:
    client.raise_request_exception = False
    response = client.get("/api/test/editable-organizations/crash/")
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert errors_of(response) == [(None, "server_error")]


def test_non_api_404_stays_html(api_client: APIClient) -> None:
    response = api_client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
