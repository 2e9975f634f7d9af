"""``python -m tests.farmers.slow_sweep_worker <celery arguments>``: a Celery worker whose sweep
ranges each hold their transaction open ``SLOW_SWEEP_PAUSE`` seconds before committing (through
the ``farmers.transition.sweep.before_range_commit`` seam), so the worker-kill test can kill it
mid-range. Production code reads no test setting."""

from __future__ import annotations

import os
import sys
import time

import django


def _slow_ranges() -> None:
    from farmers.transition import sweep

    pause = float(os.environ.get("SLOW_SWEEP_PAUSE", "0.3"))
    original = sweep.before_range_commit

    def before_range_commit(range_id: int) -> None:
        original(range_id)
        time.sleep(pause)

    sweep.before_range_commit = before_range_commit


if __name__ == "__main__":
    django.setup()
    _slow_ranges()
    from celery.bin.celery import main

    sys.exit(main())
