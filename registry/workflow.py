"""The workflow kernel: a state machine is data, and one ``transition()`` path moves any record.

A :class:`Machine` (pure data, kept in each app's ``workflow.py``) names the states and, for each
state, the :class:`Move` objects that leave it: which parties may make the move, the scope it
needs, the fields it requires and the named guards it must pass. A :class:`Flow` (in each app's
services) binds a machine to its model: how to lock a record the actor may see, which parties
the actor holds on it, the rule that checks each required field, the callable behind each guard,
what the move changes, its history row and the work it queues after the commit.

:func:`transition` runs the same steps for every machine, in one transaction:

1. lock the record (``select_for_update``; 404 when the actor cannot see it);
2. check the expected version (412 on a stale ``If-Match``) — first, or after the party check,
   as the flow says;
3. look the move up (409 ``invalid_transition`` with the ``allowed`` next states);
4. check the party (403) and the flow's who-may-act guards (e.g. maker–checker);
5. check the required fields (field errors, 400);
6. run the move's state guards (their own errors, usually 409);
7. apply: set the status, the flow's changes, bump ``version`` and save;
8. write the status-history row and the change record;
9. run the flow's in-transaction follow-ups and queue its after-commit work (the outbox);
10. when the flow names a webhook ``event``, write it (``registry.webhooks``): one event row and
    its fan-out, in the same transaction.

The kernel imports no project app: apps import it (``registry`` ← ``farmers`` ← ``titles``,
``markets``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .actors import Actor
from .choices import ChangeAction
from .exceptions import InvalidTransition, PermissionDenied
from .history import change_record
from .models import next_version
from .services import check_version
from .webhooks import events as webhook_events

T = TypeVar("T", bound=models.Model)


# --- the data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One allowed move: the parties who may make it (empty: whoever the flow lets act), the
    scope it needs, the fields it requires, its named guards; ``system`` moves are made by a
    service, never through the API's ``transition/``."""

    by: frozenset[str] = frozenset()
    scope: str = ""
    requires: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    system: bool = False


@dataclass(frozen=True)
class Machine:
    """A state machine: ``moves[state][target]`` is the :class:`Move` from ``state`` to
    ``target``; a state with no moves is terminal. ``parties`` lists every party a move may
    name."""

    name: str
    moves: Mapping[str, Mapping[str, Move]]
    parties: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for state, targets in self.moves.items():
            for target, move in targets.items():
                if target not in self.moves:
                    raise ValueError(f"{self.name}: {state} → {target}: unknown target state")
                unknown = move.by - self.parties
                if unknown:
                    raise ValueError(f"{self.name}: {state} → {target}: unknown parties {unknown}")

    @property
    def states(self) -> list[str]:
        """Every state, in table order."""
        return list(self.moves)

    def move(self, state: str, target: str) -> Move | None:
        """The move from ``state`` to ``target`` (``None`` when there is none)."""
        return self.moves.get(state, {}).get(target)

    def allowed(self, state: str) -> list[str]:
        """The states reachable from ``state`` through ``transition/`` (no system moves),
        sorted."""
        return sorted(t for t, move in self.moves.get(state, {}).items() if not move.system)

    def terminal_states(self) -> set[str]:
        """States with no way out."""
        return {state for state, moves in self.moves.items() if not moves}

    def required_fields(self) -> set[str]:
        """Every field some move requires."""
        return {a for targets in self.moves.values() for m in targets.values() for a in m.requires}

    def guard_names(self) -> set[str]:
        """Every guard some move names."""
        return {g for targets in self.moves.values() for m in targets.values() for g in m.guards}


# --- one move in progress ------------------------------------------------------------------------


@dataclass
class Step(Generic[T]):
    """One move in progress, handed to every callable of a :class:`Flow`.

    ``data`` holds the request's fields (rules may replace a value by its cleaned form);
    ``changes`` collects what the change record lists beside ``status``; ``context`` is the
    flow's scratch space (e.g. a related row locked with the record)."""

    actor: Actor | None
    instance: T
    before: str
    to: str
    move: Move
    data: dict[str, Any]
    channel: str
    today: date
    changes: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


Hook = Callable[[Step[Any]], None]


