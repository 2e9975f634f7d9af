"""The access-log writer: a partner's read is logged in a row that must be committed before the
response leaves (issue 19: every partner read of personal data is traceable). On PostgreSQL the
commit's wait for the disk is most of what logging costs a list page; here it overlaps the rest
of the response instead of preceding it.

``start(values)`` hands the row to a writer thread of this process, which inserts it on its own
database connection (autocommit: one ``INSERT``, committed), and returns a function that waits
for that commit; the API calls it once the response is rendered (``LoggedReadsMixin``), so no
response leaves before its row is durable, and a row that cannot be written turns the response
into a 500, as an inline write would. The writer's connection is Django's own for that thread
(``connections``), closed when past ``CONN_MAX_AGE`` or unusable; an insert that fails on a
broken connection is tried once more on a fresh one (a duplicate row is possible if the first
commit's answer was lost; a missing one is not).

The row is written inline, in the request's own connection, where that is the right thing or
the only one: inside a transaction (the row belongs to it: rolled back with it, and visible to
it; tests run there), on SQLite (one writer at a time), or with ``ACCESS_LOG_WRITER = False``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
#: Statements the writer thread has run (one ``INSERT`` a row, two when one was retried): the
#: benchmarks add them to the queries they count on the request's own connection.
statements = 0


def enabled() -> bool:
    """Whether rows go through the writer thread now (see the module's docstring)."""
    connection = connections[DEFAULT_DB_ALIAS]
    return (
        bool(getattr(settings, "ACCESS_LOG_WRITER", True))
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def _pool() -> ThreadPoolExecutor:
    """The process's writer (a new one after a fork: threads do not survive it)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="access-log")
            _executor_pid = os.getpid()
        return _executor


def _insert(values: dict[str, Any]) -> None:
    """Runs in the writer thread: one committed row, on that thread's connection."""
    from .models import AccessLog

    connection = connections[DEFAULT_DB_ALIAS]
    if connection.close_at is not None and time.monotonic() >= connection.close_at:
        connection.close()  # past CONN_MAX_AGE
    global statements
    try:
        statements += 1
        AccessLog.objects.create(**values)
    except (InterfaceError, OperationalError):
        if connection.connection is not None and connection.is_usable():
            raise  # the database refused the row itself
        connection.close()
        statements += 1
        AccessLog.objects.create(**values)


def start(values: dict[str, Any]) -> Callable[[], None]:
    """Write the access-log row ``values``; the returned function waits for its commit."""
    from .models import AccessLog

    if not enabled():
        AccessLog.objects.create(**values)
        return _done
    future: Future[None] = _pool().submit(_insert, values)

    def wait() -> None:
        future.result()

    return wait


def close() -> None:
    """Close the writer thread's database connection (it reconnects on its next row): e.g.
    before the database is dropped, as the test runner does at the end."""
    with _lock:
        executor = _executor if _executor_pid == os.getpid() else None
    if executor is not None:
        executor.submit(connections.close_all).result()


def _done() -> None:
    """The row is already written."""
