"""Redis down does not take the registry down (issue 13, "Degrade, don't fail, without Redis").

With the cache and the broker unreachable, API reads answer 200 (the throttle counts per
process), a household registration answers 201 and its stage recompute waits in the outbox,
``/healthz`` says "degraded", and the relay delivers the recompute once the broker is back.

The first tests run anywhere (SQLite): they point the cache and the broker at a closed port.
The last one (PostgreSQL + Redis) starts its own ``redis-server``, kills it mid-test and starts
it again, with a real Celery worker doing the recompute.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from farmers.choices import Stage
from farmers.models import Household, StageChange
from farmers.transition import RECOMPUTE_TOPIC
from registry import degraded, outbox
from registry.api.throttling import LOCAL_CACHE, ClientRateThrottle
from registry.models import OutboxMessage
from tests.farmers.conftest import ClientMaker, household_payload

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = "/api/v1/households/"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_cache(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": f"test-{os.getpid()}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def point_celery_at(url: str, *, eager: bool, queue: str | None = None) -> None:
    """Send tasks to ``url`` (or run them in-process): new settings, fresh connection pools."""
    conf = current_app.conf
    conf.broker_url = url  # type: ignore[misc]
    conf.task_always_eager = eager
    if queue is not None:
        conf.task_default_queue = queue
    # Forget the app's connection pools, as ``app.close()`` does, but keep the app registered
    # (``close()`` deregisters it: tasks imported afterwards would not be registered with it).
    current_app._pool = None  # type: ignore[attr-defined]
    current_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def celery_restored() -> Iterator[None]:
    """Put the Celery app and the degraded-mode memory back as they were."""
    conf = current_app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    degraded.reset()
    LOCAL_CACHE.clear()
    yield
    point_celery_at(saved[0], eager=saved[1], queue=saved[2])
    degraded.reset()
    LOCAL_CACHE.clear()


def make_stale(household_id: Any) -> None:
    """Store a stage the evidence does not support: only a recompute puts it back."""
    Household.objects.filter(pk=household_id).update(stage=Stage.COCA_FREE)


def recomputed(household_id: Any) -> bool:
    return (
        Household.objects.get(pk=household_id).stage == Stage.ENROLLED
        and StageChange.objects.filter(household_id=household_id, to_stage=Stage.ENROLLED).exists()
    )


# --- anywhere: the cache and the broker on a closed port ------------------------------------------


@pytest.mark.django_db
def test_reads_answer_200_with_the_cache_down_and_the_throttle_counts_per_process(
    client_for: ClientMaker,
    celery_restored: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_for()
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "4/min"})
    with (
        override_settings(CACHES=redis_cache(free_port())),
        caplog.at_level(logging.WARNING, logger="registry.degraded"),
    ):
        started = time.monotonic()
        codes = [client.get("/api/v1/districts/?vraem=true").status_code for _ in range(5)]
        elapsed = time.monotonic() - started
    # Served while the cache is down, and still limited (per process) after the budget.
    assert codes == [200, 200, 200, 200, 429]
    assert elapsed < 5
    warnings = [r for r in caplog.records if r.name == "registry.degraded"]
    assert len(warnings) == 1  # one line, not one per request
    assert "cache degraded" in warnings[0].getMessage()


@pytest.mark.django_db
def test_the_cache_is_tried_again_after_the_retry_delay(
    client_for: ClientMaker, celery_restored: None
) -> None:
    client = client_for()
    with override_settings(CACHES=redis_cache(free_port()), DEGRADED_RETRY_AFTER=0):
        assert client.get("/api/v1/districts/").status_code == 200
        assert client.get("/api/v1/districts/").status_code == 200
    # Back on a working cache, the shared budget is used again.
    assert not degraded.is_down("cache")


@pytest.mark.django_db
def test_healthz_says_degraded_when_cache_and_broker_are_down(celery_restored: None) -> None:
    port = free_port()
    point_celery_at(f"redis://127.0.0.1:{port}/0", eager=False)
    with override_settings(CACHES=redis_cache(port)):
        response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert (body["database"], body["cache"], body["broker"]) == ("ok", "error", "error")
    assert body["outbox"] == {"status": "ok", "pending": 0, "oldest_pending_seconds": None}


@pytest.mark.django_db
def test_healthz_reports_an_outbox_backlog(celery_restored: None) -> None:
    old = timezone.now() - timedelta(minutes=30)
    OutboxMessage.objects.create(topic=RECOMPUTE_TOPIC, payload={}, created_at=old)
    body = Client().get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["outbox"]["status"] == "backlog"
    assert body["outbox"]["pending"] == 1
    assert body["outbox"]["oldest_pending_seconds"] >= 1800


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(connection, "cursor", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "error"


@pytest.mark.django_db(transaction=True)
def test_registration_answers_201_with_the_broker_down_and_the_relay_delivers_later(
    client_for: ClientMaker, celery_restored: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for()
    port = free_port()
    point_celery_at(f"redis://127.0.0.1:{port}/0", eager=False)
    with (
        override_settings(CACHES=redis_cache(port)),
        caplog.at_level(logging.WARNING, logger="registry.degraded"),
    ):
        first = client.post(HOUSEHOLDS, household_payload(), format="json")
        second = client.post(
            HOUSEHOLDS,
            household_payload(
                community="Otra",
                members=[
                    {
                        **household_payload()["members"][0],
                        "document_number": "70000001",
                        "given_names": "Rosa",
                    }
                ],
            ),
            format="json",
        )
    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    ids = [first.json()["id"], second.json()["id"]]
    rows = list(OutboxMessage.objects.order_by("id"))
    assert [row.topic for row in rows] == [RECOMPUTE_TOPIC, RECOMPUTE_TOPIC]
    assert [row.payload["household_ids"] for row in rows] == [[ids[0]], [ids[1]]]
    assert all(row.sent_at is None for row in rows)
    # The first hand-off failed and says why; the second was left to the relay at once.
    assert rows[0].attempts == 1 and "Error" in rows[0].last_error
    assert rows[1].attempts == 0
    assert len([r for r in caplog.records if r.name == "registry.degraded"]) <= 2
    for pk in ids:
        make_stale(pk)
    # Still down: the relay stops at the first broker error and keeps the rows.
    OutboxMessage.objects.update(available_at=timezone.now())
    result = outbox.relay()
    assert (result.sent, result.failed, result.stopped) == (0, 1, True)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 2
    # The broker is back (tasks in-process here): the relay delivers, the recompute happens.
    point_celery_at("memory://localhost//", eager=True)
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.relay().sent == 2
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert all(recomputed(pk) for pk in ids)
    # Relaying again sends nothing twice.
    assert outbox.relay().sent == 0


# --- PostgreSQL + Redis: a real redis-server stopped and started, a real worker ----------------


class RedisServer:
    """A throw-away ``redis-server`` on a free port (no persistence)."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is needed (apt-get install redis-server)"
        self.process = subprocess.Popen(  # noqa: S603
            [
                executable,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.tmp)),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_redis_stopped_and_started_again(
    client_for: ClientMaker, celery_restored: None, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    worker: subprocess.Popen[bytes] | None = None
    queue = f"test-outbox-{os.getpid()}"
    try:
        point_celery_at(server.url, eager=False, queue=queue)
        client = client_for()
        with override_settings(CACHES=redis_cache(server.port)):
            assert client.get("/api/v1/districts/").status_code == 200
            health = Client().get("/healthz").json()
            assert (health["status"], health["cache"], health["broker"]) == ("ok", "ok", "ok")

            server.stop()
            assert client.get("/api/v1/districts/").status_code == 200
            assert client.get(HOUSEHOLDS).status_code == 200
            created = client.post(HOUSEHOLDS, household_payload(), format="json")
            assert created.status_code == 201, created.content
            pk = created.json()["id"]
            row = OutboxMessage.objects.get()
            assert row.sent_at is None and row.payload == {"household_ids": [pk]}
            health_response = Client().get("/healthz")
            assert health_response.status_code == 200
            health = health_response.json()
            assert (health["status"], health["cache"], health["broker"]) == (
                "degraded",
                "error",
                "error",
            )
            assert health["outbox"]["pending"] == 1
            make_stale(pk)

            server.start()  # the same port: Redis is back
            degraded.reset()
            point_celery_at(server.url, eager=False, queue=queue)
            worker = start_worker(server.url, queue)
            OutboxMessage.objects.update(available_at=timezone.now())
            assert outbox.relay().sent == 1
            assert wait_for(lambda: recomputed(pk), timeout=30)
            assert Client().get("/healthz").json()["status"] == "ok"
    finally:
        if worker is not None:
            worker.kill()
            worker.wait(timeout=10)
        server.stop()


def start_worker(redis_url: str, queue: str) -> subprocess.Popen[bytes]:
    """A ``celery worker`` on the test database and ``redis_url``, consuming ``queue``."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    return subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("--loglevel", "WARNING"),
        ],
        cwd=ROOT,
        env=env,
    )
