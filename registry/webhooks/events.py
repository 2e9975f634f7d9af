"""Webhook events: written with the change, fanned out to subscriptions in the same transaction.

``record(type, subject_id, ...)`` (one change) and ``record_many(events)`` (a set of changes,
e.g. the transition engine's batch) write the event rows, then, set-based: one read of the
active subscriptions, one bulk insert of the deliveries of the subscriptions that want these
types, one outbox message ``webhook.deliver`` per hundred of them. Rolled back with the change,
so no event exists without its change and no change without its event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from registry import outbox
from registry.actors import Actor
from registry.models import WebhookDelivery, WebhookEvent, WebhookSubscription

WEBHOOK_TOPIC = "webhook.deliver"
SEND_CHUNK = 100

#: ``builder(event, actor) -> data | None``: the ``data`` of an event for what ``actor`` (the
#: subscriber's keys) may see now, ``None`` when it may not see the record at all.
Builder = Callable[[WebhookEvent, Actor], "dict[str, Any] | None"]


@dataclass(frozen=True)
class EventSpec:
    """How to build the data of one event type, and the scope a subscriber needs for it."""

    type: str
    build: Builder


_builders: dict[str, EventSpec] = {}


def register_event(type: str, build: Builder) -> None:
    """Register the data builder of ``type`` (from an app's ``ready()``)."""
    _builders[type] = EventSpec(type, build)


def spec_for(type: str) -> EventSpec:
    """The registered spec of ``type``; ``LookupError`` when no app registered it."""
    try:
        return _builders[type]
    except KeyError:
        raise LookupError(f"no webhook data builder registered for {type!r}") from None


def event(
    type: str,
    subject_id: Any,
    *,
    district_id: str | None = None,
    program_id: int | None = None,
    **payload: Any,
) -> WebhookEvent:
    """An unsaved event (for :func:`record_many`); ``payload`` holds statuses, ids and lists
    of codes only."""
    return WebhookEvent(
        type=type,
        subject_id=str(subject_id),
        district_id=district_id or "",
        program_id=program_id,
        payload={k: _plain(v) for k, v in payload.items()},
        created_at=timezone.now(),
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def record(type: str, subject_id: Any, **fields: Any) -> WebhookEvent:
    """Write one event (and its fan-out) in the current transaction."""
    (written,) = record_many([event(type, subject_id, **fields)])
    return written


def record_many(events: Iterable[WebhookEvent]) -> list[WebhookEvent]:
    """Write ``events`` and fan them out, set-based, in the current transaction.

    Queries: one INSERT of the events; one SELECT of the active subscriptions; when some want
    these types, one INSERT of the deliveries and one of the outbox message (per hundred
    deliveries)."""
    rows = list(events)
    if not rows:
        return rows
    WebhookEvent.objects.bulk_create(rows, batch_size=1000)
    wanted = {row.type for row in rows}
    subscriptions = [
        (pk, set(types) & wanted)
        for pk, types in WebhookSubscription.objects.filter(
            is_active=True, organization__is_active=True
        ).values_list("pk", "event_types")
        if set(types or ()) & wanted
    ]
    if not subscriptions:
        return rows
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            subscription_id=pk, event=row, created_at=now, started_at=now, next_attempt_at=now
        )
        for row in rows
        for pk, types in subscriptions
        if row.type in types
    ]
    if deliveries:
        created = [d.pk for d in WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)]
        # One message (one task) per hundred deliveries, so a slow receiver does not hold a
        # sweep's thousands of sends in one task.
        for start in range(0, len(created), SEND_CHUNK):
            outbox.publish_on_commit(
                WEBHOOK_TOPIC, {"deliveries": created[start : start + SEND_CHUNK]}
            )
    return rows
