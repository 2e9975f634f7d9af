"""Shared fixtures: API clients authenticated by key or session, and key factories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from registry.choices import OrganizationKind
from registry.models import ApiKey, District, Organization
from registry.services import api_key_create
from tests.factories import OrganizationFactory

KeyMaker = Callable[..., tuple[ApiKey, str]]


@pytest.fixture
def api_client() -> APIClient:
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def organization(db: Any) -> Organization:
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
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if (item.get_closest_marker("postgres") and not on_postgres) or (
            item.get_closest_marker("redis") and not on_redis
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
    return f"registry: database={engine}, redis={redis}"
