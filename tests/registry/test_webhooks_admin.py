"""Webhooks in the admin (issue 19): subscriptions of the organizations a person manages only
(``registry.policies`` rule 8), the secret shown once, redelivery by an action."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from registry.choices import WebhookDeliveryStatus, WebhookEventType
from registry.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from registry.webhooks import services
from tests.registry.test_admin_matrix import World, client_for, world
from tests.registry.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # the fixture

STATUS = WebhookEventType.HOUSEHOLD_STATUS_CHANGED


def test_staff_subscribe_their_own_organization_only(world: World, receiver: Receiver) -> None:
    client = client_for(world, "staff")
    add = reverse("admin:registry_webhooksubscription_add")
    assert world.org_a is not None and world.org_b is not None
    refused = client.post(
        add, {"organization": world.org_b.pk, "url": receiver.url, "event_types": [STATUS]}
    )
    assert refused.status_code == 200
    assert "organization" in refused.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()
    created = client.post(
        add,
        {
            "organization": world.org_a.pk,
            "url": receiver.url,
            "description": "ERP",
            "event_types": [STATUS, WebhookEventType.ALERT_RAISED],
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.organization == world.org_a
    shown = " ".join(str(m) for m in get_messages(created.wsgi_request))
    assert subscription.secret in shown  # once, in the message
    # The next page shows the message; no page shows the secret after that.
    next_page = client.get(reverse("admin:registry_webhooksubscription_changelist"))
    assert subscription.secret in next_page.content.decode()
    page = client.get(reverse("admin:registry_webhooksubscription_change", args=[subscription.pk]))
    assert page.status_code == 200 and subscription.secret not in page.content.decode()
    # Who manages no organization sees no subscription at all.
    officer = client_for(world, "officer")
    changelist = reverse("admin:registry_webhooksubscription_changelist")
    assert officer.get(changelist).status_code == 403


def test_the_admin_redelivers_a_dead_delivery(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    assert world.org_a is not None
    subscription, _secret = services.subscription_create(
        actor=None, organization=world.org_a, url=receiver.url, event_types=[STATUS]
    )
    event = WebhookEvent.objects.create(type=STATUS, subject_id="nada")  # a malformed id
    dead = WebhookDelivery.objects.create(
        subscription=subscription, event=event, status=WebhookDeliveryStatus.DEAD, attempts=9
    )
    client = client_for(world, "staff")
    changelist = reverse("admin:registry_webhookdelivery_changelist")
    listing = client.get(changelist)
    assert listing.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "redeliver", "_selected_action": [dead.pk]}, follow=True
        )
    assert response.status_code == 200
    # Sent again: the household named by the event does not exist, so it is skipped (nothing
    # leaks); the point is that it left the dead letter.
    again = WebhookDelivery.objects.get(pk=dead.pk)
    assert again.status == WebhookDeliveryStatus.SKIPPED and again.dead_at is None
    detail = client.get(reverse("admin:registry_webhookdelivery_change", args=[dead.pk]))
    assert detail.status_code == 200
