"""``webhooks/`` (issue 19): subscriptions scoped to the key's organization, the secret shown once
and rotated, SSRF refusal with production settings (subscribe and send time), redelivery,
deliveries and attempts with query budgets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from registry.choices import OrganizationKind, Scope, WebhookDeliveryStatus, WebhookEventType
from registry.models import (
    ChangeRecord,
    Organization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from registry.webhooks import delivery, services, signing
from tests.conftest import KeyMaker
from tests.factories import OrganizationFactory
from tests.registry.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
STATUS = WebhookEventType.HOUSEHOLD_STATUS_CHANGED
MANAGE = [Scope.WEBHOOKS_MANAGE, Scope.HOUSEHOLDS_READ]

Client = Callable[..., APIClient]


@pytest.fixture
def client(key_client: Client) -> APIClient:
    return key_client(scopes=MANAGE)


@pytest.fixture
def dns() -> Iterator[dict[str, str]]:
    """Names resolved by the test (no network): ``dns["host"] = "address"``."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port, *args, **kwargs)

    with mock.patch("registry.webhooks.targets.socket.getaddrinfo", fake):
        yield table


def create(client: APIClient, url: str, types: list[str] | None = None, **extra: Any) -> Any:
    return client.post(URL, {"url": url, "event_types": types or [STATUS], **extra}, format="json")


def test_create_shows_the_secret_once_and_lists_the_organization_only(
    client: APIClient, key_client: Client, receiver: Receiver
) -> None:
    response = create(client, receiver.url, description="ERP")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["organization"] == "implementa" and body["event_types"] == [STATUS]
    assert response["ETag"]
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert stored.secret == body["secret"]  # kept to sign (docs/webhooks.md)
    detail = client.get(f"{URL}{body['id']}/").json()
    assert "secret" not in detail and detail["description"] == "ERP"
    assert [s["id"] for s in client.get(URL).json()["results"]] == [body["id"]]
    record = ChangeRecord.objects.get(object_id=body["id"])
    assert body["secret"] not in json.dumps(record.changes)
    # Another organization's key sees nothing of it.
    other = OrganizationFactory.create(code="otra", kind=OrganizationKind.BUYER)
    stranger = key_client(scopes=[Scope.WEBHOOKS_MANAGE], org=other)
    assert stranger.get(URL).json()["results"] == []
    assert stranger.get(f"{URL}{body['id']}/").status_code == 404
    assert stranger.post(f"{URL}{body['id']}/rotate-secret/").status_code == 404


