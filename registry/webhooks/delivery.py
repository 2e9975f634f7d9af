"""Sending webhook deliveries: the envelope, the signature, the POST, the attempt log, backoff
with jitter, the dead letter and redelivery.

A delivery is claimed before it is sent (one UPDATE that pushes ``next_attempt_at`` past the
send's timeout), so the after-commit hand-off, the retry run and a redelivery never send it at
the same time. The ``data`` of the envelope is built now, not when the event was written, by
the event type's builder for what the subscriber's organization may see through its active
API keys (``subscriber_actor``): a record it may not see is ``skipped``, never sent.

Time is an argument (``now``) of everything that schedules, so tests drive a day of retries
without sleeping.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from registry import outbox
from registry.actors import Actor
from registry.choices import Scope
from registry.choices import WebhookDeliveryStatus as Status
from registry.models import (
    ApiKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

from . import signing
from .events import WEBHOOK_TOPIC, spec_for
from .targets import check_target

logger = logging.getLogger("registry.webhooks")

EXCERPT = 500
USER_AGENT = "registro-desarrollo-alternativo-webhooks/1"


def subscriber_actor(subscription: WebhookSubscription) -> Actor | None:
    """Who the subscriber is when its data is built: its organization's area with the union of
    the scopes of its active API keys (``None`` when it has none or is inactive)."""
    organization = subscription.organization
    if not organization.is_active:
        return None
    now = timezone.now()
    keys = list(
        ApiKey.objects.filter(organization=organization, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at", "id")
    )
    if not keys:
        return None
    for key in keys:
        key.organization = organization
    scopes = frozenset(s for key in keys for s in key.scopes) | {Scope.REFERENCE_READ}
    return Actor(api_key=keys[0], scopes=scopes)


def envelope(event: WebhookEvent, data: dict[str, Any]) -> bytes:
    """The JSON body: ``id`` (the event's, the same on every retry and redelivery), ``type``,
    ``created_at`` (ISO 8601, UTC) and ``data``."""
    body = {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str).encode()


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after the ``attempts``-th failure: ``base·2^(attempts−1)`` seconds, capped,
    times a random 75–100 % (jitter: receivers coming back are not hit all at once)."""
    base = float(settings.WEBHOOK_BACKOFF_BASE)
    cap = float(settings.WEBHOOK_BACKOFF_MAX)
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay * (rng or random).uniform(0.75, 1.0))


