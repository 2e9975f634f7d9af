"""Session lifetime: signed out after a period without requests (idle timeout) and after an
absolute maximum age, whatever the activity.

Django alone keeps a session for ``SESSION_COOKIE_AGE`` from its last save, so an active session
never ends and an idle one lasts that long. Here each session remembers when it was signed in and
when it was last used (written at most once a minute, not on every request):

- idle for more than ``SESSION_IDLE_TIMEOUT`` (staff, who use the admin) or
  ``SESSION_FIELD_IDLE_TIMEOUT`` (field officers, who work offline for hours) → signed out;
- signed in more than ``SESSION_COOKIE_AGE`` ago → signed out.

A signed-out request goes on as anonymous: the admin and the field pages ask for the login, the
API answers 401, and the field outbox keeps its records until the officer signs in again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "_registry_signed_in_at"
LAST_SEEN_AT = "_registry_last_seen_at"
# Seconds between two writes of the last activity (a session write per request is not needed).
LAST_SEEN_RESOLUTION = 60


def idle_timeout_for(user: Any) -> int:
    """Seconds of inactivity after which this person's session ends."""
    if user.is_staff:
        return int(settings.SESSION_IDLE_TIMEOUT)
    return int(settings.SESSION_FIELD_IDLE_TIMEOUT)


@receiver(user_logged_in, dispatch_uid="registry.sessions.mark_sign_in")
def mark_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A new sign-in starts both clocks."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Ends idle and too old sessions (after ``AuthenticationMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = int(time.time())
            signed_in_at = int(session.get(SIGNED_IN_AT, now))
            last_seen_at = int(session.get(LAST_SEEN_AT, now))
            if (
                now - last_seen_at > idle_timeout_for(user)
                or now - signed_in_at > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
            else:
                if SIGNED_IN_AT not in session:  # a session from before this middleware
                    session[SIGNED_IN_AT] = now
                if LAST_SEEN_AT not in session or now - last_seen_at >= LAST_SEEN_RESOLUTION:
                    session[LAST_SEEN_AT] = now
        return self.get_response(request)
