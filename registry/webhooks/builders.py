"""The data of the kernel's own event type (``alert.raised``) and what every app's builder
shares: the event's move, and the access-log row of a coca read a webhook carries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry import policies
from registry.actors import Actor
from registry.choices import Scope, WebhookEventType
from registry.history import access_log_record
from registry.models import Alert, WebhookEvent

from .events import register_event


def moved(event: WebhookEvent) -> dict[str, Any]:
    """The move the event recorded (``from``/``to``), as written with the change."""
    return {k: event.payload[k] for k in ("from", "to") if k in event.payload}


def log_coca_read(
    actor: Actor, event: WebhookEvent, resource: str, ids: Iterable[Any], fields: list[str]
) -> None:
    """A webhook carrying coca or stage data to a holder of coca:read is a logged read, like
    the API response it mirrors (``registry.api.logged``)."""
    if actor.has_scope(Scope.COCA_READ):
        access_log_record(
            actor=actor,
            resource=resource,
            object_ids=[str(pk) for pk in ids],
            fields=fields,
            path=f"webhook:{event.type}:{event.pk}",
        )


def alert_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """An alert of the subscriber's area (``policies.alert_q``: households:read; relapse and
    exclusion alerts only where it sees stages). No message or details: they may name people
    or stages."""
    alert = (
        Alert.objects.filter(policies.alert_q(actor), pk=event.subject_id)
        .select_related("program")
        .first()
    )
    if alert is None:
        return None
    if alert.kind in policies.COCA_ALERT_KINDS:
        log_coca_read(actor, event, "alerts", [alert.pk], ["kind"])
    return {
        "id": str(alert.pk),
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "district": alert.district_id,
        "program": alert.program.code,
        "household": str(alert.household_id) if alert.household_id else None,
        "due_on": alert.due_on.isoformat() if alert.due_on else None,
    }


def register() -> None:
    """Register the kernel's builders (``RegistryConfig.ready``)."""
    register_event(WebhookEventType.ALERT_RAISED, alert_data)
