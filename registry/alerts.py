"""Alert services: raise (idempotently), resolve and move alerts through their workflow.

Apps raise alerts with :func:`alert_raise` (one condition) or :func:`alerts_raise_many`
(set-based, for periodic tasks). A live alert is unique per ``(kind, key)``: raising the same
condition again returns or keeps the existing one, so reruns never duplicate alerts. When the
condition no longer holds the raising code calls :func:`alerts_resolve_missing` or
:func:`alert_resolve_condition`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import policies
from .actors import Actor
from .choices import (
    LIVE_ALERT_STATUSES,
    AlertSeverity,
    AlertStatus,
    ChangeAction,
    Role,
    WebhookEventType,
)
from .exceptions import InvalidTransition, PermissionDenied, PreconditionFailed
from .history import change_record
from .models import Alert
from .webhooks import events as webhook_events

# Workflow: open → acknowledged → resolved; open → resolved. Resolved is terminal.
ALERT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    AlertStatus.OPEN: (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED),
    AlertStatus.ACKNOWLEDGED: (AlertStatus.RESOLVED,),
    AlertStatus.RESOLVED: (),
}


@dataclass(frozen=True)
class AlertSpec:
    """One condition that should have a live alert (for :func:`alerts_raise_many`)."""

    kind: str
    key: str
    message: str
    district_id: str
    program_id: int
    household_id: UUID | str | None = None
    subject: models.Model | None = None
    severity: str = AlertSeverity.WARNING
    owner_role: str = Role.FIELD_OFFICER
    due_on: date | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Alert:
        """An unsaved ``Alert`` for this condition."""
        subject_type = subject_id = None
        if self.subject is not None:
            subject_type = ContentType.objects.get_for_model(self.subject)
            subject_id = str(self.subject.pk)
        return Alert(
            kind=self.kind,
            key=self.key,
            message=str(self.message)[:300],
            district_id=self.district_id,
            program_id=self.program_id,
            household_id=self.household_id,
            subject_type=subject_type,
            subject_id=subject_id or "",
            severity=self.severity,
            owner_role=self.owner_role,
            due_on=self.due_on,
            details=self.details,
        )


def _raised_event(alert: Alert) -> Any:
    """The ``alert.raised`` webhook event of a new alert (written with it)."""
    return webhook_events.event(
        WebhookEventType.ALERT_RAISED,
        alert.pk,
        district_id=alert.district_id,
        program_id=alert.program_id,
        kind=alert.kind,
    )


def alert_raise(spec: AlertSpec) -> tuple[Alert, bool]:
    """The live alert for ``spec``'s condition, creating it if there is none.

    Returns ``(alert, created)``. Safe under concurrency: a racing insert of the same condition
    hits the partial unique constraint and the existing alert is returned instead.
    """
    live = Alert.objects.filter(kind=spec.kind, key=spec.key, status__in=LIVE_ALERT_STATUSES)
    existing = live.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            alert = spec.build()
            alert.save(force_insert=True)
            webhook_events.record_many([_raised_event(alert)])
            return alert, True
    except IntegrityError:
        return live.get(), False


def _live_conditions(specs: list[AlertSpec]) -> set[tuple[str, str]]:
    """``(kind, key)`` of the conditions in ``specs`` that have a live alert (one query a kind)."""
    by_kind: dict[str, set[str]] = {}
    for spec in specs:
        by_kind.setdefault(spec.kind, set()).add(spec.key)
    live: set[tuple[str, str]] = set()
    for kind, keys in by_kind.items():
        live.update(
            Alert.objects.filter(
                kind=kind, key__in=keys, status__in=LIVE_ALERT_STATUSES
            ).values_list("kind", "key")
        )
    return live


def alerts_raise_many(
    specs: Iterable[AlertSpec], *, batch_size: int = 1000, known_absent: bool = False
) -> int:
    """Make sure every condition in ``specs`` has a live alert; return how many were created.

    Set-based: one query finds the live ones, one bulk insert adds the rest (conflicting inserts
    from a concurrent run are ignored by the unique constraint). ``known_absent``: the caller
    has just read the alerts of these conditions and found none live (the transition engine),
    so the lookup is skipped; the unique constraint still guards against a concurrent run.
    """
    specs = list(specs)
    created = 0
    for start in range(0, len(specs), batch_size):
        chunk = specs[start : start + batch_size]
        live = set() if known_absent else _live_conditions(chunk)
        seen: set[tuple[str, str]] = set()
        new: list[Alert] = []
        for spec in chunk:
            ident = (spec.kind, spec.key)
            if ident in live or ident in seen:
                continue
            seen.add(ident)
            new.append(spec.build())
        if new:
            Alert.objects.bulk_create(new, ignore_conflicts=True)
            # A row lost to a concurrent run's insert gets an event naming no alert: its
            # delivery is skipped (the builder finds nothing).
            webhook_events.record_many(_raised_event(alert) for alert in new)
            created += len(new)
    return created


def alert_resolve_condition(kind: str, key: str, note: str = "") -> int:
    """Resolve the live alert of a condition that no longer holds (0 or 1 rows)."""
    return Alert.objects.filter(kind=kind, key=key, status__in=LIVE_ALERT_STATUSES).touch(
        status=AlertStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=str(note or _("The condition no longer holds."))[:500],
    )


def alerts_resolve_missing(kind: str, keep_keys: Iterable[str], *, key_prefix: str = "") -> int:
    """Resolve live alerts of ``kind`` (whose key starts with ``key_prefix``) not in ``keep_keys``:
    conditions a periodic check no longer finds."""
    keep = set(keep_keys)
    qs = Alert.objects.filter(kind=kind, status__in=LIVE_ALERT_STATUSES)
    if key_prefix:
        qs = qs.filter(key__startswith=key_prefix)
    stale = [pk for pk, key in qs.values_list("pk", "key") if key not in keep]
    resolved = 0
    for start in range(0, len(stale), 1000):
        resolved += Alert.objects.filter(pk__in=stale[start : start + 1000]).touch(
            status=AlertStatus.RESOLVED,
            resolved_at=timezone.now(),
            resolution_note=str(_("The condition no longer holds.")),
        )
    return resolved


def alert_transition(
    *,
    actor: Actor,
    alert: Alert,
    to: str,
    note: str = "",
    expected_version: int | None = None,
) -> Alert:
    """Move ``alert`` to ``to`` (``acknowledged`` or ``resolved``) on behalf of ``actor``.

    The actor needs ``households:write`` in the alert's area (the district's field officers,
    their supervisors and programme staff); the move must be allowed by the workflow. With
    ``expected_version`` (from ``If-Match``) a stale copy is refused with a 412.
    """
    if not policies.alert_can(actor, alert, "act"):
        raise PermissionDenied()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if expected_version is not None and alert.version != expected_version:
            raise PreconditionFailed()
        allowed = ALERT_TRANSITIONS[alert.status]
        if to not in allowed:
            raise InvalidTransition(alert.status, to, allowed)
        before = alert.status
        now = timezone.now()
        alert.status = to
        if to == AlertStatus.ACKNOWLEDGED:
            alert.acknowledged_at = now
            alert.assigned_to = actor.user or alert.assigned_to
        if to == AlertStatus.RESOLVED:
            alert.resolved_at = now
            alert.resolution_note = note[:500]
        alert.touch("status", "acknowledged_at", "assigned_to", "resolved_at", "resolution_note")
        change_record(
            instance=alert,
            action=ChangeAction.TRANSITION,
            actor=actor,
            changes={"status": [before, to], "note": note},
            channel="api" if actor.api_key is not None else "admin",
        )
    return alert
