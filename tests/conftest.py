"""Shared fixtures: API clients authenticated by key or session, and key factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from registry import degraded
from registry.choices import OrganizationKind
from registry.models import ApiKey, District, Organization
from registry.services import api_key_create
from tests.factories import OrganizationFactory

KeyMaker = Callable[..., tuple[ApiKey, str]]


@pytest.fixture(autouse=True)
def _no_degraded_state_between_tests() -> Iterator[None]:
    """A cache or broker marked down by one test is not down for the next."""
    degraded.reset()
    yield
    degraded.reset()


@pytest.fixture(scope="module")
def demo_for_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """``seed_demo`` once for the tests of a module that only read it or change it in their
    own transaction: seeded in a transaction rolled back after the module's last test, each
    test running in a savepoint inside it (``django_db``), so what one test changes the next
    does not see. Its on-commit work (the sweep's recomputes) runs at once, as a worker would
    run it. Once a test asked for it, the module's later tests see the demo too: use it in
    modules whose tests all want the demo or no database."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import transaction
    from django.test import TestCase

    with django_db_blocker.unblock(), transaction.atomic():
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("seed_demo", "--force", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def api_client() -> APIClient:
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def geography(db: Any) -> None:
    """The INEI geography that a data migration loads. Transactional tests (browser, worker)
    empty every table when they finish, the geography with them: put it back if it is gone."""
    if not District.objects.filter(ubigeo="080910").exists():
        from registry.geography import load_geography
        from registry.models import Department, Province

        load_geography(Department, Province, District)


@pytest.fixture
def organization(db: Any, geography: None) -> Organization:
    """An implementing agency assigned two VRAEM districts (Pichari, Kimbiri)."""
    org = OrganizationFactory.create(code="implementa", kind=OrganizationKind.IMPLEMENTER)
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    return org


@pytest.fixture
def make_key(organization: Organization) -> KeyMaker:
    """Issue a key: ``make_key(scopes=[...], org=..., expired=..., revoked=...)``."""

    def _make(
        scopes: list[str] | None = None,
        org: Organization | None = None,
        expired: bool = False,
        revoked: bool = False,
    ) -> tuple[ApiKey, str]:
        api_key, raw = api_key_create(organization=org or organization, scopes=scopes or [])
        if expired:
            api_key.expires_at = timezone.now() - timedelta(minutes=1)
            api_key.save(update_fields=["expires_at"])
        if revoked:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
        return api_key, raw

    return _make


@pytest.fixture
def key_client(make_key: KeyMaker) -> Callable[..., APIClient]:
    """``key_client(scopes=[...])`` → an APIClient sending ``Authorization: Api-Key <key>``."""

    def _client(**kwargs: Any) -> APIClient:
        _api_key, raw = make_key(**kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        return client

    return _client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` / ``redis`` run where those servers are configured (CI runs both
    passes); elsewhere they are deselected, and the header says so."""
    import os

    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    on_redis = bool(os.environ.get("REDIS_URL"))
    has_browser = chromium_executable() is not None
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if (
            (item.get_closest_marker("postgres") and not on_postgres)
            or (item.get_closest_marker("redis") and not on_redis)
            or (item.get_closest_marker("browser") and not has_browser)
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    import os

    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    redis = "yes" if os.environ.get("REDIS_URL") else "no (redis-marked tests deselected)"
    browser = chromium_executable() or "no (browser-marked tests deselected)"
    return f"registry: database={engine}, redis={redis}, chromium={browser}"


def chromium_executable() -> str | None:
    """Debian's Chromium (``CHROMIUM_PATH`` or on ``PATH``) when it and Playwright are installed;
    CI installs both, so browser tests always run there."""
    import importlib.util
    import os
    import shutil

    if importlib.util.find_spec("playwright") is None:
        return None
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return path or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def artifacts_dir() -> Any:
    """Where browser tests save screenshots (``TEST_ARTIFACTS_DIR``, default var/test-artifacts)."""
    import os
    from pathlib import Path

    from django.conf import settings

    path = Path(
        os.environ.get("TEST_ARTIFACTS_DIR") or Path(settings.BASE_DIR) / "var" / "test-artifacts"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium() -> Any:
    """A headless Chromium driven by Playwright, shared by the session's browser tests."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM would then refuse to
    # run here (SynchronousOnlyOperation) although nothing is async (Playwright's documented fix).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    executable = chromium_executable()
    assert executable, "browser tests need Chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()
