"""Celery tasks of the kernel: the outbox relay and its pruning (beat, see settings), and the
retry policy every task of the project runs with (``RegistryTask``)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Errors of a database or broker that is briefly away, busy or locked: worth a retry."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    errors: list[type[BaseException]] = [
        OperationalError,  # connection lost, deadlock, serialization failure, "database is locked"
        InterfaceError,  # the connection was closed under us
        BrokerError,
        RedisConnectionError,
        RedisTimeoutError,
    ]
    try:  # Django wraps driver errors; a raw one may still escape (e.g. while connecting).
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is installed wherever PostgreSQL is used
        pass
    else:
        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(errors)


#: Retried with backoff: the database or the broker is briefly unavailable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = _transient_errors()
#: Never retried, even if a subclass of a transient one: the same input fails the same way.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ValidationError, ObjectDoesNotExist)


class RegistryTask(Task):
    """The project's task base (``Celery(task_cls=...)`` in config/celery.py), so every
    ``@shared_task`` of every app runs with one retry policy.

    Transient errors (``TRANSIENT_ERRORS``) are retried at most ``max_retries`` times, after an
    exponential backoff with full jitter: a random wait of up to 5, 10, 20, 40, 80 seconds
    (never over ``retry_backoff_max``), so that workers coming back from the same outage do
    not all retry at once. Anything else (validation, a missing row, a programming or
    integrity error, a time limit) fails at once: a retry would fail the same way. Tasks are
    idempotent, so a retry after a partial run changes nothing already written. In eager mode
    (the embedded default, tests) a retry runs again at once, without the wait.
    """

    autoretry_for = TRANSIENT_ERRORS
    dont_autoretry_for = PERMANENT_ERRORS
    max_retries = 5
    retry_backoff = 5  # seconds: the first wait is at most 5 s, then doubling
    retry_backoff_max = 600  # ten minutes
    retry_jitter = True

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        """Run in-process (eager mode), retries included.

        With ``task_eager_propagates`` (our settings) Celery lets the first ``Retry`` escape
        instead of running the retry; run it here, at once, so that eager mode follows the
        same policy as a worker: the original error is raised once the retries are spent,
        a permanent error at once, as before the policy.
        """
        try:
            return super().apply(*args, **kwargs)
        except Retry as retry:
            signature = getattr(retry, "sig", None)  # the stubs do not know it
            if signature is None:  # pragma: no cover - a retry always carries its signature
                raise
            return signature.apply()


@shared_task(name="registry.tasks.relay_outbox", acks_late=True)
def relay_outbox() -> str:
    """Every minute (beat): send the outbox messages whose after-commit hand-off failed.

    Idempotent and safe to run concurrently (rows are locked with SKIP LOCKED)."""
    from .outbox import relay

    return str(relay())


@shared_task(name="registry.tasks.prune_outbox", acks_late=True)
def prune_outbox() -> int:
    """Daily (beat): delete outbox messages sent more than ``OUTBOX_RETENTION_DAYS`` ago."""
    from .outbox import prune

    return prune()


@shared_task(name="registry.tasks.prune_export_files", acks_late=True)
def prune_export_files() -> int:
    """Daily (beat): delete the files of exports finished more than
    ``JOB_FILE_RETENTION_DAYS`` ago (the jobs stay in the history)."""
    from .jobs import prune_files
    from .models.exports import ExportJob

    return prune_files(ExportJob)


@shared_task(name="registry.tasks.deliver_webhooks", acks_late=True)
def deliver_webhooks(deliveries: list[int]) -> int:
    """Send the given webhook deliveries now (the ``webhook.deliver`` outbox topic); a failed
    one is left for :func:`retry_webhooks` at its backoff. Returns how many were delivered."""
    from .webhooks import delivery

    return sum(delivery.attempt(pk) == "delivered" for pk in deliveries)


@shared_task(name="registry.tasks.retry_webhooks", acks_late=True)
def retry_webhooks() -> str:
    """Every minute (beat): attempt the pending webhook deliveries that are due."""
    from .webhooks import delivery

    return str(delivery.retry_due())


@shared_task(name="registry.tasks.prune_webhooks", acks_late=True)
def prune_webhooks() -> int:
    """Daily (beat): delete webhook events older than ``WEBHOOK_RETENTION_DAYS`` (with their
    deliveries and attempts)."""
    from .webhooks import delivery

    return delivery.prune()


@shared_task(
    name="registry.tasks.run_export",
    acks_late=True,
    soft_time_limit=settings.EXPORT_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EXPORT_TASK_TIME_LIMIT,
)
def run_export(job_id: str) -> None:
    """Write the export ``job_id`` (``registry.exporting.export_run``; a finished job is left
    as it is, so a redelivered task changes nothing)."""
    from .exporting import export_run

    export_run(job_id)
