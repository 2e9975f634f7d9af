"""Verification photos: JPEG/PNG only (415), size limit (413), SHA-256 stored, pending only."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from farmers import services
from farmers.models import Verification
from registry.choices import Scope
from tests.farmers.conftest import WRITE, ClientMaker, household_payload
from tests.farmers.evidence_helpers import PICHARI_FIX

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _visit(client: APIClient) -> str:
    household = client.post("/api/v1/households/", household_payload(), format="json").json()
    visit = client.post(
        "/api/v1/verifications/",
        {
            "household": household["id"],
            "visited_on": "2026-09-14",
            "method": "field_visit",
            "coca_ha": "0.00",
            "location": PICHARI_FIX,
        },
        format="json",
    )
    assert visit.status_code == 201, visit.content
    return str(visit.json()["id"])


def _upload(client: APIClient, visit_id: str, content: bytes, name: str = "foto.jpg") -> Any:
    return client.post(
        f"/api/v1/verifications/{visit_id}/photo/",
        {"photo": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.mark.parametrize(("content", "name"), [(JPEG, "foto.jpg"), (PNG, "foto.png")])
def test_photo_is_stored_with_its_hash(client_for: ClientMaker, content: bytes, name: str) -> None:
    client = client_for()
    visit_id = _visit(client)
    response = _upload(client, visit_id, content, name)
    assert response.status_code == 200, response.content
    digest = hashlib.sha256(content).hexdigest()
    assert response.json()["photo_sha256"] == digest
    stored = Verification.objects.get(pk=visit_id)
    assert stored.photo.read() == content


def test_other_types_are_415(client_for: ClientMaker) -> None:
    client = client_for()
    visit_id = _visit(client)
    response = _upload(client, visit_id, GIF, "foto.gif")
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    assert Verification.objects.get(pk=visit_id).photo_sha256 == ""


def test_large_photo_is_413(client_for: ClientMaker, monkeypatch: Any) -> None:
    monkeypatch.setattr(services.visits, "PHOTO_MAX_BYTES", 100)
    client = client_for()
    visit_id = _visit(client)
    response = _upload(client, visit_id, JPEG)
    assert response.status_code == 413
    assert response.json()["errors"][0]["attr"] == "photo"


def test_photo_only_while_pending_and_only_in_scope(
    client_for: ClientMaker, other_partner: Any
) -> None:
    client = client_for()
    visit_id = _visit(client)
    assert _upload(client_for(org=other_partner), visit_id, JPEG).status_code == 404
    assert _upload(client, visit_id, PNG, "foto.png").status_code == 200  # a coca-free visit's
    reviewer = client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW], reviewer=True)
    confirmed = reviewer.post(f"/api/v1/verifications/{visit_id}/transition/", {"to": "confirmed"})
    assert confirmed.status_code == 200, confirmed.content
    late = _upload(client, visit_id, JPEG)
    assert late.status_code == 409
    assert late.json()["errors"][0]["code"] == "visit_reviewed"
