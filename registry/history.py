"""Record history: every write through a service leaves a ``ChangeRecord`` in its transaction."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .actors import Actor
from .choices import ChangeAction
from .crypto import mask
from .models import ChangeRecord

# Identifiers encrypted at rest (registry.crypto) are masked wherever a change record names
# them, at any depth ({"members": {"changed": {id: {"phone": [old, new]}}}}): history is read
# by many staff and kept for years, and must not hold in clear what the table does not.
MASKED_FIELDS = frozenset({"document_number", "phone"})


def mask_personal(value: Any) -> Any:
    """``value`` (a change record's JSON) with every identifier under a masked key masked."""
    if isinstance(value, dict):
        return {
            key: _mask_leaf(item) if key in MASKED_FIELDS else mask_personal(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_personal(item) for item in value]
    return value


def _mask_leaf(value: Any) -> Any:
    if isinstance(value, list):
        return [_mask_leaf(item) for item in value]
    if isinstance(value, dict):
        return mask_personal(value)
    return mask(value)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_plain(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance``, for a later diff."""
    names = fields or [
        f.attname for f in instance._meta.concrete_fields if f.name not in {"updated_at"}
    ]
    return {name: _plain(getattr(instance, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def change_record(
    *,
    instance: models.Model,
    action: str,
    actor: Actor | None,
    changes: dict[str, Any] | None = None,
    channel: str = "system",
) -> ChangeRecord:
    """Write one history entry for ``instance`` (call inside the service's transaction)."""
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        changes=mask_personal(changes or {}),
        **(actor.stamp() if actor is not None else {}),
        channel=channel,
    )


def record_update(
    instance: models.Model, changes: dict[str, Any], *, actor: Actor | None, channel: str = "system"
) -> ChangeRecord:
    """Write the history entry of an update of ``instance`` (``changes`` as ``diff`` gives them)."""
    return change_record(
        instance=instance, action=ChangeAction.UPDATE, actor=actor, changes=changes, channel=channel
    )


__all__ = [
    "ChangeAction",
    "access_log_record",
    "access_log_start",
    "change_record",
    "diff",
    "mask_personal",
    "record_update",
    "snapshot",
]


def _access_log_values(
    *, actor: Actor, resource: str, object_ids: list[str], fields: list[str], path: str
) -> dict[str, Any]:
    return {
        "created_by_id": actor.user.pk if actor.user is not None else None,
        "created_by_key_id": actor.api_key.pk if actor.api_key is not None else None,
        "organization_id": actor.organization.pk if actor.organization is not None else None,
        "at": timezone.now(),
        "resource": resource,
        "object_ids": object_ids,
        "fields": fields,
        "path": path[:300],
    }


def access_log_record(
    *, actor: Actor, resource: str, object_ids: list[str], fields: list[str], path: str = ""
) -> None:
    """Log a read of sensitive fields (one row per request, listing the records read)."""
    from .models import AccessLog

    if not object_ids:
        return
    values = _access_log_values(
        actor=actor, resource=resource, object_ids=object_ids, fields=fields, path=path
    )
    AccessLog.objects.create(**values)


def access_log_start(
    *, actor: Actor, resource: str, object_ids: list[str], fields: list[str], path: str = ""
) -> Callable[[], None]:
    """``access_log_record``, its commit overlapping the rest of the response: the row is
    written on the access-log writer's own connection (``registry.accesslog_writer``) while
    the request goes on; call the returned function before the response leaves (it waits for
    the commit and raises if the row could not be written). Inside a transaction, or where the
    writer is off (SQLite, ``ACCESS_LOG_WRITER``), the row is written now, in the request's
    own connection and transaction, and the function returns at once."""
    from . import accesslog_writer

    if not object_ids:
        return _written
    values = _access_log_values(
        actor=actor, resource=resource, object_ids=object_ids, fields=fields, path=path
    )
    return accesslog_writer.start(values)


def _written() -> None:
    """Nothing to wait for."""
