"""Signatures of webhook deliveries: ``X-Registry-Signature: t=<unix>,v1=<hex>``.

``v1`` is HMAC-SHA256, keyed with the subscription's secret, over ``"{t}.{body}"`` (the raw
body bytes). After a rotation the header carries a second ``v1=`` signed with the previous
secret until its grace ends. Receivers recompute it, compare in constant time and refuse
timestamps older than a few minutes (replays): see docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Registry-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    """The header value: ``t=<unix>`` and one ``v1=`` per secret."""
    parts = [f"t={timestamp}"] + [f"v1={signature(s, timestamp, body)}" for s in secrets_ if s]
    return ",".join(parts)


def verify(secret: str, value: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether header ``value`` signs ``body`` with ``secret`` within ``tolerance`` seconds
    (what a receiver does; used by the tests and shown in docs/webhooks.md)."""
    fields = [part.split("=", 1) for part in value.split(",") if "=" in part]
    stamps = [v for k, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")
