"""Running modes: settings, health check, and the real PostgreSQL and Redis servers in CI."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.test import Client

from config.celery import app as celery_app
from registry.models import Organization


def test_spanish_first_and_lima_time() -> None:
    assert settings.LANGUAGE_CODE == "es-pe"
    assert [code for code, _name in settings.LANGUAGES] == ["es", "en"]
    assert settings.TIME_ZONE == "America/Lima"
    assert settings.USE_TZ


def test_celery_is_configured_for_reliable_delivery() -> None:
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.django_db
def test_healthz() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "broker": "in_process",
        "outbox": {"status": "ok", "pending": 0, "oldest_pending_seconds": None},
    }


@pytest.mark.redis
def test_redis_cache_and_broker_answer() -> None:
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("registry-test", {"a": 1}, 10)
    assert cache.get("registry-test") == {"a": 1}
    assert celery_app.conf.broker_url.startswith("redis://")
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        assert conn.connected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_enforces_the_partial_unique_ruc() -> None:
    assert connection.vendor == "postgresql"
    Organization.objects.create(code="a", name="A", kind="buyer", ruc="20131312955")
    Organization.objects.create(code="b", name="B", kind="buyer", ruc="")
    Organization.objects.create(code="c", name="C", kind="buyer", ruc="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(code="d", name="D", kind="buyer", ruc="20131312955")
