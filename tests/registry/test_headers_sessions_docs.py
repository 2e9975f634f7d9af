"""Issue 13, headers and sessions: Content-Security-Policy, Permissions-Policy, the session idle
timeout and absolute age, and the schema and docs behind a login when they are not public."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from registry.sessions import LAST_SEEN_AT, SIGNED_IN_AT
from tests.conftest import KeyMaker
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DOCS_PAGES = ["/api/v1/docs/", "/api/v1/redoc/"]


def directives(response: Any) -> dict[str, str]:
    pairs = (
        part.strip().partition(" ")
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    return {name: value for name, _sep, value in pairs}


# --- headers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/admin/login/", "/campo/ingresar/", "/api/v1/docs/"])
def test_pages_send_a_strict_csp_and_a_permissions_policy(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval (no nonce asked for)
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["connect-src"] == "'self'"
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_map_tile_server_is_the_only_other_origin() -> None:
    from config.settings.base import _tile_origin

    assert _tile_origin("") == []
    assert _tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == [
        "https://*.tile.example.org"
    ]
    assert _tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == [
        "https://tile.openstreetmap.org"
    ]


def test_no_template_has_an_inline_script_or_handler() -> None:
    """Inline scripts and ``on…=`` handlers would be refused by the policy: scripts are files."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for template in root.glob("*/templates/**/*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(template.relative_to(root)))
    assert offenders == []


# --- sessions ------------------------------------------------------------------------------------
def signed_in(username: str, *, is_staff: bool) -> Client:
    client = Client()
    client.force_login(UserFactory.create(username=username, is_staff=is_staff))
    return client


def age(client: Client, *, idle: int = 0, signed_in: int = 0) -> None:
    """Move the session's clocks back by ``idle`` / ``signed_in`` seconds."""
    session = client.session
    now = int(time.time())
    session[LAST_SEEN_AT] = now - idle
    session[SIGNED_IN_AT] = now - (signed_in or idle)
    session.save()


@override_settings(SESSION_IDLE_TIMEOUT=1800, SESSION_FIELD_IDLE_TIMEOUT=36000)
def test_staff_are_signed_out_after_the_idle_timeout() -> None:
    client = signed_in("personal", is_staff=True)
    age(client, idle=1700)
    assert client.get("/admin/").status_code == 200  # still within 30 minutes
    age(client, idle=1900)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get("/admin/").status_code == 302  # the session is gone for good


@override_settings(SESSION_IDLE_TIMEOUT=1800, SESSION_FIELD_IDLE_TIMEOUT=36000)
def test_field_officers_keep_their_session_for_a_working_day_offline() -> None:
    client = signed_in("tecnico", is_staff=False)
    age(client, idle=3 * 3600)  # three hours in the field without signal
    assert client.get("/campo/").status_code == 200
    age(client, idle=36100)
    response = client.get("/campo/")
    assert response.status_code == 302 and "/campo/ingresar/" in response["Location"]


@override_settings(SESSION_FIELD_IDLE_TIMEOUT=36000, SESSION_COOKIE_AGE=43200)
def test_the_outbox_gets_401_after_expiry_and_keeps_its_records() -> None:
    """An expired session on the API is a 401 (the outbox keeps the record and asks for a
    login), never a 403 or a redirect that it would take for a rejection."""
    client = signed_in("tecnico", is_staff=False)
    age(client, idle=36100)
    response = client.post("/api/v1/households/", {}, content_type="application/json")
    assert response.status_code == 401


@override_settings(SESSION_IDLE_TIMEOUT=1800, SESSION_COOKIE_AGE=43200)
def test_an_active_session_still_ends_at_the_absolute_maximum() -> None:
    client = signed_in("personal", is_staff=True)
    age(client, idle=60, signed_in=43000)
    assert client.get("/admin/").status_code == 200
    age(client, idle=60, signed_in=43300)
    assert client.get("/admin/").status_code == 302


def test_activity_moves_the_idle_clock_at_most_once_a_minute() -> None:
    client = signed_in("personal", is_staff=True)
    age(client, idle=30, signed_in=600)
    client.get("/admin/")
    assert int(time.time()) - client.session[LAST_SEEN_AT] >= 29  # not written again
    age(client, idle=120, signed_in=600)
    client.get("/admin/")
    assert int(time.time()) - client.session[LAST_SEEN_AT] <= 2
    assert int(time.time()) - client.session[SIGNED_IN_AT] >= 599  # sign-in time kept


def test_sign_in_starts_both_clocks() -> None:
    UserFactory.create(username="personal", is_staff=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "personal", "password": "clave-segura-123"}
    )
    assert response.status_code == 302
    now = int(time.time())
    assert now - client.session[SIGNED_IN_AT] <= 2
    assert now - client.session[LAST_SEEN_AT] <= 2


# --- schema and docs ---------------------------------------------------------------------------
@override_settings(API_DOCS_PUBLIC=True)
def test_public_docs_answer_anyone() -> None:
    client = Client()
    for path in DOCS_PAGES:
        assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/docs/?script=").status_code == 200
    assert client.get("/api/v1/schema/?format=json").status_code == 200


@override_settings(API_DOCS_PUBLIC=False)
def test_private_docs_need_a_login_or_a_key(key_client: Any, make_key: KeyMaker) -> None:
    anonymous = Client()
    for path in DOCS_PAGES:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/admin/login/?next={path}"
    assert anonymous.get("/api/v1/docs/?script=").status_code == 302
    schema = APIClient().get("/api/v1/schema/?format=json")
    assert schema.status_code == 401
    assert schema.json()["type"] == "client_error"
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION="Api-Key nope")
    assert bad_key.get("/api/v1/schema/?format=json").status_code == 401

    # A partner's key reads the schema; a signed-in person reads the docs.
    assert key_client(scopes=[]).get("/api/v1/schema/?format=json").status_code == 200
    person = signed_in("tecnico", is_staff=False)
    for path in DOCS_PAGES:
        assert person.get(path).status_code == 200, path
    assert person.get("/api/v1/docs/?script=").status_code == 200
    assert person.get("/api/v1/schema/?format=json").status_code == 200


def production_settings(**extra: str) -> dict[str, Any]:
    """Some production settings, read in a fresh interpreter with dummy secrets."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    names = ("API_DOCS_PUBLIC", "DJANGO_SECRET_KEY_FALLBACKS", "SESSION_IDLE_TIMEOUT")
    env = {k: v for k, v in os.environ.items() if k not in (*names, "SESSION_MAX_AGE")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="registry.example.org",
        **extra,
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'docs': s.API_DOCS_PUBLIC, 'fallbacks': s.SECRET_KEY_FALLBACKS, "
        "'idle': s.SESSION_IDLE_TIMEOUT, 'max': s.SESSION_COOKIE_AGE}))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_production_defaults_and_environment() -> None:
    assert production_settings() == {"docs": False, "fallbacks": [], "idle": 1800, "max": 43200}
    assert production_settings(
        API_DOCS_PUBLIC="true",
        DJANGO_SECRET_KEY_FALLBACKS="old-key-1,old-key-2",
        SESSION_IDLE_TIMEOUT="900",
        SESSION_MAX_AGE="28800",
    ) == {"docs": True, "fallbacks": ["old-key-1", "old-key-2"], "idle": 900, "max": 28800}
