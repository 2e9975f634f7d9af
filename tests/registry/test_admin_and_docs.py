"""A new user's path: seed, admin login, API docs, a key answering the VRAEM districts; admin."""

import hashlib
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from registry.geography import VRAEM_DISTRICTS
from registry.models import ApiKey, ChangeRecord, Organization
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_MODELS = [
    "department",
    "province",
    "district",
    "organization",
    "program",
    "membership",
    "apikey",
    "changerecord",
]


@override_settings(DEBUG=True)
def test_new_user_path_seed_login_docs_and_vraem() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    password = text.split("admin / ")[1].split()[0]
    raw_key = text.split("Demo API key:")[1].split()[0]

    browser = Client()
    response = browser.post(
        reverse("admin:login"),
        {"username": "admin", "password": password, "next": "/admin/"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.context["user"].is_superuser

    docs = browser.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"//cdn" not in docs.content  # served offline from the sidecar package
    schema = browser.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/districts/" in schema.json()["paths"]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    ubigeos: set[str] = set()
    url = "/api/v1/districts/?vraem=true&page_size=100"
    while url:
        body = api.get(url).json()
        ubigeos |= {row["ubigeo"] for row in body["results"]}
        url = body["next"]
    assert ubigeos == VRAEM_DISTRICTS


@pytest.fixture
def admin_client_es() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelists_render(admin_client_es: Client, model: str) -> None:
    OrganizationFactory.create(code="coop")
    response = admin_client_es.get(reverse(f"admin:registry_{model}_changelist"))
    assert response.status_code == 200


def test_admin_is_in_spanish_by_default(admin_client_es: Client) -> None:
    response = admin_client_es.get(reverse("admin:index"))
    assert response.status_code == 200
    assert 'lang="es' in response.content.decode()


def test_admin_search_and_autocomplete(admin_client_es: Client) -> None:
    response = admin_client_es.get(reverse("admin:registry_district_changelist") + "?q=Pichari")
    assert "080910" in response.content.decode()
    auto = admin_client_es.get(
        "/admin/autocomplete/",
        {
            "term": "Kimb",
            "app_label": "registry",
            "model_name": "organization",
            "field_name": "districts",
        },
    )
    assert auto.status_code == 200
    assert [r["id"] for r in auto.json()["results"]] == ["080907"]


def test_admin_issues_a_key_once_and_stores_its_hash(admin_client_es: Client) -> None:
    org = OrganizationFactory.create(code="impl")
    response = admin_client_es.post(
        reverse("admin:registry_apikey_add"),
        {"organization": org.pk, "name": "campo", "scopes": ["households:read"]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    raw = next(m for m in messages if "." in m.split()[-1]).split()[-1]
    api_key = ApiKey.objects.get(organization=org)
    assert api_key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert api_key.scopes == ["households:read", "reference:read"]
    assert ChangeRecord.objects.filter(object_id=str(api_key.pk), action="create").exists()


def test_admin_revoke_action(admin_client_es: Client) -> None:
    from registry.services import api_key_create

    org = OrganizationFactory.create(code="impl")
    api_key, _raw = api_key_create(organization=org, scopes=[])
    response = admin_client_es.post(
        reverse("admin:registry_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(api_key.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_reference_data_cannot_be_edited_or_deleted(admin_client_es: Client) -> None:
    assert admin_client_es.get(reverse("admin:registry_district_add")).status_code == 403
    org = OrganizationFactory.create(code="keep")
    url = reverse("admin:registry_organization_delete", args=[org.pk])
    assert admin_client_es.get(url).status_code == 403
    assert Organization.objects.filter(code="keep").exists()


def test_admin_edit_moves_the_version_and_refuses_stale_forms(admin_client_es: Client) -> None:
    org = OrganizationFactory.create(code="edit", kind="buyer", ruc="20131312955")
    url = reverse("admin:registry_organization_change", args=[org.pk])
    form = {
        "code": "edit",
        "name": "Editada",
        "kind": "buyer",
        "ruc": "20131312955",
        "is_active": "on",
        "edited_version": "1",
    }
    response = admin_client_es.post(url, form)
    assert response.status_code == 302, response.content
    org.refresh_from_db()
    assert (org.name, org.version) == ("Editada", 2)

    # A second editor who opened version 1 cannot overwrite version 2.
    stale = admin_client_es.post(url, {**form, "name": "Pisada"})
    assert stale.status_code == 200
    errors = stale.context["adminform"].form.non_field_errors().as_data()
    assert [e.code for e in errors] == ["stale_version"]
    org.refresh_from_db()
    assert (org.name, org.version) == ("Editada", 2)


def test_admin_is_spanish_even_for_english_browsers_until_english_is_chosen(
    admin_client_es: Client,
) -> None:
    index = reverse("admin:index")
    english_browser = admin_client_es.get(index, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="es' in english_browser.content.decode()
    assert 'id="language-select"' in english_browser.content.decode()
    chosen = admin_client_es.post("/i18n/setlang/", {"language": "en", "next": index})
    assert chosen.status_code == 302
    assert 'lang="en' in admin_client_es.get(index).content.decode()


def test_api_follows_accept_language() -> None:
    api = APIClient()
    spanish = api.get("/api/v1/districts/").json()["errors"][0]["detail"]
    english = api.get("/api/v1/districts/", HTTP_ACCEPT_LANGUAGE="en").json()["errors"][0]["detail"]
    assert spanish != english
    assert english == "Authentication credentials were not provided."
