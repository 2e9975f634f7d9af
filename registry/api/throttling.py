"""Rate limit per API key (or per person, or per address): 429 in the error shape."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from registry.models import ApiKey


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
