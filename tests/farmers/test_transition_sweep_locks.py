"""Sweep ranges run side by side: a worker holds the lock of its own range only, never the
sweep's run row, so two workers never wait for each other's ranges (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from django.db import connection

from farmers.choices import SweepStatus
from farmers.models import StageChange, SweepRun
from farmers.transition import sweep
from registry.models import Program
from tests.farmers.test_transition_engine import _batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TODAY = date(2026, 11, 28)


def test_a_worker_does_not_wait_for_another_workers_range(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _batch(program, 4)
    run = sweep.plan(today=TODAY, chunk_size=2, queue=False)
    first, second, *rest = run.ranges.order_by("lo").values_list("pk", flat=True)
    inside, release = threading.Event(), threading.Event()
    real = sweep.sweep_range
    holder_thread: list[threading.Thread] = []

    def held(lo: Any, hi: Any, today: date) -> Any:
        outcome = real(lo, hi, today)
        if threading.current_thread() in holder_thread:
            inside.set()  # the range is computed, its transaction (and lock) still open
            release.wait(20)
        return outcome

    monkeypatch.setattr(sweep, "sweep_range", held)
    errors: list[BaseException] = []

    def hold_first_range() -> None:
        try:
            sweep.run_range(first)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_first_range)
    holder_thread.append(thread)
    thread.start()
    try:
        assert inside.wait(20), errors
        with connection.cursor() as cursor:
            # Before ranges locked their own row only, this waited for the first worker.
            cursor.execute("SET lock_timeout = '3s'")
        started = time.monotonic()
        result = sweep.run_range(second)
        waited = time.monotonic() - started
        for other in rest:
            sweep.run_range(other)
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert not errors
    assert result["skipped"] is False and waited < 3
    run = SweepRun.objects.get(pk=run.pk)
    assert run.status == SweepStatus.DONE
    assert run.ranges_done == run.ranges_total == 2 + len(rest)
    assert run.households == len(ids)
    # ``changes`` counts the households moved (each writes one ledger row per rung reached).
    moved = StageChange.objects.filter(household_id__in=ids).values("household_id").distinct()
    assert moved.count() == run.changes
