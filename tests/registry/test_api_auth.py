"""API keys: 401 for missing, bad, revoked or expired keys; 403 without the scope."""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from registry.choices import OrganizationKind, Role, Scope
from registry.models import ApiKey
from registry.services import api_key_authenticate, api_key_revoke, membership_assign
from tests.conftest import KeyMaker
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

DISTRICTS = "/api/v1/districts/"


def assert_error(response: Any, status: int, code: str, error_type: str = "client_error") -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] == error_type
    assert [e["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["detail"]
    assert "attr" in body["errors"][0]


def test_no_credentials_is_401_with_challenge(api_client: APIClient) -> None:
    response = api_client.get(DISTRICTS)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key nonsense",
        "Api-Key ",
        "Api-Key AAAAAAAAAA.wrong-secret",
        "api-key AAAAAAAAAA.",
    ],
)
def test_bad_key_is_401(api_client: APIClient, header: str) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(DISTRICTS)
    assert_error(response, 401, "invalid_api_key")


def test_right_prefix_wrong_secret_is_401(api_client: APIClient, make_key: KeyMaker) -> None:
    api_key, _raw = make_key()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.prefix}.not-the-secret")
    assert_error(api_client.get(DISTRICTS), 401, "invalid_api_key")


def test_revoked_key_is_401(api_client: APIClient, make_key: KeyMaker) -> None:
    api_key, raw = make_key()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS).status_code == 200
    api_key_revoke(api_key=api_key)
    assert_error(api_client.get(DISTRICTS), 401, "revoked_api_key")


def test_expired_key_is_401(api_client: APIClient, make_key: KeyMaker) -> None:
    _api_key, raw = make_key(expired=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert_error(api_client.get(DISTRICTS), 401, "expired_api_key")


def test_key_of_inactive_organization_is_401(
    api_client: APIClient, make_key: KeyMaker, organization: Any
) -> None:
    _api_key, raw = make_key()
    organization.is_active = False
    organization.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert_error(api_client.get(DISTRICTS), 401, "inactive_organization")


def test_only_the_hash_is_stored(make_key: KeyMaker) -> None:
    api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())
    assert stored.scopes == [Scope.HOUSEHOLDS_READ, Scope.REFERENCE_READ]


def test_last_used_is_recorded_at_most_once_a_minute(make_key: KeyMaker) -> None:
    api_key, raw = make_key()
    assert api_key.last_used_at is None
    first = api_key_authenticate(raw).last_used_at
    assert first is not None
    assert api_key_authenticate(raw).last_used_at == first
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    refreshed = api_key_authenticate(raw).last_used_at
    assert refreshed is not None
    assert refreshed >= first


@pytest.mark.urls("tests.registry.plumbing_urls")
def test_key_without_the_scope_is_403(
    key_client: Callable[..., APIClient], organization: Any
) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    response = key_client(scopes=[Scope.TITLES_READ]).get(url)
    assert_error(response, 403, "missing_scope")
    assert Scope.HOUSEHOLDS_READ in response.json()["errors"][0]["detail"]
    assert key_client(scopes=[Scope.HOUSEHOLDS_READ]).get(url).status_code == 200


@pytest.mark.urls("tests.registry.plumbing_urls")
def test_write_needs_the_write_scope(
    key_client: Callable[..., APIClient], organization: Any
) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    reader = key_client(scopes=[Scope.HOUSEHOLDS_READ])
    assert_error(reader.patch(url, {"name": "Otro"}), 403, "missing_scope")
    organization.refresh_from_db()
    assert organization.name != "Otro"


def test_every_key_reads_reference_data(key_client: Callable[..., APIClient]) -> None:
    client = key_client(scopes=[Scope.INDICATORS_READ])
    for url in ("/api/v1/districts/", "/api/v1/organizations/", "/api/v1/programs/"):
        assert client.get(url).status_code == 200, url


def test_session_user_without_role_is_403_and_with_role_is_200(api_client: APIClient) -> None:
    user = UserFactory.create(username="sin-rol")
    api_client.force_login(user)
    assert_error(api_client.get(DISTRICTS), 403, "missing_scope")
    org = OrganizationFactory.create(kind=OrganizationKind.IMPLEMENTER)
    membership_assign(user=user, organization=org, role=Role.FIELD_OFFICER)
    api_client.force_login(user)
    assert api_client.get(DISTRICTS).status_code == 200


def test_session_writes_need_csrf(api_client: APIClient) -> None:
    user = UserFactory.create(username="csrf", is_superuser=True, is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(DISTRICTS, {})
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"


def test_expiry_in_the_future_is_accepted(api_client: APIClient, make_key: KeyMaker) -> None:
    api_key, raw = make_key()
    api_key.expires_at = timezone.now() + timedelta(days=1)
    api_key.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS).status_code == 200
