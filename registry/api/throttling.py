"""Rate limit per API key (or per person, or per address): 429 in the error shape.

The budgets live in the shared cache (Redis in production). When the cache is unreachable the
throttle does not fail the request: it counts in a per-process memory cache instead (the same
rate, per process rather than per deployment) and logs a warning at most once a minute
(``registry.degraded``); Redis is tried again ``DEGRADED_RETRY_AFTER`` seconds later.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from registry import degraded
from registry.models import ApiKey

#: The per-process fallback while the shared cache is down.
LOCAL_CACHE = LocMemCache("registry-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per key, per signed-in person, or per address for anonymous calls."""

    scope = "client"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        if not degraded.is_down("cache"):
            try:
                return super().allow_request(request, view)
            except degraded.BACKEND_ERRORS as exc:
                degraded.mark_down("cache")
                degraded.warn("cache", "API throttling counts per process", exc)
        self.cache = LOCAL_CACHE
        return super().allow_request(request, view)
