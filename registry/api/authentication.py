"""``Authorization: Api-Key <key>`` authentication, and the per-request ``Actor``."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry import degraded
from registry.actors import Actor
from registry.bruteforce import client_address
from registry.models import ApiKey
from registry.services import ApiKeyError, api_key_authenticate, key_prefix

from .throttling import ClientRateThrottle, Counted, uncount

KEYWORD = "Api-Key"
# Also accepted: the form HTTP clients (and the docs' "Authorize" dialog) send by default.
BEARER = "Bearer"


class ApiKeyPrincipal:
    """What ``request.user`` is for a key: an authenticated principal that is not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class TooManyFailedAttempts(exceptions.Throttled):
    """429 for an address that presented too many invalid keys (``Retry-After`` set)."""

    default_code = "too_many_failed_attempts"

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(wait=wait, detail=detail, code=self.default_code)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates partners by a hashed, scoped, expiring, revocable key."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, sep, raw_key = header.strip().partition(" ")
        if not sep and keyword and "." in keyword:
            # A bare key (as pasted into the docs' "Authorize" dialog): say how to send it.
            raise exceptions.AuthenticationFailed(
                _(
                    "Send the key as “Api-Key <key>” (or “Bearer <key>”) "
                    "in the Authorization header."
                ),
                code="api_key_prefix_missing",
            )
        if keyword.lower() not in (KEYWORD.lower(), BEARER.lower()):
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed(
                _("The Api-Key header has no key."), code="invalid_api_key"
            )
        # The key's throttle counters go in the same cache round trip as the key itself.
        prefix = key_prefix(raw_key)
        window = ClientRateThrottle.key_window(prefix) if prefix is not None else None
        seen: dict[str, Any] = {}
        try:
            api_key = api_key_authenticate(
                raw_key,
                address=client_address(request._request),
                also=[window.previous] if window else [],
                count=[(window.current, window.ttl)] if window else [],
                seen=seen,
            )
        except ApiKeyError as exc:
            if window is not None and window.current in seen:
                _take_back(window.current)  # a wrong key spends no budget of the right one
            if exc.retry_after is not None:
                raise TooManyFailedAttempts(exc.detail, wait=exc.retry_after) from exc
            raise exceptions.AuthenticationFailed(exc.detail, code=exc.code) from exc
        if window is not None and window.current in seen:
            request._throttle_counted = Counted(  # type: ignore[attr-defined]
                window, int(seen[window.current]), int(seen.get(window.previous) or 0)
            )
        request._registry_actor = Actor.for_api_key(api_key)  # type: ignore[attr-defined]
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def _take_back(counter: str) -> None:
    try:
        uncount(cache, counter)
    except degraded.BACKEND_ERRORS as exc:
        degraded.mark_down("cache")
        degraded.warn("cache", "API throttling counts per process", exc)


def get_actor(request: Request) -> Actor:
    """The actor of this request (a key or a signed-in person), built once per request."""
    actor = getattr(request, "_registry_actor", None)
    if actor is None:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            actor = Actor.for_api_key(auth)
        else:
            actor = Actor.for_user(getattr(request, "user", None))
        request._registry_actor = actor  # type: ignore[attr-defined]
    return actor
