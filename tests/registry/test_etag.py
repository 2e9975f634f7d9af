"""If-Match: a stale version gives 412 and nothing changes; the right one moves the version on."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.choices import Scope
from registry.models import ChangeRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.registry.plumbing_urls")]


@pytest.fixture
def client(key_client: Callable[..., APIClient]) -> APIClient:
    return key_client(scopes=[Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE])


def test_stale_if_match_is_412_and_changes_nothing(client: APIClient, organization: Any) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    etag = client.get(url)["ETag"]

    first = client.patch(url, {"name": "Primera edición"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2

    second = client.patch(url, {"name": "Edición perdida"}, HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert second.json()["errors"][0]["code"] == "precondition_failed"
    organization.refresh_from_db()
    assert organization.name == "Primera edición"
    assert organization.version == 2

    fresh = client.get(url)["ETag"]
    assert fresh != etag
    assert client.patch(url, {"name": "Tercera"}, HTTP_IF_MATCH=fresh).status_code == 200


def test_write_leaves_history(client: APIClient, organization: Any) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    client.patch(url, {"name": "Nuevo nombre"}, HTTP_IF_MATCH=client.get(url)["ETag"])
    record = ChangeRecord.objects.filter(object_id=str(organization.pk)).latest("at")
    assert record.action == "update"
    assert record.changes["name"][1] == "Nuevo nombre"
    assert record.created_by_key is not None


def test_unchanged_patch_keeps_the_version(client: APIClient, organization: Any) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    etag = client.get(url)["ETag"]
    response = client.patch(url, {"name": organization.name}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["version"] == 1


@pytest.mark.parametrize(("header", "status"), [('"abc"', 412), ('W/"1"', 400), ("*", 200)])
def test_if_match_forms(client: APIClient, organization: Any, header: str, status: int) -> None:
    url = f"/api/test/editable-organizations/{organization.code}/"
    assert client.patch(url, {"name": "X"}, HTTP_IF_MATCH=header).status_code == status


def test_a_change_that_leaves_the_version_changes_the_etag(
    client: APIClient, organization: Any
) -> None:
    """Any change to the representation, even one written without a version bump (as the
    transition engine writes ``stage``), gives a new ETag: 200 for the old one, 412 to write."""
    url = f"/api/test/editable-organizations/{organization.code}/"
    old = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=old).status_code == 304
    type(organization).objects.filter(pk=organization.pk).update(name="Renombrada por lote")
    fresh = client.get(url, HTTP_IF_NONE_MATCH=old)
    assert fresh.status_code == 200
    assert fresh.json() == {**fresh.json(), "name": "Renombrada por lote", "version": 1}
    assert fresh["ETag"] != old
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"x", {fresh["ETag"]}').status_code == 304
    assert client.patch(url, {"name": "Con copia vieja"}, HTTP_IF_MATCH=old).status_code == 412
    assert client.patch(url, {"name": "Al día"}, HTTP_IF_MATCH=fresh["ETag"]).status_code == 200
