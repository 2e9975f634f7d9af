"""API keys resolved once: the key, its organization and its area (districts and programmes),
kept in the cache so that a partner's request spends no query on who it is (issue 19).

A request presents ``<prefix>.<secret>``; ``resolve(prefix)`` answers the key row (with its
organization) and the organization's ``Area`` from the cache, in one round trip that also reads
the **generation** token (and whatever else the request needs from the cache before it knows who
is calling: ``prefetch(prefix, also=...)``, e.g. the address's brute-force counter). Every entry
carries the generation it was built under and counts only while that token is current. Any
change to a key, an organization, an organization's districts or programmes, or a programme (its
agency, its assignments) sets a new token (``invalidate``, wired to the models' signals in
``RegistryConfig.ready``): at once, and again when the transaction commits, so that a request
reading the database between the two cannot leave a stale entry behind. Entries also expire
after ``API_KEY_CACHE_SECONDS`` (a bound on changes made around the ORM, e.g. raw SQL).

The checks (the secret's hash, revocation, expiry, an inactive organization) run on every
request against the resolved row: a revoked key is refused on its next request. The cache is
Redis in production (shared by every web process) and process memory in the embedded default;
when it is unreachable, keys are read from the database (nothing fails, it is only slower).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from registry import degraded

from .actors import Area, organization_area
from .models import ApiKey, Organization, Program

GENERATION_KEY = "registry:api-keys:generation"
_ENTRY = "registry:api-key:{layout}:{prefix}"


@dataclass(frozen=True)
class ResolvedKey:
    """A key row (its organization loaded) with its organization's area, as cached."""

    api_key: ApiKey
    area: Area | None
    generation: str


@functools.cache
def _layout() -> str:
    """A digest of the cached models' columns: a deployment that changes them reads none of the
    entries an older one pickled."""
    names = [
        f"{model.__name__}.{field.attname}"
        for model in (ApiKey, Organization)
        for field in model._meta.concrete_fields
    ]
    return hashlib.sha256(",".join(names).encode()).hexdigest()[:12]


def _entry_key(prefix: str) -> str:
    return _ENTRY.format(layout=_layout(), prefix=prefix)


def _from_database(prefix: str, generation: str) -> ResolvedKey | None:
    api_key = ApiKey.objects.select_related("organization").filter(prefix=prefix).first()
    if api_key is None:
        return None
    area = organization_area(api_key.organization)
    if area.districts is None and area.programs is None:
        return ResolvedKey(api_key, None, generation)
    return ResolvedKey(api_key, area, generation)


def _cache_failed(exc: BaseException) -> None:
    degraded.mark_down("cache")
    degraded.warn("cache", "API keys read from the database", exc)


@dataclass(frozen=True)
class Prefetched:
    """What one cache round trip read for a request: the key's entry and the generation token
    (``entry``/``generation``, ``None`` when absent), and the values of the ``also`` keys."""

    prefix: str | None
    entry: Any
    generation: str | None
    found: dict[str, Any]
    cache_down: bool = False


def prefetch(
    prefix: str | None, also: Sequence[str] = (), count: Sequence[tuple[str, int]] = ()
) -> Prefetched:
    """Read, in one cache round trip, the entry of the key with ``prefix`` (``None``: a
    malformed key, nothing to look up), the generation token and the ``also`` keys (e.g. the
    caller's brute-force counter: ``registry.bruteforce.window_key``), and count one in each
    ``count`` counter (``(key, seconds to live)``: the throttle's, ``registry.api.throttling``;
    the new values in ``found``)."""
    if degraded.is_down("cache"):
        return Prefetched(prefix, None, None, {}, cache_down=True)
    keys = [*also]
    if prefix is not None:
        keys += [_entry_key(prefix), GENERATION_KEY]
    try:
        found = _round_trip(keys, count)
    except degraded.BACKEND_ERRORS as exc:
        _cache_failed(exc)
        return Prefetched(prefix, None, None, {}, cache_down=True)
    if prefix is None:
        return Prefetched(None, None, None, found)
    return Prefetched(prefix, found.get(_entry_key(prefix)), found.get(GENERATION_KEY), found)


