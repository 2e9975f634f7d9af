"""The tasks' retry policy (issue 14): transient database and broker errors are retried with a
bounded, jittered exponential backoff; permanent errors fail at once. Run through ``apply()``
(eager mode: each retry runs again at once, its countdown computed but not waited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery import Task
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from config.celery import app
from registry.tasks import TRANSIENT_ERRORS, RegistryTask

APPS = ("registry.", "farmers.", "titles.", "markets.")


def project_tasks() -> list[Task]:
    app.loader.import_default_modules()
    return [task for name, task in sorted(app.tasks.items()) if name.startswith(APPS)]


@pytest.fixture
def task(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Any]], tuple[Task, list[int]]]:
    """``task(outcomes)``: the titles' daily task with its service replaced by one that raises
    or returns each outcome in turn; also the countdowns its retries asked for (the last one
    of a task out of retries is refused)."""

    def make(outcomes: list[Any]) -> tuple[Task, list[int]]:
        pending = list(outcomes)

        def service() -> Any:
            assert pending, "ran more often than expected"
            outcome = pending.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        monkeypatch.setattr("titles.services.title_alerts_sync", service)
        real = app.tasks["titles.tasks.raise_overdue_alerts"]
        countdowns: list[int] = []
        retry = real.retry

        def recording_retry(*args: Any, **kwargs: Any) -> Any:
            countdowns.append(kwargs["countdown"])
            return retry(*args, **kwargs)

        monkeypatch.setattr(real, "retry", recording_retry)
        return real, countdowns

    return make


def test_every_task_of_every_app_has_the_policy() -> None:
    tasks = project_tasks()
    assert {t.name.split(".")[0] for t in tasks} == {"registry", "farmers", "titles", "markets"}
    for t in tasks:
        assert isinstance(t, RegistryTask), t.name
        assert (t.max_retries, t.retry_backoff, t.retry_backoff_max, t.retry_jitter) == (
            5,
            5,
            600,
            True,
        ), t.name
        assert set(t.autoretry_for) >= {
            OperationalError,
            InterfaceError,
            BrokerError,
            RedisConnectionError,
        }, t.name
        assert ValidationError in t.dont_autoretry_for, t.name
        assert hasattr(t, "_orig_run"), t.name  # Celery wrapped ``run`` with the retry loop


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        BrokerError("Error 111 connecting to redis. Connection refused."),
        RedisConnectionError("Connection refused"),
    ],
    ids=lambda e: type(e).__module__.split(".")[0] + "." + type(e).__name__,
)
def test_a_transient_error_is_retried_and_the_task_succeeds(task: Any, error: Exception) -> None:
    real, countdowns = task([error, {"raised": 1}])
    result = real.apply()
    assert result.successful()
    assert result.get() == {"raised": 1}
    assert len(countdowns) == 1 and 0 <= countdowns[0] <= 5


def test_retries_are_bounded_with_a_capped_jittered_backoff(task: Any) -> None:
    real, countdowns = task([OperationalError("deadlock detected")] * 6 + [{"raised": 1}])
    with pytest.raises(OperationalError, match="deadlock detected"):
        real.apply()
    # Six runs: the first and five retries, each after a wait of at most 5·2^n seconds
    # (never over ten minutes); the sixth failure asks for one more retry and is refused.
    assert len(countdowns) == 6
    assert all(0 <= wait <= min(600, 5 * 2**n) for n, wait in enumerate(countdowns))


@pytest.mark.parametrize(
    "error", [ValidationError("bad input"), ValueError("a bug"), LookupError("no such row")]
)
def test_a_permanent_error_is_not_retried(task: Any, error: Exception) -> None:
    real, countdowns = task([error, {"raised": 1}])
    with pytest.raises(type(error)):
        real.apply()
    assert countdowns == []


def test_transient_errors_are_only_those_of_a_database_or_broker() -> None:
    from django.db import DatabaseError, IntegrityError, ProgrammingError

    for permanent in (IntegrityError, ProgrammingError, DatabaseError, ValidationError):
        assert not issubclass(permanent, TRANSIENT_ERRORS), permanent


def test_queued_in_eager_mode_a_task_is_retried_too(task: Any) -> None:
    """``delay()`` in the embedded default (``CELERY_TASK_ALWAYS_EAGER``, errors propagated)
    follows the same policy instead of failing at the first transient error."""
    assert app.conf.task_always_eager and app.conf.task_eager_propagates
    real, countdowns = task([OperationalError("database is locked"), {"raised": 2}])
    assert real.delay().get() == {"raised": 2}
    assert len(countdowns) == 1