@dataclass
class Answer:
    """What one POST got: the status code (``None`` on a network error), latency, excerpt."""

    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers, not instructions: a 3xx is a failed attempt (SSRF)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _excerpt(raw: bytes) -> str:
    return raw[: EXCERPT * 4].decode("utf-8", errors="replace")[:EXCERPT]


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` (checked again: HTTPS and public), with the timeout; never
    follows redirects, never raises."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_target(url)
    except ValidationError as exc:
        return Answer(None, 0, error=f"unsafe_target: {exc.messages[0]}"[:EXCERPT])
    # check_target allowed only http(s) URLs: no file: or custom schemes reach urllib.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=float(settings.WEBHOOK_TIMEOUT)) as response:
            return Answer(response.status, took(), _excerpt(response.read(EXCERPT * 4)))
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(EXCERPT * 4)
        except OSError:
            raw = b""
        return Answer(exc.code, took(), _excerpt(raw), error=f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(None, took(), error=f"{type(reason).__name__}: {reason}"[:EXCERPT])


def _signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    keep_previous = subscription.previous_secret and (
        subscription.previous_secret_until is not None and subscription.previous_secret_until > now
    )
    return [subscription.secret] + ([subscription.previous_secret] if keep_previous else [])


def _build(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """The event's data for ``actor``; ``None`` when it names no record it may see (a
    malformed id included)."""
    try:
        return spec_for(event.type).build(event, actor)
    except (ValidationError, ValueError):
        return None


def attempt(pk: int, *, now: datetime | None = None) -> str:
    """Attempt delivery ``pk`` if it is pending and due; return its status afterwards
    (``"busy"`` when it was not due or another sender holds it)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=float(settings.WEBHOOK_TIMEOUT) + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=pk, status=Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    if not claimed:
        return "busy"
    delivery = WebhookDelivery.objects.select_related("subscription__organization", "event").get(
        pk=pk
    )
    subscription, event = delivery.subscription, delivery.event
    actor = subscriber_actor(subscription) if subscription.is_active else None
    data = _build(event, actor) if actor is not None else None
    if data is None:
        WebhookDelivery.objects.filter(pk=pk).update(
            status=Status.SKIPPED, last_error="not visible to the subscriber"
        )
        return Status.SKIPPED
    body = envelope(event, data)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.header(_signing_secrets(subscription, now), stamp, body),
        "X-Registry-Event": event.type,
        "X-Registry-Delivery": str(delivery.pk),
    }
    answer = post(subscription.url, body, headers)
    return _record(delivery, answer, now)


def _record(delivery: WebhookDelivery, answer: Answer, now: datetime) -> str:
    """Log the attempt and move the delivery: delivered, retried later, or dead."""
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=answer.status_code,
        latency_ms=answer.latency_ms,
        response_excerpt=answer.excerpt[:EXCERPT],
        error=answer.error[:EXCERPT],
        succeeded=answer.ok,
    )
    attempts = delivery.attempts + 1
    common: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "last_status_code": answer.status_code,
        "last_error": answer.error[:EXCERPT],
    }
    if answer.ok:
        status = Status.DELIVERED
        common.update(status=status, delivered_at=now)
    else:
        retry_at = now + backoff(attempts)
        window = timedelta(seconds=int(settings.WEBHOOK_RETRY_WINDOW))
        if retry_at - delivery.started_at > window:
            status = Status.DEAD
            common.update(status=status, dead_at=now)
            logger.warning(
                "webhook delivery %s dead-lettered after %s attempts", delivery.pk, attempts
            )
        else:
            status = Status.PENDING
            common.update(next_attempt_at=retry_at)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**common)
    return status


@dataclass
class RetryResult:
    """What one retry run did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"delivered {self.delivered}, retrying {self.retrying}, dead {self.dead}, "
            f"skipped {self.skipped}"
        )


def retry_due(*, now: datetime | None = None, limit: int | None = None) -> RetryResult:
    """Attempt the pending deliveries that are due, oldest due first (``WEBHOOK_RETRY_CHUNK``)."""
    now = now or timezone.now()
    size = int(limit or settings.WEBHOOK_RETRY_CHUNK)
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:size]
    )
    result = RetryResult()
    for pk in due:
        status = attempt(pk, now=now)
        if status == Status.DELIVERED:
            result.delivered += 1
        elif status == Status.PENDING:
            result.retrying += 1
        elif status == Status.DEAD:
            result.dead += 1
        elif status == Status.SKIPPED:
            result.skipped += 1
    return result


def requeue(deliveries: Any, *, now: datetime | None = None) -> int:
    """Put ``deliveries`` (a queryset) back to pending with a fresh retry window and send them
    after the commit (redelivery); returns how many. Set-based: one SELECT, one UPDATE, one
    outbox message per thousand."""
    now = now or timezone.now()
    ids = list(deliveries.values_list("pk", flat=True))
    if not ids:
        return 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        WebhookDelivery.objects.filter(pk__in=chunk).update(
            status=Status.PENDING,
            started_at=now,
            next_attempt_at=now,
            dead_at=None,
            delivered_at=None,
            last_error="",
        )
        outbox.publish_on_commit(WEBHOOK_TOPIC, {"deliveries": chunk})
    return len(ids)


def prune(*, days: int | None = None) -> int:
    """Delete events older than ``WEBHOOK_RETENTION_DAYS`` (their deliveries and attempts go
    with them); return how many events."""
    keep = int(days if days is not None else settings.WEBHOOK_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=keep)
    old = WebhookEvent.objects.filter(created_at__lt=cutoff)
    WebhookAttempt.objects.filter(delivery__event__in=old).delete()
    WebhookDelivery.objects.filter(event__in=old).delete()
    deleted, _ = old.delete()
    return deleted
