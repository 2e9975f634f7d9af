"""Brute-force protection shared by the logins, the API keys and the duplicate check.

- ``client_address``: the caller's address, from ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT``
  proxies append to ``X-Forwarded-For`` (DRF's ``NUM_PROXIES`` rule, so throttles and lockouts
  agree and a client cannot choose its own address).
- ``login_cool_off`` and ``lockout_response``: django-axes hooks (the lockout page, in Spanish
  first, with status 429).
- ``window_wait`` / ``window_count`` / ``window_take``: fixed-window counters in the cache. A
  cache error never becomes a 500: the counter fails open and logs one line. ``window_key``
  names the current window's counter, so that a caller can read it in a round trip it makes
  anyway (the API key's, ``registry.credentials.prefetch``) and pass the count to
  ``window_wait``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext

from registry import degraded

logger = logging.getLogger("registry.bruteforce")


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` = n > 0 the n-th
    address from the right of ``X-Forwarded-For`` (the one the outermost trusted proxy saw)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in str(forwarded).split(",") if part.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]


# --- logins (django-axes hooks) -----------------------------------------------------------------


def login_cool_off(request: HttpRequest | None = None) -> timedelta:
    """How long a locked (username, address) pair waits (``LOGIN_LOCKOUT_MINUTES``)."""
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def lockout_message() -> str:
    """The text of the lockout page, in the active language."""
    minutes = int(settings.LOGIN_LOCKOUT_MINUTES)
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """What a locked-out login gets: a 429 page (field or admin look), or JSON for scripts."""
    status = int(getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429))
    message = lockout_message()
    retry_after = str(int(login_cool_off(request).total_seconds()))
    response: HttpResponse
    if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":
        response = JsonResponse(
            {
                "type": "client_error",
                "errors": [{"code": "too_many_failed_attempts", "detail": message, "attr": None}],
            },
            status=status,
        )
    else:
        field = request.path.startswith("/campo/")
        response = render(
            request,
            "registry/lockout.html",
            {
                "base_template": "field/base.html" if field else "admin/base_site.html",
                "message": message,
                "title": gettext("Sign-in locked"),
                "login_url": request.path,
            },
            status=status,
        )
    response["Retry-After"] = retry_after
    return response


# --- fixed-window counters in the cache ----------------------------------------------------------


def window_key(scope: str, ident: str, window: int, now: float | None = None) -> tuple[str, int]:
    """The counter's cache key for the current window, and the seconds left in that window."""
    now = time.time() if now is None else now
    index = int(now // window)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    left = max(1, math.ceil((index + 1) * window - now))
    return f"bruteforce:{scope}:{index}:{digest}", left


_UNREAD = object()


def window_wait(
    scope: str,
    ident: str,
    *,
    limit: int,
    window: int,
    count: Any = _UNREAD,
    now: float | None = None,
) -> int:
    """Seconds until ``ident`` may try again, 0 if it is below ``limit`` in this window.

    ``count``: the counter's value already read from the cache under ``window_key(...)`` at
    ``now`` (``None`` when absent), so that no second round trip is made."""
    key, left = window_key(scope, ident, window, now)
    if count is not _UNREAD:
        return left if int(count or 0) >= limit else 0
    if degraded.is_down("cache"):
        return 0  # skipped while the cache is down (no timeout paid by every request)
    try:
        count = cache.get(key) or 0
    except Exception as exc:  # noqa: BLE001 - cache down: fail open, never a 500
        degraded.mark_down("cache")
        degraded.warn("cache", f"brute-force counter {scope} not enforced", exc)
        return 0
    return left if int(count) >= limit else 0


def window_count(scope: str, ident: str, *, window: int) -> int:
    """Count one event for ``ident`` in the current window; the new count (0 if uncounted)."""
    key, _left = window_key(scope, ident, window)
    if degraded.is_down("cache"):
        return 0
    try:
        cache.add(key, 0, timeout=window + 5)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            return 1
    except Exception as exc:  # noqa: BLE001 - cache down: fail open, never a 500
        degraded.mark_down("cache")
        degraded.warn("cache", f"brute-force counter {scope} not counted", exc)
        return 0


def window_take(scope: str, ident: str, *, limit: int, window: int) -> int:
    """Count one event; seconds to wait if this one is over ``limit`` (0: go ahead)."""
    count = window_count(scope, ident, window=window)
    if count <= limit:
        return 0
    _key_name, left = window_key(scope, ident, window)
    return left
