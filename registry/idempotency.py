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
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.exceptions import Conflict

P = ParamSpec("P")
R = TypeVar("R")


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
