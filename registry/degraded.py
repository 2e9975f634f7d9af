"""Running without Redis: which errors mean "the cache or broker is down", and quiet warnings.

The registry's core is the database. Redis serves as cache (API throttling) and Celery broker;
when it is unreachable the request path degrades instead of failing (a per-process throttle,
the outbox keeps what could not be published) and says so in the log, at most once a minute per
component (``DEGRADED_LOG_INTERVAL`` seconds) with the number of occurrences since the last line,
never one line per request.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger("registry.degraded")


def _backend_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]  # socket errors, refused connections
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a runtime dependency
        pass
    else:
        errors.append(RedisError)
    try:
        from kombu.exceptions import OperationalError
    except ImportError:  # pragma: no cover - kombu comes with Celery
        pass
    else:
        errors.append(OperationalError)
    return tuple(errors)


#: What a cache or broker call raises when Redis is down or slow (refused, reset, timed out).
BACKEND_ERRORS: tuple[type[BaseException], ...] = _backend_errors()

_lock = threading.Lock()
_last_logged: dict[str, float] = {}
_suppressed: dict[str, int] = {}
_down_until: dict[str, float] = {}


def warn(component: str, message: str, exc: BaseException | None = None) -> bool:
    """Log ``message`` about ``component`` (e.g. ``"cache"``) as a warning, at most once per
    interval; occurrences in between are counted and reported with the next line. Returns
    whether a line was written."""
    interval = float(getattr(settings, "DEGRADED_LOG_INTERVAL", 60))
    now = time.monotonic()
    with _lock:
        last = _last_logged.get(component)
        if last is not None and now - last < interval:
            _suppressed[component] = _suppressed.get(component, 0) + 1
            return False
        _last_logged[component] = now
        repeated = _suppressed.pop(component, 0)
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    more = f" ({repeated} more since the last warning)" if repeated else ""
    logger.warning("%s degraded: %s%s%s", component, message, detail, more)
    return True


def mark_down(component: str) -> None:
    """Remember that ``component`` failed: callers skip it for ``DEGRADED_RETRY_AFTER`` seconds
    (no connect timeout paid by every request while Redis is down)."""
    retry_after = float(getattr(settings, "DEGRADED_RETRY_AFTER", 10))
    with _lock:
        _down_until[component] = time.monotonic() + retry_after


def is_down(component: str) -> bool:
    """Whether ``component`` failed less than ``DEGRADED_RETRY_AFTER`` seconds ago."""
    with _lock:
        until = _down_until.get(component)
        if until is None:
            return False
        if time.monotonic() >= until:
            del _down_until[component]
            return False
        return True


def reset() -> None:
    """Forget every failure and log timer (tests)."""
    with _lock:
        _last_logged.clear()
        _suppressed.clear()
        _down_until.clear()
