"""Issue 18, point 8: an API root, keys sent as pasted, Spanish error pages for people, the
admin login pointing field officers to /campo/, a favicon."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from registry.api.errors import handler400, handler403, handler500

pytestmark = pytest.mark.django_db


def test_api_root_lists_every_collection_with_absolute_urls(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    resources = body["resources"]
    for name in (
        "households",
        "plots",
        "verifications",
        "title-applications",
        "contracts",
        "deliveries",
        "indicators",
        "transition-events",
        "eradications",
    ):
        assert resources[name] == f"http://testserver/api/v1/{name}/"
    # Detail routes (with an id) are not collections.
    assert not any("<" in url or "(?P" in url for url in resources.values())
    assert body["schema"] == "http://testserver/api/v1/schema/"


def test_every_listed_collection_exists(key_client: Any, api_client: APIClient) -> None:
    client = key_client(scopes=["households:read"])
    for url in api_client.get("/api/v1/").json()["resources"].values():
        path = url.removeprefix("http://testserver")
        # Some answer 403 (scope) or 405 (POST only); none is an unknown route.
        assert client.get(path).status_code != 404, path


def test_a_bare_key_gets_a_hint_and_bearer_is_accepted(make_key: Any) -> None:
    _key, raw = make_key(scopes=["households:read"])
    bare = APIClient()
    bare.credentials(HTTP_AUTHORIZATION=raw)
    response = bare.get("/api/v1/households/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["code"] == "api_key_prefix_missing"
    assert "Api-Key <clave>" in error["detail"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.get("/api/v1/households/").status_code == 200


def test_a_person_gets_a_spanish_404_page_and_the_api_keeps_json() -> None:
    client = Client()
    page = client.get("/campo/no-existe/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "No encontramos esta página" in html and 'href="/campo/"' in html
    client.cookies["django_language"] = "en"  # the language switch's cookie
    english = client.get("/campo/no-existe/")
    assert "We could not find this page" in english.content.decode()
    api = client.get("/api/v1/no-existe/")
    assert api.status_code == 404 and api.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        (handler400, 400, "No se pudo entender la solicitud"),
        (handler403, 403, "No tiene acceso a esta página"),
        (handler500, 500, "Algo falló de nuestro lado"),
    ],
)
def test_spanish_error_pages_for_people(handler: Any, status: int, text: str) -> None:
    request = RequestFactory().get("/campo/")
    with translation.override("es"):
        response = handler(request) if handler is handler500 else handler(request, Exception())
    assert response.status_code == status
    assert text in response.content.decode()


def test_admin_login_sends_a_field_officer_to_the_field_app() -> None:
    get_user_model().objects.create_user("promotora", password="s3gura-Clave!", is_staff=False)
    client = Client()
    login = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert 'href="/campo/ingresar/"' in login.content.decode()
    response = client.post(
        "/admin/login/",
        {"username": "promotora", "password": "s3gura-Clave!"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 200
    assert "ingrese en /campo/" in response.content.decode()
    # A wrong password still gets the usual message: the hint tells nothing about the account.
    wrong = client.post(
        "/admin/login/", {"username": "promotora", "password": "otra"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "/campo/." not in wrong.content.decode()


def test_favicon_redirects_to_the_registry_icon() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("registry/favicon.svg")
