"""Webhooks (issue 19): events written with their change, signed deliveries to a real receiver
on loopback, retries after 500s and timeouts, the dead letter, redelivery, masking."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from farmers import services as farmers_services
from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.choices import OrganizationKind, Scope, WebhookDeliveryStatus, WebhookEventType
from registry.exceptions import InvalidTransition
from registry.models import (
    AccessLog,
    District,
    Organization,
    OutboxMessage,
    Program,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from registry.webhooks import WEBHOOK_TOPIC, delivery, services
from tests.conftest import KeyMaker
from tests.factories import OrganizationFactory, ProgramFactory
from tests.farmers.transition_helpers import make_household as engine_household
from tests.markets.conftest import SYSTEM, make_household
from tests.registry.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

STATUS = WebhookEventType.HOUSEHOLD_STATUS_CHANGED


@pytest.fixture
def program(organization: Organization) -> Program:
    return ProgramFactory.create(code="pirdais", name="PIRDAIS")


@pytest.fixture
def coca_org(geography: None) -> Organization:
    """A second implementer over the same districts whose key holds coca:read."""
    org = OrganizationFactory.create(code="vigila", kind=OrganizationKind.IMPLEMENTER)
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    return org


def subscribe(org: Organization, url: str, *types: str) -> tuple[WebhookSubscription, str]:
    return services.subscription_create(
        actor=None, organization=org, url=url, event_types=list(types) or [STATUS]
    )


def approve(program: Program, django_capture_on_commit_callbacks: Any) -> Household:
    """Register and approve a household, running the after-commit work (the deliveries)."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_household(program)


def signed_by(secret: str, request: Any) -> bool:
    """The receiver's check, written independently of ``registry.webhooks.signing``."""
    fields = [p.split("=", 1) for p in request.headers["X-Registry-Signature"].split(",")]
    stamp = next(v for k, v in fields if k == "t")
    expected = hmac.new(
        secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in fields)


def only_delivery() -> WebhookDelivery:
    (found,) = WebhookDelivery.objects.all()
    return found


def test_a_status_change_is_delivered_signed_and_masked_per_subscriber(
    program: Program,
    coca_org: Organization,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    coca_key, _raw = make_key(scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ], org=coca_org)
    plain_org = Organization.objects.get(code="implementa")
    _s1, plain_secret = subscribe(plain_org, receiver.url + "?who=plain")
    _s2, coca_secret = subscribe(coca_org, receiver.url + "?who=coca")

    household = approve(program, django_capture_on_commit_callbacks)

    event = WebhookEvent.objects.get(type=STATUS)
    assert event.subject_id == str(household.pk)
    assert event.payload == {"from": HouseholdStatus.PENDING_REVIEW, "to": HouseholdStatus.ACTIVE}
    assert len(receiver.received) == 2
    bodies = {}
    for request, secret in zip(
        sorted(receiver.received, key=lambda r: r.headers["X-Registry-Delivery"]),
        [plain_secret, coca_secret],
        strict=True,
    ):
        assert signed_by(secret, request)
        assert not signed_by("whsec_wrong", request)
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Registry-Event"] == STATUS
        body = json.loads(request.body)
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["id"] == str(event.pk) and body["type"] == STATUS
        assert body["created_at"].endswith("Z")
        bodies[secret] = body["data"]
        # Never personal data: no names, documents or phones of the family.
        assert b"Juana" not in request.body and b"987654321" not in request.body
    assert bodies[plain_secret]["status"] == HouseholdStatus.ACTIVE
    assert bodies[plain_secret]["from"] == HouseholdStatus.PENDING_REVIEW
    assert "stage" not in bodies[plain_secret]  # no coca:read: no stage
    assert bodies[coca_secret]["stage"] == Household.objects.get(pk=household.pk).stage
    # The stage sent to the coca:read holder is a logged coca read, like the API's.
    log = AccessLog.objects.get(created_by_key=coca_key)
    assert log.object_ids == [str(household.pk)] and log.fields == ["stage"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        WebhookDeliveryStatus.DELIVERED
    }
    attempt = WebhookAttempt.objects.first()
    assert attempt is not None and attempt.status_code == 200 and attempt.succeeded