def test_webhooks_need_the_scope(key_client: Client) -> None:
    client = key_client(scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    for response in (client.get(URL), create(client, "http://127.0.0.1:9/x")):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "missing_scope"
    assert not WebhookSubscription.objects.exists()


def test_a_key_cannot_subscribe_another_organization(client: APIClient) -> None:
    OrganizationFactory.create(code="otra")
    response = create(client, "http://127.0.0.1:9/x", organization="otra")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "organization"
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "http://127.0.0.1:9/x", "event_types": ["household.deleted"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": []}, "event_types"),
        ({"url": "ftp://127.0.0.1/x", "event_types": [STATUS]}, "url"),
        ({"url": "not a url", "event_types": [STATUS]}, "url"),
        ({"event_types": [STATUS]}, "url"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(
    client: APIClient, payload: dict[str, Any], field: str
) -> None:
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    assert not WebhookSubscription.objects.exists()


@override_settings(WEBHOOK_ALLOW_LOOPBACK_HTTP=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[fd00::1]/hooks",
        "https://0.0.0.0/hooks",
        "https://100.64.0.1/hooks",
        "https://intranet.example.org/hooks",
        "http://hooks.example.org/hooks",
        "https://user:pw@hooks.example.org/hooks",
    ],
)
def test_production_refuses_unsafe_targets(
    client: APIClient, dns: dict[str, str], url: str
) -> None:
    dns["intranet.example.org"] = "192.168.1.5"
    dns["hooks.example.org"] = "93.184.216.34"
    response = create(client, url)
    assert response.status_code == 400, response.json()
    assert "url" in json.dumps(response.json())
    assert not WebhookSubscription.objects.exists()


@override_settings(WEBHOOK_ALLOW_LOOPBACK_HTTP=False)
def test_production_accepts_a_public_https_target(client: APIClient, dns: dict[str, str]) -> None:
    dns["hooks.example.org"] = "93.184.216.34"
    assert create(client, "https://hooks.example.org/registry").status_code == 201


def _pending_delivery(subscription: WebhookSubscription, household_id: str = "") -> Any:
    event = WebhookEvent.objects.create(
        type=STATUS, subject_id=household_id or "00000000-0000-0000-0000-000000000000"
    )
    return WebhookDelivery.objects.create(subscription=subscription, event=event)


def test_the_target_is_checked_again_at_send_time(
    make_key: KeyMaker, receiver: Receiver, dns: dict[str, str]
) -> None:
    """A name that resolved to a public address at subscribe time and to a private one now
    (DNS rebinding), or a loopback target once the settings forbid it: refused, not sent."""
    make_key(scopes=MANAGE)
    org = Organization.objects.get(code="implementa")
    with mock.patch("registry.webhooks.delivery.subscriber_actor"):
        dns["hooks.example.org"] = "93.184.216.34"
        with override_settings(WEBHOOK_ALLOW_LOOPBACK_HTTP=False):
            rebinding, _s = services.subscription_create(
                actor=None,
                organization=org,
                url="https://hooks.example.org/x",
                event_types=[STATUS],
            )
        loopback, _s = services.subscription_create(
            actor=None, organization=org, url=receiver.url, event_types=[STATUS]
        )
        dns["hooks.example.org"] = "10.0.0.7"
        with (
            override_settings(WEBHOOK_ALLOW_LOOPBACK_HTTP=False),
            mock.patch.dict(
                "registry.webhooks.events._builders",
                {STATUS: mock.Mock(build=lambda event, actor: {"id": "x"})},
            ),
        ):
            for subscription in (rebinding, loopback):
                row = _pending_delivery(subscription)
                assert delivery.attempt(row.pk) == WebhookDeliveryStatus.PENDING
                attempt = WebhookAttempt.objects.get(delivery=row)
                assert attempt.status_code is None and attempt.error.startswith("unsafe_target")
    assert receiver.received == []


def test_rotation_signs_with_both_secrets_during_the_grace(
    client: APIClient, receiver: Receiver
) -> None:
    created = create(client, receiver.url).json()
    old = created["secret"]
    etag = client.get(f"{URL}{created['id']}/")["ETag"]
    rotated = client.post(f"{URL}{created['id']}/rotate-secret/", HTTP_IF_MATCH=etag)
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    # The old ETag is stale now.
    assert (
        client.post(f"{URL}{created['id']}/rotate-secret/", HTTP_IF_MATCH=etag).status_code == 412
    )
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    builder = {STATUS: mock.Mock(build=lambda event, actor: {"id": "x"})}
    with mock.patch.dict("registry.webhooks.events._builders", builder):
        assert delivery.attempt(_pending_delivery(subscription).pk) == "delivered"
        after_grace = timezone.now() + timedelta(days=2)
        row = _pending_delivery(subscription)
        assert delivery.attempt(row.pk, now=after_grace) == "delivered"
    during, after = receiver.received
    now = int(time.time())
    for request in (during, after):
        header = request.headers["X-Registry-Signature"]
        assert signing.verify(new, header, request.body, now=now)
    assert signing.verify(old, during.headers["X-Registry-Signature"], during.body, now=now)
    assert header.count("v1=") == 1
    assert not signing.verify(old, after.headers["X-Registry-Signature"], after.body, now=now)
    # A stale or replayed timestamp is refused by the receiver's check.
    assert not signing.verify(new, header, after.body, now=now + 3600)


def test_update_and_delete_hold_the_etag(client: APIClient, receiver: Receiver) -> None:
    created = create(client, receiver.url).json()
    detail = f"{URL}{created['id']}/"
    etag = client.get(detail)["ETag"]
    types = [STATUS, WebhookEventType.ALERT_RAISED]
    changed = client.patch(
        detail, {"event_types": types, "is_active": False}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["event_types"] == types and changed.json()["is_active"] is False
    assert (
        client.patch(detail, {"description": "x"}, format="json", HTTP_IF_MATCH=etag).status_code
        == 412
    )
    bad = client.patch(detail, {"event_types": ["nope"]}, format="json")
    assert bad.status_code == 400
    assert client.delete(detail, HTTP_IF_MATCH=etag).status_code == 412
    assert client.delete(detail, HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    assert not WebhookSubscription.objects.exists()


def _history(subscription: WebhookSubscription, n: int) -> list[WebhookDelivery]:
    rows = []
    for i in range(n):
        row = _pending_delivery(subscription)
        for code in (500, 200):
            WebhookAttempt.objects.create(
                delivery=row, status_code=code, latency_ms=10 + i, succeeded=code == 200
            )
        rows.append(row)
    return rows


def _queries(client: APIClient, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(captured), response.json()


def test_lists_have_a_fixed_query_budget(client: APIClient, receiver: Receiver) -> None:
    counts: dict[str, list[int]] = {"subscriptions": [], "deliveries": [], "attempts": []}
    for n in (1, 6):
        WebhookSubscription.objects.all().delete()
        for _ in range(n):
            create(client, receiver.url)
        subscription = WebhookSubscription.objects.first()
        assert subscription is not None
        rows = _history(subscription, n)
        count, body = _queries(client, URL)
        assert len(body["results"]) == n
        counts["subscriptions"].append(count)
        count, body = _queries(client, f"{URL}{subscription.pk}/deliveries/")
        assert len(body["results"]) == n and body["results"][0]["event_type"] == STATUS
        counts["deliveries"].append(count)
        count, body = _queries(client, f"{URL}{subscription.pk}/deliveries/{rows[0].pk}/attempts/")
        assert [a["status_code"] for a in body["results"]] == [200, 500]
        counts["attempts"].append(count)
    for name, (one, many) in counts.items():
        assert one == many, name


def test_deliveries_filter_one_delivery_and_redeliver_through_the_api(
    client: APIClient, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    created = create(client, receiver.url).json()
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    first, second = _history(subscription, 2)
    WebhookDelivery.objects.filter(pk=first.pk).update(status=WebhookDeliveryStatus.DEAD)
    base = f"{URL}{subscription.pk}/deliveries/"
    dead = client.get(base, {"status": "dead"}).json()["results"]
    assert [d["id"] for d in dead] == [first.pk]
    assert client.get(base, {"status": "lost"}).status_code == 400
    assert client.get(f"{base}{first.pk}/").json()["status"] == "dead"
    assert client.get(f"{base}999999/").status_code == 404
    builder = {STATUS: mock.Mock(build=lambda event, actor: {"id": "x"})}
    with (
        mock.patch.dict("registry.webhooks.events._builders", builder),
        django_capture_on_commit_callbacks(execute=True),
    ):
        one = client.post(f"{base}{first.pk}/redeliver/")
    assert one.status_code == 202 and one.json() == {"redelivered": 1}
    assert WebhookDelivery.objects.get(pk=first.pk).status == WebhookDeliveryStatus.DELIVERED
    assert len(receiver.received) == 1
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    with (
        mock.patch.dict("registry.webhooks.events._builders", builder),
        django_capture_on_commit_callbacks(execute=True),
    ):
        every = client.post(f"{URL}{subscription.pk}/redeliver/", {"since": since}, format="json")
    assert every.status_code == 202 and every.json() == {"redelivered": 2}
    assert len(receiver.received) == 3
    assert WebhookDelivery.objects.get(pk=second.pk).status == WebhookDeliveryStatus.DELIVERED
    bad = client.post(f"{URL}{subscription.pk}/redeliver/", {"since": "ayer"}, format="json")
    assert bad.status_code == 400 and "since" in json.dumps(bad.json())