def _round_trip(keys: list[str], count: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """``keys`` read and ``count`` counters incremented: one pipeline on Redis, plain cache
    calls elsewhere (process memory: no round trip to save)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache) and count:
        client = backend._cache  # type: ignore[attr-defined]
        names = [backend.make_and_validate_key(key) for key in keys]
        pipe = client.get_client(None, write=True).pipeline(transaction=False)
        if names:
            pipe.mget(names)
        for key, ttl in count:
            name = backend.make_and_validate_key(key)
            pipe.incr(name)
            pipe.expire(name, ttl)
        answers = pipe.execute()
        found: dict[str, Any] = {}
        if names:
            values = answers.pop(0)
            found = {
                key: client._serializer.loads(value)
                for key, value in zip(keys, values, strict=True)
                if value is not None
            }
        for (key, _ttl), value in zip(count, answers[0::2], strict=True):
            found[key] = int(value)
        return found
    found = backend.get_many(keys) if keys else {}
    for key, ttl in count:
        backend.add(key, 0, ttl)
        try:
            found[key] = int(backend.incr(key))
        except ValueError:  # expired between add and incr
            backend.set(key, 1, ttl)
            found[key] = 1
    return found


def resolve(prefix: str, prefetched: Prefetched | None = None) -> ResolvedKey | None:
    """The key with ``prefix`` (and its organization's area), from the cache when current;
    ``None`` when no key has that prefix (misses are not cached). ``prefetched``: what
    ``prefetch(prefix, ...)`` already read for this request."""
    if prefetched is None or prefetched.prefix != prefix:
        prefetched = prefetch(prefix)
    if prefetched.cache_down:
        return _from_database(prefix, "")
    generation = prefetched.generation
    if generation is None:
        try:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
            generation = cache.get(GENERATION_KEY)
        except degraded.BACKEND_ERRORS as exc:
            _cache_failed(exc)
            return _from_database(prefix, "")
    entry = prefetched.entry
    if isinstance(entry, ResolvedKey) and generation and entry.generation == generation:
        return entry
    resolved = _from_database(prefix, str(generation or ""))
    if resolved is not None and generation:
        remember(resolved)
    return resolved


def remember(resolved: ResolvedKey) -> None:
    """Store ``resolved`` (e.g. after its ``last_used_at`` was written)."""
    if not resolved.generation or degraded.is_down("cache"):
        return
    try:
        cache.set(_entry_key(resolved.api_key.prefix), resolved, settings.API_KEY_CACHE_SECONDS)
    except degraded.BACKEND_ERRORS as exc:
        _cache_failed(exc)


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except degraded.BACKEND_ERRORS as exc:
        _cache_failed(exc)


def invalidate() -> None:
    """Forget every resolved key: now, and again when the current transaction commits."""
    _new_generation()
    transaction.on_commit(_new_generation)


def invalidate_on_change(sender: Any, **kwargs: Any) -> None:
    """Signal receiver: a key, an organization, its districts or programmes, or a programme
    changed (``post_save``, ``post_delete``, ``m2m_changed``)."""
    if kwargs.get("raw"):
        return  # fixtures being loaded
    if sender in (ApiKey, Organization) and kwargs.get("created"):
        # A new key, a new organization: nothing cached depends on it (misses are not cached;
        # a new organization has neither keys nor an area yet). A new programme does: its
        # agency's area grows.
        return
    action = kwargs.get("action")
    if action is not None and not str(action).startswith("post_"):
        return  # m2m_changed: once, after the change
    invalidate()


def connect_signals() -> None:
    """Wire ``invalidate_on_change`` to every model a resolved key depends on."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for model in (ApiKey, Organization, Program):
        uid = f"registry.credentials.{model.__name__}"
        post_save.connect(invalidate_on_change, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(invalidate_on_change, sender=model, dispatch_uid=f"{uid}.delete")
    for through in (Organization.districts.through, Organization.programs.through):
        m2m_changed.connect(
            invalidate_on_change, sender=through, dispatch_uid=f"registry.credentials.{through}"
        )
