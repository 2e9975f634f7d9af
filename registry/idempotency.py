"""Idempotent creates under races: the losing insert of a concurrent same-``id`` create replays.

Offline field apps and partner outboxes retry a create with the ``id`` they generated, sometimes
many times at once. Each create service checks first whether the ``id`` is taken (and answers with
the stored record, or a 409 ``idempotency_conflict``), but two requests can pass that check before
either commits: the loser then trips over the winner's rows (a unique ``id``, a member's DNI, an
open title file of the plot) and would answer 409 ``duplicate`` or ``conflict`` for a record that
was saved. ``replays_lost_race`` runs the create once more when a row with the ``id`` exists by
then, so the loser answers like any later retry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from registry.exceptions import Conflict

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["replayed", "replays_lost_race", "request_hash"]


def request_hash(payload: dict[str, Any]) -> str:
    """A stable hash of a create request, to tell a retry from a different reuse of an ``id``."""
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def replayed(model: Any, id: Any, digest: str, *, may_see: Callable[[Any], bool]) -> Any:
    """The record a retried create already made (same ``id``, same payload), or ``None``.

    The one idempotent-create check of the registry (``registry.models.IdempotentModel``).
    The same ``id`` with another payload, or a record ``may_see`` refuses to the caller, is a
    409 ``idempotency_conflict``: offline field apps and partner outboxes retry with the ids
    they generated, and a taken id reveals nothing else.
    """
    if id is None:
        return None
    existing = model.objects.filter(pk=id).first()
    if existing is None:
        return None
    if existing.request_hash == digest and may_see(existing):
        return existing
    raise Conflict(
        _("This id was already used for a different %(record)s.")
        % {"record": model._meta.verbose_name},
        code="idempotency_conflict",
        attr="id",
    )


def replays_lost_race(model: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an idempotent create service (keyword ``id``): when it fails with an integrity
    error, a validation error (``id`` not unique) or a conflict other than
    ``idempotency_conflict`` and a ``model`` row with that ``id``
    now exists, run it again; its own replay check then answers with the stored record (same
    payload) or ``idempotency_conflict`` (another payload), never ``duplicate``."""

    def decorate(create: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(create)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            client_id = kwargs.get("id")
            try:
                # A savepoint of its own, so a failed insert leaves the caller's transaction usable.
                with transaction.atomic():
                    return create(*args, **kwargs)
            except (IntegrityError, Conflict, ValidationError) as error:
                if client_id is None or getattr(error, "code", "") == "idempotency_conflict":
                    raise
                if not model.objects.filter(pk=client_id).exists():
                    raise
            return create(*args, **kwargs)

        return wrapper

    return decorate
