"""Brute-force protection: login lockout (django-axes) on the admin and field logins, and the
per-address limit on invalid API keys (issue 13, point 6)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from registry import bruteforce
from tests.conftest import KeyMaker
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "clave-segura-123"
DISTRICTS = "/api/v1/districts/"
LOCKED_ES = "Demasiados intentos fallidos. Vuelva a intentarlo en 15 minutos."


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _login(client: Client, url: str, username: str, password: str, address: str) -> Any:
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


# --- logins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/login/", "/campo/ingresar/"])
def test_wrong_passwords_lock_out_the_user_at_that_address(url: str, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory.create(username="ana", is_staff=True)
    UserFactory.create(username="beto", is_staff=True)
    attacker = Client()
    answers = [_login(attacker, url, "ana", "mala", "203.0.113.7") for _ in range(5)]
    assert [r.status_code for r in answers[:4]] == [200] * 4  # the form again, with its error
    locked = answers[4]
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    assert LOCKED_ES in locked.content.decode()
    # The right password is refused too, until the cool-off has passed.
    again = _login(attacker, url, "ana", PASSWORD, "203.0.113.7")
    assert again.status_code == 429 and not _signed_in(attacker)
    # Another user at the same address, and the same user elsewhere, are not locked.
    other_user = Client()
    assert _login(other_user, url, "beto", PASSWORD, "203.0.113.7").status_code == 302
    assert _signed_in(other_user)
    elsewhere = Client()
    assert _login(elsewhere, url, "ana", PASSWORD, "198.51.100.20").status_code == 302
    assert _signed_in(elsewhere)
    # After the cool-off (15 minutes by default) the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login(attacker, url, "ana", PASSWORD, "203.0.113.7").status_code == 302
    assert _signed_in(attacker)


def test_lockout_page_looks_like_its_login_and_speaks_english_on_request(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory.create(username="ana")
    field = Client()
    for _ in range(2):
        locked = _login(field, "/campo/ingresar/", "ana", "mala", "203.0.113.8")
    html = locked.content.decode()
    assert locked.status_code == 429
    assert "Inicio de sesión bloqueado" in html and 'href="/campo/ingresar/"' in html
    assert "field/field.css" in html  # the field app's look
    english = Client()
    english.cookies["django_language"] = "en"
    for _ in range(2):
        locked = _login(english, "/admin/login/", "ana", "mala", "203.0.113.9")
    assert locked.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in locked.content.decode()


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory.create(username="ana")
    client = Client()
    for n in range(2):
        client.post(
            "/admin/login/",
            {"username": "ana", "password": "mala"},
            REMOTE_ADDR="203.0.113.10",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    forged = client.post(
        "/admin/login/",
        {"username": "ana", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.10",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert forged.status_code == 429


def test_client_address_trusts_only_the_configured_proxies(settings: Any, rf: Any) -> None:
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    settings.TRUSTED_PROXY_COUNT = 0
    assert bruteforce.client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert bruteforce.client_address(request) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 2
    assert bruteforce.client_address(request) == "6.6.6.6"


# --- API keys -------------------------------------------------------------------------------


def _bad(client: APIClient, address: str, **extra: Any) -> Any:
    client.credentials(HTTP_AUTHORIZATION="Api-Key AAAAAAAAAA.wrong-secret")
    return client.get(DISTRICTS, REMOTE_ADDR=address, **extra)


def test_invalid_keys_are_throttled_per_address(
    api_client: APIClient, make_key: KeyMaker, settings: Any
) -> None:
    settings.API_KEY_FAILURE_LIMIT = 3
    _api_key, raw = make_key()
    address = "192.0.2.50"
    assert [_bad(api_client, address).status_code for _ in range(3)] == [401] * 3
    with CaptureQueriesContext(connection) as queries:
        blocked = _bad(api_client, address)
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= settings.API_KEY_FAILURE_WINDOW
    body = blocked.json()
    assert body["type"] == "client_error"
    assert [e["code"] for e in body["errors"]] == ["too_many_failed_attempts"]
    assert body["errors"][0]["attr"] is None and body["errors"][0]["detail"]
    assert not [q for q in queries.captured_queries if "apikey" in q["sql"].lower()]
    # Documented: a valid key from a blocked address waits for the window's end too...
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS, REMOTE_ADDR=address).status_code == 429
    # ...while other addresses are not affected.
    assert api_client.get(DISTRICTS, REMOTE_ADDR="192.0.2.51").status_code == 200


def test_the_block_ends_with_its_window(
    api_client: APIClient, make_key: KeyMaker, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.API_KEY_FAILURE_LIMIT = 2
    _api_key, raw = make_key()
    address = "192.0.2.60"
    for _ in range(2):
        _bad(api_client, address)
    assert _bad(api_client, address).status_code == 429
    later = time.time() + settings.API_KEY_FAILURE_WINDOW
    monkeypatch.setattr(bruteforce.time, "time", lambda: later)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS, REMOTE_ADDR=address).status_code == 200
    assert _bad(api_client, address).status_code == 401


def test_invalid_keys_are_counted_per_forwarded_address_behind_trusted_proxies(
    api_client: APIClient, settings: Any
) -> None:
    settings.API_KEY_FAILURE_LIMIT = 2
    proxy = "10.0.0.1"
    # Without a trusted proxy the header is ignored: one client, however it fills the header.
    settings.TRUSTED_PROXY_COUNT = 0
    _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.1")
    _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.3").status_code == 429
    # Behind one trusted proxy, each client behind it has its own count.
    cache.clear()
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(2):
        _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert _bad(api_client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 401


def test_an_unreachable_cache_fails_open_with_a_log_line(
    api_client: APIClient,
    make_key: KeyMaker,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.API_KEY_FAILURE_LIMIT = 1

    class DownCache:
        """The counters' cache, unreachable (the other users of the cache are not ours)."""

        def __getattr__(self, name: str) -> Any:
            def down(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionError("cache unreachable")

            return down

    monkeypatch.setattr(bruteforce, "cache", DownCache())
    _api_key, raw = make_key()
    with caplog.at_level(logging.WARNING, logger="registry.degraded"):
        assert [_bad(api_client, "192.0.2.70").status_code for _ in range(3)] == [401] * 3
    # One line, not one per request: the cache is skipped while it is down.
    assert caplog.text.count("brute-force counter") == 1
    assert bruteforce.window_take("x", "y", limit=1, window=60) == 0
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS, REMOTE_ADDR="192.0.2.70").status_code == 200
