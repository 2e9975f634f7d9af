"""The merge hook: apps above ``farmers`` move their own records when two households merge.

``farmers.services.household_merge`` moves what ``farmers`` owns (members, plots, consents,
agreements, visits, support, the stage ledger) and the kernel's alerts about the household.
Records of the apps above it (title files, contracts, deliveries, offers) are theirs to move:
at start-up (``AppConfig.ready``) each app registers a handler with
:func:`register_merge_handler`; the merge calls every handler inside its transaction with
``(source, target, actor)``. ``farmers`` never imports those apps (``tests/test_architecture.py``).

A handler moves the source household's rows to the target (re-scoping their denormalised
district and programme, ``touch()``-ing versioned rows so their ETags change, writing change
records), resolves its own unique constraints (e.g. markets keeps the surviving household's
live offer to a buyer and withdraws the merged-away one's) and returns counts for the target's
change record (``{"contracts": 2, ...}``). An exception in a handler rolls the whole merge back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import models

from registry.choices import ChangeAction
from registry.history import change_record
from registry.models import VersionedModel

if TYPE_CHECKING:
    from registry.actors import Actor

    from .models import Household

#: The key naming the merged-away household (its code) in moved records' history and evidence.
MERGED_FROM = "merged_from"

MergeHandler = Callable[["Household", "Household", "Actor"], Mapping[str, Any] | None]

_handlers: dict[str, MergeHandler] = {}


def register_merge_handler(name: str, handler: MergeHandler) -> None:
    """Register (or replace) the merge handler ``handler`` under ``name`` (e.g. ``"titles"``)."""
    _handlers[name] = handler


def merge_handlers() -> dict[str, MergeHandler]:
    """The registered merge handlers, by name, in registration order."""
    return dict(_handlers)


def run_merge_handlers(source: Household, target: Household, actor: Actor) -> dict[str, Any]:
    """Call every handler (inside the caller's transaction); their counts, merged."""
    counts: dict[str, Any] = {}
    for handler in _handlers.values():
        counts.update(handler(source, target, actor) or {})
    return counts


def move_records(
    queryset: models.QuerySet[Any], source: Household, target: Household, actor: Actor
) -> int:
    """Move the rows of ``queryset`` (a model with ``household``, ``district`` and ``program``)
    from ``source`` to ``target``: scoped like the target, each versioned row saved as a new
    version (its ETag changes), each with a change record naming the merge. Returns how many."""
    moved = 0
    for record in queryset.select_for_update().order_by("pk"):
        record.household = target
        record.district_id = target.district_id
        record.program_id = target.program_id
        fields = ["household", "district", "program"]
        if isinstance(record, VersionedModel):
            record.touch(*fields)
        else:
            record.save(update_fields=fields)
        change_record(
            instance=record,
            action=ChangeAction.UPDATE,
            actor=actor,
            changes={"household": [source.code, target.code], MERGED_FROM: source.code},
        )
        moved += 1
    return moved
