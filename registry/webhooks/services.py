"""Subscription services: create, update, delete, rotate the secret, redeliver (rule 8 of
``registry.policies``). Every write checks the target URL (``targets``) and leaves a change
record (the secret never goes into it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import policies
from registry.actors import Actor
from registry.choices import ChangeAction, WebhookEventType
from registry.display import choice_options
from registry.history import change_record, diff, snapshot
from registry.models import Organization, WebhookDelivery, WebhookSubscription, next_version
from registry.services import check_version

from . import delivery, signing
from .targets import check_target

FIELDS = ["url", "description", "event_types", "is_active"]


def clean_event_types(values: Iterable[str]) -> list[str]:
    """The subscribed types, known and without repeats (at least one)."""
    chosen = list(dict.fromkeys(values))
    unknown = [t for t in chosen if t not in WebhookEventType.values]
    if unknown or not chosen:
        raise ValidationError(
            {
                "event_types": ValidationError(
                    _("Choose event types from: %(valid)s.")
                    % {"valid": choice_options(WebhookEventType)},
                    code="invalid_choice",
                )
            }
        )
    return chosen


def clean_url(url: str) -> str:
    """``url`` if it may receive webhooks (field error ``url`` otherwise)."""
    try:
        check_target(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.error_list}) from exc
    return url


@transaction.atomic
def subscription_create(
    *,
    actor: Actor | None,
    organization: Organization,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    channel: str = "api",
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` of ``organization`` to ``event_types``; returns the subscription and
    its secret (shown once)."""
    policies.require_webhooks(actor, organization)
    types = clean_event_types(event_types)
    clean_url(url)
    secret = signing.new_secret()
    subscription = WebhookSubscription.objects.create(
        organization=organization,
        url=url,
        description=description,
        event_types=types,
        secret=secret,
        **(actor.stamp() if actor is not None else {}),
    )
    change_record(
        instance=subscription,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"url": url, "event_types": types},
        channel=channel,
    )
    return subscription, secret


@transaction.atomic
def subscription_update(
    *,
    actor: Actor | None,
    subscription: WebhookSubscription,
    values: dict[str, Any],
    expected_version: int | None = None,
    channel: str = "api",
) -> WebhookSubscription:
    """Change the URL, description, event types or activity (``If-Match`` checked)."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    policies.require_webhooks(actor, locked.organization_id)
    check_version(locked, expected_version)
    if "event_types" in values:
        values["event_types"] = clean_event_types(values["event_types"])
    if "url" in values and values["url"] != locked.url:
        clean_url(values["url"])
    before = snapshot(locked, FIELDS)
    for name in FIELDS:
        if name in values:
            setattr(locked, name, values[name])
    changes = diff(before, snapshot(locked, FIELDS))
    if changes:
        next_version(locked)
        locked.save()
        change_record(
            instance=locked,
            action=ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return locked


@transaction.atomic
def subscription_delete(
    *,
    actor: Actor | None,
    subscription: WebhookSubscription,
    expected_version: int | None = None,
    channel: str = "api",
) -> None:
    """Delete a subscription with its deliveries and their attempts."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    policies.require_webhooks(actor, locked.organization_id)
    check_version(locked, expected_version)
    change_record(
        instance=locked,
        action=ChangeAction.DEACTIVATE,
        actor=actor,
        changes={"deleted": True, "url": locked.url},
        channel=channel,
    )
    locked.delete()


@transaction.atomic
def subscription_rotate_secret(
    *,
    actor: Actor | None,
    subscription: WebhookSubscription,
    expected_version: int | None = None,
    channel: str = "api",
) -> tuple[WebhookSubscription, str]:
    """A new secret (returned once); the previous one still signs, as a second ``v1=``, for
    ``WEBHOOK_SECRET_ROTATION_GRACE`` seconds."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    policies.require_webhooks(actor, locked.organization_id)
    check_version(locked, expected_version)
    secret = signing.new_secret()
    grace = int(settings.WEBHOOK_SECRET_ROTATION_GRACE)
    locked.previous_secret = locked.secret if grace > 0 else ""
    locked.previous_secret_until = timezone.now() + timedelta(seconds=grace) if grace > 0 else None
    locked.secret = secret
    next_version(locked)
    locked.save()
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"secret": "rotated"},
        channel=channel,
    )
    return locked, secret


@transaction.atomic
def redeliver(
    *,
    actor: Actor | None,
    subscription: WebhookSubscription,
    delivery_id: int | None = None,
    since: datetime | None = None,
) -> int:
    """Send one delivery again (``delivery_id``) or every delivery of events since ``since``,
    whatever their status; returns how many were queued."""
    policies.require_webhooks(actor, subscription.organization_id)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    if delivery_id is not None:
        deliveries = deliveries.filter(pk=delivery_id)
    if since is not None:
        deliveries = deliveries.filter(event__created_at__gte=since)
    return delivery.requeue(deliveries)