def test_no_event_and_no_delivery_for_a_rolled_back_change(
    program: Program, make_key: KeyMaker, receiver: Receiver
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscribe(Organization.objects.get(code="implementa"), receiver.url)
    household = make_household(program, approve=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        farmers_services.household_transition(
            actor=SYSTEM, household=household, to=HouseholdStatus.ACTIVE, channel="test"
        )
        assert WebhookEvent.objects.filter(type=STATUS).count() == 1  # written with it...
        raise RuntimeError("the request fails after the move")
    # ... and gone with it: no event, no delivery, nothing in the outbox to send.
    assert not WebhookEvent.objects.filter(type=STATUS).exists()
    assert not WebhookDelivery.objects.exists()
    assert not OutboxMessage.objects.filter(topic=WEBHOOK_TOPIC).exists()
    # A refused move writes no event either.
    with pytest.raises(InvalidTransition):
        farmers_services.household_transition(
            actor=SYSTEM, household=household, to=HouseholdStatus.MERGED, channel="test"
        )
    assert not WebhookEvent.objects.filter(type=STATUS).exists()
    assert receiver.received == []


def test_a_500_is_retried_with_backoff_then_delivered(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscribe(Organization.objects.get(code="implementa"), receiver.url)
    receiver.plan = [500]
    approve(program, django_capture_on_commit_callbacks)

    pending = only_delivery()
    assert pending.status == WebhookDeliveryStatus.PENDING and pending.attempts == 1
    assert pending.last_status_code == 500
    wait = (pending.next_attempt_at - pending.started_at).total_seconds()
    assert 30 * 0.75 - 1 <= wait <= 30 + 1  # base backoff, with jitter
    # Not due yet: nothing is sent.
    assert str(delivery.retry_due(now=pending.started_at + timedelta(seconds=5))).startswith(
        "delivered 0, retrying 0"
    )
    result = delivery.retry_due(now=pending.next_attempt_at)
    assert result.delivered == 1
    done = only_delivery()
    assert done.status == WebhookDeliveryStatus.DELIVERED and done.attempts == 2
    failed, succeeded = WebhookAttempt.objects.order_by("attempted_at", "id")
    assert failed.status_code == 500 and not failed.succeeded
    assert failed.response_excerpt.startswith("boom") and len(failed.response_excerpt) == 500
    assert failed.latency_ms >= 0 and failed.error == "HTTP 500"
    assert succeeded.status_code == 200 and succeeded.succeeded
    # Both attempts carried the same event id (receivers deduplicate on it).
    ids = {json.loads(r.body)["id"] for r in receiver.received}
    assert len(receiver.received) == 2 and len(ids) == 1


@override_settings(WEBHOOK_TIMEOUT=0.3)
def test_a_timeout_is_logged_and_retried(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscribe(Organization.objects.get(code="implementa"), receiver.url)
    receiver.plan = ["hang"]
    receiver.hang_seconds = 1.0
    approve(program, django_capture_on_commit_callbacks)

    pending = only_delivery()
    assert pending.status == WebhookDeliveryStatus.PENDING
    timed_out = WebhookAttempt.objects.get()
    assert timed_out.status_code is None and "timed out" in timed_out.error
    assert 250 <= timed_out.latency_ms < 1000
    assert delivery.retry_due(now=pending.next_attempt_at).delivered == 1
    assert only_delivery().status == WebhookDeliveryStatus.DELIVERED


def test_dead_lettered_once_the_day_of_retries_is_spent(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscribe(Organization.objects.get(code="implementa"), receiver.url)
    receiver.plan = [503] * 200
    approve(program, django_capture_on_commit_callbacks)

    runs = 0
    while (current := only_delivery()).status == WebhookDeliveryStatus.PENDING:
        delivery.retry_due(now=current.next_attempt_at)  # time driven by the argument
        runs += 1
        assert runs < 100
    dead = only_delivery()
    assert dead.status == WebhookDeliveryStatus.DEAD and dead.dead_at is not None
    times = list(
        WebhookAttempt.objects.order_by("attempted_at").values_list("attempted_at", flat=True)
    )
    assert len(times) == dead.attempts == len(receiver.received) == runs + 1
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # Doubling from 30 s with 75–100 % jitter, capped at an hour, for a day.
    for n, gap in enumerate(gaps, start=1):
        full = min(3600, 30 * 2 ** (n - 1))
        assert full * 0.75 - 1 <= gap <= full + 1
    assert times[-1] - dead.started_at <= timedelta(days=1)
    assert times[-1] - dead.started_at > timedelta(hours=22)
    # Dead is final: the retry run leaves it alone.
    later = dead.dead_at + timedelta(days=2)
    assert str(delivery.retry_due(now=later)).startswith("delivered 0, retrying 0, dead 0")


def test_redelivery_of_one_and_of_everything_since(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscription, _secret = subscribe(Organization.objects.get(code="implementa"), receiver.url)
    approve(program, django_capture_on_commit_callbacks)
    approve(program, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2
    first = WebhookDelivery.objects.order_by("id").first()
    assert first is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert services.redeliver(actor=None, subscription=subscription, delivery_id=first.pk) == 1
    assert len(receiver.received) == 3
    assert json.loads(receiver.received[-1].body)["id"] == str(first.event_id)
    assert WebhookDelivery.objects.get(pk=first.pk).attempts == 2
    with django_capture_on_commit_callbacks(execute=True):
        future = timezone.now() + timedelta(minutes=1)
        assert services.redeliver(actor=None, subscription=subscription, since=future) == 0
        past = timezone.now() - timedelta(minutes=5)
        assert services.redeliver(actor=None, subscription=subscription, since=past) == 2
    assert len(receiver.received) == 5
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        WebhookDeliveryStatus.DELIVERED
    }


def test_a_dead_delivery_is_redelivered_with_a_fresh_window(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    subscription, _secret = subscribe(Organization.objects.get(code="implementa"), receiver.url)
    receiver.plan = [500]
    with override_settings(WEBHOOK_RETRY_WINDOW=0):
        approve(program, django_capture_on_commit_callbacks)
    dead = only_delivery()
    assert dead.status == WebhookDeliveryStatus.DEAD and dead.attempts == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(actor=None, subscription=subscription, delivery_id=dead.pk)
    again = only_delivery()
    assert again.status == WebhookDeliveryStatus.DELIVERED and again.dead_at is None
    assert again.started_at > dead.started_at


def test_nothing_is_sent_to_a_subscriber_that_may_not_see_the_record(
    program: Program,
    coca_org: Organization,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Outside its area (Sivia is not one of its districts), without households:read, or
    # without any active key: skipped, never sent.
    far = OrganizationFactory.create(code="lejos", kind=OrganizationKind.IMPLEMENTER)
    far.districts.set(District.objects.filter(ubigeo="050407"))
    make_key(scopes=[Scope.HOUSEHOLDS_READ], org=far)
    make_key(scopes=[Scope.CONTRACTS_READ])  # implementa: no households:read
    make_key(scopes=[Scope.HOUSEHOLDS_READ], org=coca_org, revoked=True)
    for org in (far, Organization.objects.get(code="implementa"), coca_org):
        subscribe(org, receiver.url)
    approve(program, django_capture_on_commit_callbacks)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        WebhookDeliveryStatus.SKIPPED
    }
    assert receiver.received == [] and not WebhookAttempt.objects.exists()


def test_stage_changes_reach_only_who_may_see_stages(
    program: Program,
    coca_org: Organization,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    make_key(scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ], org=coca_org)
    stage = WebhookEventType.HOUSEHOLD_STAGE_CHANGED
    plain, _s = subscribe(Organization.objects.get(code="implementa"), receiver.url, stage)
    coca, _s = subscribe(coca_org, receiver.url, stage)
    household = make_household(program)
    event = WebhookEvent.objects.create(
        type=stage, subject_id=str(household.pk), payload={"from": "enrolled", "to": "verified"}
    )
    rows = [WebhookDelivery.objects.create(subscription=s, event=event) for s in (plain, coca)]
    for row in rows:
        delivery.attempt(row.pk)
    assert WebhookDelivery.objects.get(pk=rows[0].pk).status == WebhookDeliveryStatus.SKIPPED
    assert WebhookDelivery.objects.get(pk=rows[1].pk).status == WebhookDeliveryStatus.DELIVERED
    (request,) = receiver.received
    data = json.loads(request.body)["data"]
    assert data["from"] == "enrolled" and data["to"] == "verified" and "stage" in data


def test_the_engine_writes_one_stage_event_per_household_moved(program: Program) -> None:
    case = HouseholdEvidence(
        household_id=None,
        registered_on=date(2023, 1, 10),
        agreements=[date(2024, 1, 1)],
        visits=[Visit(date(2024, 3, 1), Decimal("0"), Decimal("2"))],
    )
    household = engine_household(program, case)
    engine.recompute_households([household.pk], today=date(2025, 1, 1))
    moved = Household.objects.get(pk=household.pk)
    assert moved.stage == Stage.LICIT_PRODUCTION
    # One event for the move, however many rungs the ledger wrote.
    (event,) = WebhookEvent.objects.filter(type=WebhookEventType.HOUSEHOLD_STAGE_CHANGED)
    assert event.subject_id == str(household.pk)
    assert event.payload == {
        "from": Stage.ENROLLED,
        "to": Stage.LICIT_PRODUCTION,
        "effective_on": moved.stage_since.isoformat(),
    }
    assert event.district_id == moved.district_id and event.program_id == moved.program_id
    # A recompute that moves nothing writes no event.
    engine.recompute_households([household.pk], today=date(2025, 1, 1))
    assert WebhookEvent.objects.filter(type=WebhookEventType.HOUSEHOLD_STAGE_CHANGED).count() == 1


def test_every_event_type_has_a_builder_and_every_status_flow_names_its_event() -> None:
    from farmers.services.registration import HOUSEHOLD_FLOW
    from markets.services.contracts import CONTRACT_FLOW
    from markets.services.deliveries import DELIVERY_FLOW
    from registry.webhooks.events import spec_for
    from titles.services.transitions import TITLE_FLOW

    for type_ in WebhookEventType.values:
        assert spec_for(type_).type == type_
    assert HOUSEHOLD_FLOW.event == WebhookEventType.HOUSEHOLD_STATUS_CHANGED
    assert TITLE_FLOW.event == WebhookEventType.TITLE_APPLICATION_STATUS_CHANGED
    assert CONTRACT_FLOW.event == WebhookEventType.CONTRACT_STATUS_CHANGED
    assert DELIVERY_FLOW.event == WebhookEventType.DELIVERY_STATUS_CHANGED


def test_alerts_raised_reach_who_may_read_them(
    program: Program,
    coca_org: Organization,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A visit-due alert reaches a households:read subscriber; a relapse alert (coca data) only
    one that may see stages (coca:read), and that read is logged."""
    from registry.alerts import AlertSpec, alert_raise, alerts_raise_many
    from registry.choices import AlertKind

    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    coca_key, _raw = make_key(scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ], org=coca_org)
    raised = WebhookEventType.ALERT_RAISED
    subscribe(Organization.objects.get(code="implementa"), receiver.url + "?who=plain", raised)
    subscribe(coca_org, receiver.url + "?who=coca", raised)

    def spec(kind: str, key: str) -> AlertSpec:
        return AlertSpec(
            kind=kind,
            key=key,
            message="Juana Quispe: coca observada",
            district_id="080910",
            program_id=program.pk,
        )

    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(spec(AlertKind.VISIT_DUE, "due:1"))
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_raise_many([spec(AlertKind.RELAPSE, "relapse:1")]) == 1
    assert WebhookEvent.objects.filter(type=raised).count() == 2
    for request in receiver.received:
        assert b"Juana" not in request.body  # the message is never sent
    kinds = sorted(json.loads(r.body)["data"]["kind"] for r in receiver.received)
    assert kinds == sorted([AlertKind.VISIT_DUE, AlertKind.VISIT_DUE, AlertKind.RELAPSE])
    statuses = dict(
        WebhookDelivery.objects.filter(event__payload__kind=AlertKind.RELAPSE).values_list(
            "subscription__organization__code", "status"
        )
    )
    assert statuses == {
        "implementa": WebhookDeliveryStatus.SKIPPED,
        "vigila": WebhookDeliveryStatus.DELIVERED,
    }
    assert AccessLog.objects.filter(created_by_key=coca_key, resource="alerts").count() == 1


def test_fan_out_is_set_based_with_one_message_per_chunk_of_deliveries(
    organization: Organization, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry import webhooks
    from registry.webhooks import events as webhook_events

    # Fifty a message here: SQLite binds at most 999 parameters, so 100+ deliveries would be
    # inserted in two batches and blur the count.
    monkeypatch.setattr(webhook_events, "SEND_CHUNK", 50)

    subscribe(organization, "http://127.0.0.1:9/hooks")
    subscribe(organization, "http://127.0.0.1:9/other")
    subscribe(organization, "http://127.0.0.1:9/alerts", WebhookEventType.ALERT_RAISED)
    move: dict[str, Any] = {"from": "a", "to": "b"}
    events = [webhooks.event(STATUS, n, **move) for n in range(40)]
    # The events, the subscriptions, the deliveries, two outbox messages: 5 queries for 80.
    with django_assert_num_queries(5):
        webhooks.record_many(events)
    assert WebhookEvent.objects.count() == 40
    assert WebhookDelivery.objects.count() == 80  # the alert subscription wants none
    sizes = [
        len(m.payload["deliveries"]) for m in OutboxMessage.objects.filter(topic=WEBHOOK_TOPIC)
    ]
    assert sizes == [50, 30]
    # No subscription wants the type: the events alone (2 queries), no delivery, no message.
    with django_assert_num_queries(2):
        webhooks.record_many([webhooks.event(WebhookEventType.DELIVERY_RECORDED, "x")])


def test_a_consent_withdrawal_is_told_to_partners_with_the_purposes_and_no_names(
    program: Program,
    make_key: KeyMaker,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    org = Organization.objects.get(code="implementa")
    _sub, secret = subscribe(org, receiver.url, WebhookEventType.HOUSEHOLD_CONSENT_CHANGED)
    household = approve(program, django_capture_on_commit_callbacks)
    before = sorted(household.consents.get().purposes)

    with django_capture_on_commit_callbacks(execute=True):
        farmers_services.consent_record(
            actor=SYSTEM, household=household, purposes=[], reason="Retirado por la familia"
        )

    event = WebhookEvent.objects.get(type=WebhookEventType.HOUSEHOLD_CONSENT_CHANGED)
    assert event.subject_id == str(household.pk)
    (request,) = receiver.received
    assert signed_by(secret, request)
    data = json.loads(request.body)["data"]
    assert data["from"] == before and data["to"] == []
    assert data["signed_on"] == timezone.localdate().isoformat()
    assert data["code"] == household.code
    assert b"Juana" not in request.body and b"987654321" not in request.body


def test_no_consent_event_for_a_rejected_consent_change(
    program: Program, django_capture_on_commit_callbacks: Any
) -> None:
    household = approve(program, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        farmers_services.consent_record(
            actor=SYSTEM, household=household, purposes=["nonsense"], reason="x"
        )
    assert not WebhookEvent.objects.filter(type=WebhookEventType.HOUSEHOLD_CONSENT_CHANGED).exists()
