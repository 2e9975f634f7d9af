"""The transition engine with a real Celery worker on Redis (not eager): a recompute after
commit is visible within 2 s, and a sweep whose worker is killed mid-run (SIGKILL) and resumed
by a new worker ends exactly like a clean run, with no duplicate ledger rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from farmers.choices import Stage, SweepStatus, VerificationStatus
from farmers.models import Household, StageChange, SweepRun, Verification
from farmers.tasks import plan_sweep
from farmers.transition import engine, recompute_on_commit
from registry.models import Program
from tests.farmers.test_transition_rules import CASES
from tests.farmers.transition_helpers import make_household

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own (xdist workers share Redis); tasks sent for real."""
    name = f"test-engine-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    conf = current_app.conf
    saved = (conf.task_always_eager, conf.task_default_queue)
    conf.task_always_eager = False
    conf.task_default_queue = name
    yield name
    conf.task_always_eager, conf.task_default_queue = saved


@pytest.fixture
def start_worker(queue: str) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``start_worker(**env)`` → a ``celery worker`` on the test database and ``queue``;
    ``start_worker(slow_ranges=True)``: one whose sweep ranges pause before committing."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    workers: list[subprocess.Popen[bytes]] = []

    def start(*, slow_ranges: bool = False, **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ["REDIS_URL"],
            "CELERY_TASK_ALWAYS_EAGER": "False",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            **extra,
        }
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "tests.farmers.slow_sweep_worker" if slow_ranges else "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
        )
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_recompute_after_commit_is_visible_within_two_seconds(
    program: Program, start_worker: Callable[..., Any]
) -> None:
    household = make_household(program)
    engine.recompute_households([household.pk])
    start_worker()
    time.sleep(3)  # let the worker connect
    today = date.today()
    with transaction.atomic():
        Verification.objects.create(
            household=household,
            visited_on=today,
            method="field_visit",
            coca_ha=Decimal("0"),
            status=VerificationStatus.CONFIRMED,
        )
        household.agreements.create(signed_on=today, coca_ha_committed=Decimal("1"))
        recompute_on_commit([household.pk])
    committed = time.monotonic()
    assert wait_for(
        lambda: Household.objects.get(pk=household.pk).stage == Stage.COCA_FREE, timeout=10
    )
    assert time.monotonic() - committed < 2.0


def test_a_worker_killed_mid_sweep_ends_like_a_clean_run(
    program: Program, start_worker: Callable[..., Any]
) -> None:
    ids = [make_household(program, case).pk for _n, case, _s, _w in CASES * 2]
    today = date(2026, 11, 28)
    # The clean result, computed without writing.
    expected = {
        uuid.UUID(row.id): row.result.stage
        for row in engine._compute_batch(
            engine.Q(pk__in=ids), engine.Q(household_id__in=ids), today
        )
    }
    worker = start_worker(slow_ranges=True, SLOW_SWEEP_PAUSE="0.3")
    plan_sweep.delay(today.isoformat(), 3)
    assert wait_for(lambda: SweepRun.objects.filter(ranges_done__gte=2).exists(), timeout=30)
    worker.send_signal(signal.SIGKILL)  # mid-range: its transaction is rolled back
    worker.wait(timeout=10)
    run = SweepRun.objects.get()
    assert run.status == SweepStatus.RUNNING and run.ranges_done < run.ranges_total
    # A new worker; the killed task comes back after the (short) visibility timeout, and the
    # planner run again for the day resumes the unfinished ranges: both are harmless repeats.
    start_worker(CELERY_VISIBILITY_TIMEOUT="2")
    plan_sweep.delay(today.isoformat(), 3)
    first = SweepRun.objects.order_by("id")
    assert wait_for(
        lambda: first.filter(status=SweepStatus.DONE, pk=run.pk).exists(), timeout=60, step=0.1
    )
    run = SweepRun.objects.get(pk=run.pk)
    assert run.ranges_done == run.ranges_total and run.households == len(ids)
    # The queued ranges may finish the run before the second plan is handled: that plan then
    # starts a fresh sweep of the day, which must move nothing.
    assert wait_for(
        lambda: not SweepRun.objects.exclude(status=SweepStatus.DONE).exists(), timeout=60
    )
    assert all(r.changes == 0 for r in SweepRun.objects.exclude(pk=run.pk))
    stored = dict(Household.objects.filter(pk__in=ids).values_list("pk", "stage"))
    assert stored == expected
    ledger = dict(
        StageChange.objects.values("household")
        .annotate(n=Count("id"))
        .values_list("household", "n")
    )
    moved = {hid for hid, stage in expected.items() if stage != Stage.ENROLLED}
    assert set(ledger) == moved
    # One row per rung reached (issue 15), none written twice by the killed and the new worker.
    twice = (
        StageChange.objects.values("household", "to_stage").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not twice.exists()
    last = {
        row.household_id: row.to_stage
        for row in StageChange.objects.filter(household_id__in=moved).order_by("id")
    }
    assert last == {hid: expected[hid] for hid in moved}
    assert run.changes == len(moved)
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