@dataclass(frozen=True)
class Flow(Generic[T]):
    """Binds a :class:`Machine` to its model and its services.

    - ``lock(actor, record_or_pk)`` returns the record locked for update (raises 404 itself);
    - ``parties(step)`` returns the parties the actor holds on the record (checked against
      ``move.by``; with an empty ``by``, any party will do); ``denied`` is the 403 raised when
      none fits;
    - ``who`` maps a guard name to a who-may-act check run with the party check (it raises its
      own 403); ``guards`` maps a guard name to a state check run after the fields (it raises its
      own error);
    - ``fields`` maps each required field to its rule (raises ``ValidationError`` for the field);
      ``all_field_errors`` reports every field at once instead of the first;
    - ``apply(step)`` sets what the move changes (the status is already set), ``history(step)``
      writes the status-history row, ``after(step)`` the in-transaction follow-ups,
      ``enqueue(step)`` queues the work for after the commit (through the outbox);
    - ``versioned``: the record has ``version`` (bumped on every move, checked against the
      client's ``If-Match``); ``version_first``: the version is checked before the move;
    - ``event``: the webhook event type every move writes (``registry.webhooks``; empty: none),
      with the record's id, ``from`` and ``to`` (and its district and programme, if it has them).
    """

    machine: Machine
    lock: Callable[[Actor, Any], T]
    parties: Callable[[Step[T]], Iterable[str]]
    denied: Callable[[Step[T]], PermissionDenied]
    fields: Mapping[str, Hook] = field(default_factory=dict)
    who: Mapping[str, Hook] = field(default_factory=dict)
    guards: Mapping[str, Hook] = field(default_factory=dict)
    apply: Hook | None = None
    history: Hook | None = None
    after: Hook | None = None
    enqueue: Hook | None = None
    next_states: Callable[[T], list[str]] | None = None
    versioned: bool = True
    version_first: bool = False
    all_field_errors: bool = False
    status_field: str = "status"
    event: str = ""

    def __post_init__(self) -> None:
        missing_rules = self.machine.required_fields() - set(self.fields)
        if missing_rules:
            raise ValueError(f"{self.machine.name}: no rule for required {missing_rules}")
        missing_guards = self.machine.guard_names() - set(self.who) - set(self.guards)
        if missing_guards:
            raise ValueError(f"{self.machine.name}: no callable for guards {missing_guards}")

    def allowed(self, instance: T) -> list[str]:
        """The states ``instance`` may move to through ``transition/`` now."""
        if self.next_states is not None:
            return self.next_states(instance)
        return self.machine.allowed(getattr(instance, self.status_field))


@transaction.atomic
def transition(
    flow: Flow[T],
    *,
    actor: Actor,
    record: Any,
    to: str,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> T:
    """Move ``record`` to ``to`` through ``flow`` (see the module docstring for the steps)."""
    locked = flow.lock(actor, record)
    if flow.versioned and flow.version_first:
        check_version(locked, expected_version)
    before = getattr(locked, flow.status_field)
    move = flow.machine.move(before, to)
    allowed = flow.allowed(locked)
    if move is None or move.system or to not in allowed:
        raise InvalidTransition(before, to, allowed)
    step: Step[T] = Step(
        actor=actor,
        instance=locked,
        before=before,
        to=to,
        move=move,
        data=dict(data or {}),
        channel=channel,
        today=today or timezone.localdate(),
    )
    held = set(flow.parties(step))
    if not (held & move.by if move.by else held):
        raise flow.denied(step)
    for name in move.guards:
        if name in flow.who:
            flow.who[name](step)
    if flow.versioned and not flow.version_first:
        check_version(locked, expected_version)
    check_fields(flow, step)
    for name in move.guards:
        if name in flow.guards:
            flow.guards[name](step)
    return apply_move(flow, step)


def check_fields(flow: Flow[Any], step: Step[Any]) -> None:
    """Run the rule of every field the move requires (all at once or the first failing)."""
    errors: dict[str, list[ValidationError]] = {}
    for attr in step.move.requires:
        try:
            flow.fields[attr](step)
        except ValidationError as exc:
            if not flow.all_field_errors:
                raise
            for key, found in exc.update_error_dict({}).items():
                errors.setdefault(key, []).extend(found)
    if errors:
        raise ValidationError(errors)


def apply_move(flow: Flow[T], step: Step[T]) -> T:
    """Write a checked move (or a system move a service makes): status, the flow's changes,
    version, save, history row, change record, follow-ups and after-commit work."""
    instance = step.instance
    setattr(instance, flow.status_field, step.to)
    if flow.apply is not None:
        flow.apply(step)
    if flow.versioned:
        next_version(instance)
    instance.save()
    if flow.history is not None:
        flow.history(step)
    change_record(
        instance=instance,
        action=ChangeAction.TRANSITION,
        actor=step.actor,
        changes={flow.status_field: [step.before, step.to], **step.changes},
        channel=step.channel,
    )
    if flow.after is not None:
        flow.after(step)
    if flow.enqueue is not None:
        flow.enqueue(step)
    if flow.event:
        webhook_events.record(
            flow.event,
            instance.pk,
            district_id=getattr(instance, "district_id", None),
            program_id=getattr(instance, "program_id", None),
            **{"from": step.before, "to": step.to},
        )
    return instance


def system_step(
    flow: Flow[T],
    *,
    actor: Actor | None,
    instance: T,
    to: str,
    data: Mapping[str, Any] | None = None,
    channel: str = "api",
    today: date | None = None,
) -> Step[T]:
    """A step for a move a service makes itself (a ``system`` move, already checked by it)."""
    before = getattr(instance, flow.status_field)
    move = flow.machine.move(before, to)
    if move is None:
        raise InvalidTransition(before, to, flow.allowed(instance))
    return Step(
        actor=actor,
        instance=instance,
        before=before,
        to=to,
        move=move,
        data=dict(data or {}),
        channel=channel,
        today=today or timezone.localdate(),
    )
