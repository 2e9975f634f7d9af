"""Rate limit per API key (or per person, or per address): 429 in the error shape.

The budget is a **sliding-window counter**: one counter per client and window of the rate's
duration, and the request is let through while the previous window's count, weighted by the
part of it still inside the sliding window, plus the current window's count stays within the
rate (Cloudflare's approximation of a sliding log). On Redis that is one round trip per request
(a pipeline: ``INCR`` and ``EXPIRE`` the current counter, ``GET`` the previous one), where DRF's
sliding log read and wrote a pickled list of up to a whole budget of timestamps in two. As with
DRF, refused requests do not count (the refused increment is taken back).

The budgets live in the shared cache (Redis in production). When the cache is unreachable the
throttle does not fail the request: it counts in a per-process memory cache instead (the same
rate, per process rather than per deployment) and logs a warning at most once a minute
(``registry.degraded``); Redis is tried again ``DEGRADED_RETRY_AFTER`` seconds later.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from registry import degraded
from registry.models import ApiKey

#: The per-process fallback while the shared cache is down.
LOCAL_CACHE = LocMemCache("registry-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


def _counts(cache: Any, current: str, previous: str, ttl: int) -> tuple[int, int]:
    """Count one request in ``current`` and read ``previous``: one round trip on Redis."""
    if isinstance(cache, ConnectionProxy):  # ``django.core.cache.cache``: this thread's cache
        cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        now_key = cache.make_and_validate_key(current)
        before_key = cache.make_and_validate_key(previous)
        client = cache._cache.get_client(now_key, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incr(now_key)
        pipe.expire(now_key, ttl)
        pipe.get(before_key)
        count, _expire, before = pipe.execute()
        return int(count), int(before or 0)
    cache.add(current, 0, ttl)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between add and incr
        cache.set(current, 1, ttl)
        count = 1
    return int(count), int(cache.get(previous) or 0)


def uncount(cache: Any, current: str) -> None:
    """Take back a refused request's increment."""
    # The window's counter may have expired meanwhile: then there is nothing to take back.
    with contextlib.suppress(ValueError):
        cache.decr(current)


@dataclass(frozen=True)
class Window:
    """A client's counters at ``now``: the current window's and the previous one's keys."""

    now: float
    index: int
    current: str
    previous: str
    ttl: int


@dataclass(frozen=True)
class Counted:
    """A request already counted with the cache round trip that authenticated its key
    (``registry.api.authentication``): the window, the new count and the previous window's."""

    window: Window
    count: int
    before: int


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per key, per signed-in person, or per address for anonymous calls.

    A key's request is counted in the same cache round trip that reads the key
    (``counted_with_key``): every authenticated request of a key counts, including one then
    refused for its scope; a request with a wrong secret is taken back."""

    scope = "client"
    # Set by ``SimpleRateThrottle.__init__`` from the rate.
    num_requests: int
    duration: int

    @classmethod
    def key_window(cls, prefix: str) -> Window | None:
        """The counters of the key with ``prefix`` now (``None``: no rate set)."""
        throttle = cls()
        if throttle.rate is None:
            return None
        key = throttle.cache_format % {"scope": throttle.scope, "ident": f"key:{prefix}"}
        return throttle._window(key)

    def _window(self, key: str) -> Window:
        now = self.timer()
        duration = int(self.duration)
        index = int(now // duration)
        return Window(now, index, f"{key}:{index}", f"{key}:{index - 1}", 2 * duration)

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        counted = getattr(request, "_throttle_counted", None)
        if isinstance(counted, Counted) and counted.window.current.startswith(f"{self.key}:"):
            try:
                return self._allow(self.cache, counted)
            except degraded.BACKEND_ERRORS as exc:  # taking back a refused request's count
                degraded.mark_down("cache")
                degraded.warn("cache", "API throttling counts per process", exc)
                return False
        if not degraded.is_down("cache"):
            try:
                return self._allow(self.cache)
            except degraded.BACKEND_ERRORS as exc:
                degraded.mark_down("cache")
                degraded.warn("cache", "API throttling counts per process", exc)
        self.cache = LOCAL_CACHE
        return self._allow(LOCAL_CACHE)

    def _allow(self, cache: BaseCache, counted: Counted | None = None) -> bool:
        if counted is not None:
            window, count, before = counted.window, counted.count, counted.before
        else:
            window = self._window(str(self.key))
            count, before = _counts(cache, window.current, window.previous, window.ttl)
        self.now = window.now
        duration = int(self.duration)
        # The share of the previous window still inside the sliding window ending now.
        self.weight = 1 - (window.now - window.index * duration) / duration
        self.before = before
        self.count = count - 1  # requests let through in this window before this one
        if before * self.weight + self.count < self.num_requests:
            return True
        uncount(cache, window.current)
        return False

    def wait(self) -> float | None:
        """Seconds until a request would be let through (the ``Retry-After`` of the 429)."""
        duration = int(self.duration)
        left_in_window = self.weight * duration
        if self.count >= self.num_requests or self.before == 0:
            return max(1.0, math.ceil(left_in_window))  # the next window, at the earliest
        # The previous window's weight falls linearly: when does it leave room for one more?
        excess = self.before * self.weight + self.count - self.num_requests
        # The first whole second strictly after the excess has slid out.
        return max(1.0, math.floor(excess * duration / self.before + 1e-9) + 1)
