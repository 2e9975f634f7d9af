"""The transactional outbox (registry.outbox): written with the business change, sent after
commit, relayed with backoff when the hand-off fails, never sent twice by concurrent relays."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from registry import degraded, outbox
from registry.models import OutboxMessage

TOPIC = "test.outbox"


class Recorder:
    """A test handler: records payloads; fails while ``error`` is set."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.pause = 0.0

    def __call__(self, payload: dict[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        if self.pause:
            threading.Event().wait(self.pause)
        with self.lock:
            self.sent.append(payload)


@pytest.fixture
def handler() -> Iterator[Recorder]:
    recorder = Recorder()
    degraded.reset()
    outbox.register(TOPIC, recorder)
    yield recorder
    outbox._handlers.pop(TOPIC, None)
    degraded.reset()


def due(n: int) -> list[OutboxMessage]:
    now = timezone.now()
    return OutboxMessage.objects.bulk_create(
        OutboxMessage(topic=TOPIC, payload={"n": i}, available_at=now) for i in range(n)
    )


@pytest.mark.django_db
def test_a_message_is_written_in_the_transaction_and_sent_after_commit(
    handler: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = outbox.publish_on_commit(TOPIC, {"a": 1})
        assert OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).exists()
        assert handler.sent == []  # not before the commit
    assert len(callbacks) == 1
    assert handler.sent == [{"a": 1}]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_writes_and_sends_nothing(
    handler: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                outbox.publish_on_commit(TOPIC, {"a": 1})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert handler.sent == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_an_unknown_topic_is_refused_before_writing() -> None:
    with pytest.raises(LookupError):
        outbox.publish_on_commit("no.such.topic", {})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_failed_hand_off_keeps_the_row_pending_with_its_error_and_backoff(
    handler: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    handler.error = OperationalError("Error 111 connecting to redis. Connection refused.")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.publish_on_commit(TOPIC, {"a": 1})  # never raises
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1
    assert "Connection refused" in message.last_error
    assert message.available_at >= before + timedelta(seconds=30)
    # The broker is known to be down: the next hand-off is left to the relay straight away.
    assert degraded.is_down("broker")
    handler.error = None
    with django_capture_on_commit_callbacks(execute=True):
        second = outbox.publish_on_commit(TOPIC, {"b": 2})
    second.refresh_from_db()
    assert (second.sent_at, second.attempts, handler.sent) == (None, 0, [])


def test_backoff_doubles_and_is_capped(settings: Any) -> None:
    settings.OUTBOX_BACKOFF_BASE = 30
    settings.OUTBOX_BACKOFF_MAX = 3600
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


@pytest.mark.django_db
def test_the_relay_sends_due_rows_in_chunks_and_leaves_the_others(handler: Recorder) -> None:
    due(5)
    later = OutboxMessage.objects.create(
        topic=TOPIC, payload={"later": True}, available_at=timezone.now() + timedelta(minutes=5)
    )
    result = outbox.relay(chunk=2)
    assert (result.sent, result.failed, result.stopped) == (5, 0, False)
    assert sorted(p["n"] for p in handler.sent) == [0, 1, 2, 3, 4]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).get() == later
    assert outbox.relay().sent == 0  # nothing is sent twice


@pytest.mark.django_db
def test_the_relay_stops_at_a_broker_error_and_backs_off(handler: Recorder) -> None:
    due(3)
    handler.error = OperationalError("Connection refused")
    result = outbox.relay()
    assert (result.sent, result.failed, result.stopped) == (0, 1, True)
    failed = OutboxMessage.objects.get(attempts=1)
    assert failed.available_at > timezone.now() and "Connection refused" in failed.last_error
    handler.error = None
    assert outbox.relay().sent == 2  # the other two; the failed one waits for its backoff
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.relay().sent == 1
    assert OutboxMessage.objects.get(pk=failed.pk).attempts == 2


@pytest.mark.django_db
def test_a_failing_task_does_not_stop_the_relay(handler: Recorder) -> None:
    calls: list[int] = []

    def flaky(payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        if payload["n"] == 0:
            raise ValueError("bug in a task")
        handler(payload)

    outbox.register(TOPIC, flaky)
    due(3)
    result = outbox.relay()
    assert (result.sent, result.failed, result.stopped) == (2, 1, False)
    assert OutboxMessage.objects.get(sent_at__isnull=True).last_error == "ValueError: bug in a task"


@pytest.mark.django_db
def test_prune_deletes_only_old_sent_rows(handler: Recorder) -> None:
    old, recent, pending = due(3)
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=8))
    OutboxMessage.objects.filter(pk=recent.pk).update(sent_at=timezone.now() - timedelta(days=1))
    assert outbox.prune(days=7) == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}


@pytest.mark.django_db
def test_relay_outbox_command_and_the_beat_schedule(handler: Recorder) -> None:
    due(2)
    out = io.StringIO()
    call_command("relay_outbox", "--prune", stdout=out)
    text = out.getvalue()
    assert "relayed: sent 2, failed 0" in text
    assert "pending: 0" in text
    listing = io.StringIO()
    call_command("run_periodic", "--list", stdout=listing)
    assert "outbox-relay: registry.tasks.relay_outbox" in listing.getvalue()
    assert "outbox-prune: registry.tasks.prune_outbox" in listing.getvalue()


@pytest.mark.django_db
def test_the_relay_task_runs_in_process(handler: Recorder) -> None:
    from registry.tasks import prune_outbox, relay_outbox

    due(1)
    assert relay_outbox.delay().get() == "sent 1, failed 0"
    assert prune_outbox.delay().get() == 0


@pytest.mark.django_db
def test_a_recompute_writes_one_outbox_row() -> None:
    """The outbox costs one INSERT per write request (the recompute of the new household)."""
    from farmers.transition import RECOMPUTE_TOPIC, recompute_on_commit

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        recompute_on_commit(["00000000-0000-0000-0000-000000000001", None])
        recompute_on_commit([])
    inserts = [q for q in queries.captured_queries if "registry_outboxmessage" in q["sql"]]
    assert len(inserts) == 1 and inserts[0]["sql"].startswith("INSERT")
    row = OutboxMessage.objects.get()
    assert (row.topic, row.payload) == (
        RECOMPUTE_TOPIC,
        {"household_ids": ["00000000-0000-0000-0000-000000000001"]},
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_send_a_row_twice(handler: Recorder) -> None:
    rows = due(60)
    handler.pause = 0.005
    results: list[outbox.RelayResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(outbox.relay(chunk=5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent = sorted(p["n"] for p in handler.sent)
    assert sent == list(range(len(rows)))  # each exactly once
    assert sum(r.sent for r in results) == len(rows)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
