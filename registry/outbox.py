"""The transactional outbox: messages written with the business change, published after commit.

A service that must tell something to the world after its write (queue the transition engine's
recompute today, notify a partner's webhook later) calls :func:`publish_on_commit` inside its
transaction. That writes one :class:`~registry.models.OutboxMessage` row in the same transaction
(rolled back with it, committed with it) and, once the transaction commits, :func:`deliver`
hands it to the handler registered for its ``topic`` at once and stamps it sent. When the
hand-off fails (Redis, the broker, is down) the request still answers normally: the row stays
pending with its error and :func:`relay` (a Celery beat task every minute, ``manage.py
relay_outbox``, ``manage.py run_periodic``) retries it with exponential backoff, in chunks,
locking rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` so two relays never send the same row.
Sent rows are deleted after ``OUTBOX_RETENTION_DAYS`` (:func:`prune`).

Delivery is at least once (a relay that sends and then loses its transaction sends again):
every handler must be idempotent. Topics and their handlers are registered at start-up
(``AppConfig.ready``) with :func:`register`; the kernel knows no topic of the apps above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.module_loading import import_string

from registry import degraded
from registry.models import OutboxMessage

logger = logging.getLogger("registry.outbox")

Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}


def register(topic: str, handler: Handler) -> None:
    """Make ``handler(payload)`` publish the messages of ``topic`` (idempotent handlers only).
    Registering a topic again replaces its handler."""
    _handlers[topic] = handler


def handler_for(topic: str) -> Handler:
    """The handler of ``topic``; ``LookupError`` when none is registered."""
    try:
        return _handlers[topic]
    except KeyError:
        raise LookupError(f"no outbox handler registered for topic {topic!r}") from None


def celery_task(name: str) -> Handler:
    """A handler that queues the Celery task at dotted path ``name`` with the payload as keyword
    arguments (run in-process when ``CELERY_TASK_ALWAYS_EAGER``). Publishing retries briefly
    (``OUTBOX_PUBLISH_RETRY_POLICY``), then raises: the relay tries again later."""

    def send(payload: dict[str, Any]) -> None:
        task = import_string(name)
        task.apply_async(
            kwargs=payload, retry=True, retry_policy=settings.OUTBOX_PUBLISH_RETRY_POLICY
        )

    send.__qualname__ = f"celery_task({name})"
    return send


def publish_on_commit(topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Write a message of ``topic`` in the current transaction (one INSERT) and deliver it once
    the transaction commits (at once when there is none). Nothing is sent on rollback."""
    handler_for(topic)  # an unknown topic is a programming error: fail before writing
    now = timezone.now()
    grace = timedelta(seconds=settings.OUTBOX_RELAY_GRACE)
    message = OutboxMessage.objects.create(
        topic=topic, payload=payload, created_at=now, available_at=now + grace
    )
    transaction.on_commit(lambda: deliver(message))
    return message


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th failed hand-off (doubling, capped)."""
    base = float(settings.OUTBOX_BACKOFF_BASE)
    cap = float(settings.OUTBOX_BACKOFF_MAX)
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _report(message: OutboxMessage, exc: BaseException) -> None:
    if isinstance(exc, degraded.BACKEND_ERRORS):
        degraded.mark_down("broker")
        degraded.warn("broker", "messages wait in the outbox for the relay", exc)
    else:
        logger.error("outbox message %s (%s) failed", message.pk, message.topic, exc_info=exc)


def deliver(message: OutboxMessage) -> bool:
    """Hand ``message`` to its handler now and stamp it sent (the after-commit path). Never
    raises: on failure the row stays pending with its error and backoff, for the relay. While
    the broker is known to be down the hand-off is left to the relay straight away."""
    if degraded.is_down("broker"):
        return False
    try:
        handler_for(message.topic)(message.payload)
    except Exception as exc:  # noqa: BLE001 - the request already committed: never fail it
        _report(message, exc)
        try:
            OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
                attempts=F("attempts") + 1,
                last_error=_describe(exc),
                available_at=timezone.now() + backoff(message.attempts + 1),
            )
        except DatabaseError:
            logger.exception("outbox message %s: could not record the failure", message.pk)
        return False
    try:
        OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            attempts=F("attempts") + 1, sent_at=timezone.now(), last_error=""
        )
    except DatabaseError:  # sent but not stamped: the relay sends it again (idempotent)
        logger.exception("outbox message %s: sent, could not stamp it", message.pk)
    return True


@dataclass
class RelayResult:
    """What one relay run did."""

    sent: int = 0
    failed: int = 0
    stopped: bool = False  # the broker failed: the rest waits for the next run

    def __str__(self) -> str:
        stop = ", stopped (broker down)" if self.stopped else ""
        return f"sent {self.sent}, failed {self.failed}{stop}"


def relay(*, chunk: int | None = None, max_rows: int | None = None) -> RelayResult:
    """Send the pending messages that are due, oldest first, ``chunk`` rows per transaction.

    Each chunk is locked with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
    writers anyway), so relays running at once share the work and never send a row twice. A
    failed row gets its error and a later ``available_at``; the first broker error ends the run
    (the broker is down: no use trying every row). Handlers run in a savepoint each, so one
    failing in-process task does not undo the others' stamps.
    """
    size = int(chunk or settings.OUTBOX_RELAY_CHUNK)
    result = RelayResult()
    while max_rows is None or result.sent + result.failed < max_rows:
        take = size if max_rows is None else min(size, max_rows - result.sent - result.failed)
        with transaction.atomic():
            now = timezone.now()
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, available_at__lte=now)
                .order_by("available_at", "id")[:take]
            )
            touched: list[OutboxMessage] = []
            for row in rows:
                row.attempts += 1
                touched.append(row)
                try:
                    with transaction.atomic():
                        handler_for(row.topic)(row.payload)
                except Exception as exc:  # noqa: BLE001 - recorded on the row, retried later
                    _report(row, exc)
                    row.last_error = _describe(exc)
                    row.available_at = timezone.now() + backoff(row.attempts)
                    result.failed += 1
                    if isinstance(exc, degraded.BACKEND_ERRORS):
                        result.stopped = True
                        break
                else:
                    row.sent_at = timezone.now()
                    row.last_error = ""
                    result.sent += 1
            OutboxMessage.objects.bulk_update(
                touched, ["attempts", "last_error", "available_at", "sent_at"]
            )
        if result.stopped or len(rows) < take:
            break
    if result.sent and not result.stopped:
        logger.info("outbox relay: %s", result)
    return result


def prune(*, days: int | None = None) -> int:
    """Delete messages sent more than ``days`` (``OUTBOX_RETENTION_DAYS``) ago; return how many."""
    keep = int(days if days is not None else settings.OUTBOX_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=keep)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


@dataclass
class Backlog:
    """Pending messages: how many, and since when the oldest waits."""

    pending: int
    oldest: datetime | None

    def oldest_age_seconds(self) -> int | None:
        if self.oldest is None:
            return None
        return max(0, int((timezone.now() - self.oldest).total_seconds()))


def backlog() -> Backlog:
    """The pending messages (one aggregate query on the pending index)."""
    row = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(
        pending=Count("id"), oldest=Min("created_at")
    )
    return Backlog(pending=row["pending"], oldest=row["oldest"])
