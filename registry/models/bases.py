"""The kernel's abstract record bases: timestamps, versions with ``touch()``, idempotent creates and
the one actor pair (``created_by`` / ``created_by_key``); and the factories of the foreign keys
every app repeats (a denormalised district or programme, a "who did it" pair, an optional link)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    """Adds creation and last-change times."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedQuerySet(models.QuerySet[Any]):
    """Rows of a versioned model: ``touch(**values)`` is ``touch()`` for many rows at once."""

    def touch(self, **values: Any) -> int:
        """Update ``values`` on every row as a new version of it, stamped now."""
        return self.update(version=F("version") + 1, updated_at=timezone.now(), **values)


class VersionedModel(TimestampedModel):
    """A record that partners and staff edit concurrently.

    ``version`` is its optimistic-concurrency counter (the number in its ETag and the one a
    write holds with ``If-Match``). Every change is written through ``touch()``, so that no
    change escapes a new version.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = VersionedQuerySet.as_manager()

    class Meta:
        abstract = True

    def touch(self, *fields: str) -> None:
        """Save ``fields`` as a new version of the record, stamped now (``updated_at``)."""
        next_version(self)
        self.save(update_fields=list(dict.fromkeys([*fields, "version", "updated_at"])))


def next_version(record: Any) -> None:
    """Move a versioned record to its next version, stamped now, for a caller that saves the
    whole row itself (the admin's form, a workflow move); ``touch()`` for everyone else."""
    record.version += 1
    record.updated_at = timezone.now()


class IdempotentModel(models.Model):
    """A record created with a client-chosen ``id``: ``request_hash`` tells a retry of its
    create (same payload) from another use of the ``id`` (``registry.idempotency``)."""

    request_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True


def reference(to: Any, verbose_name: Any, **options: Any) -> models.ForeignKey[Any, Any]:
    """A foreign key that protects its target, with no reverse accessor (``related_name="+"``)."""
    return models.ForeignKey(
        to, on_delete=models.PROTECT, related_name="+", verbose_name=verbose_name, **options
    )


def optional_reference(to: Any, verbose_name: Any, **options: Any) -> models.ForeignKey[Any, Any]:
    """``reference()`` that may be empty (``null`` and ``blank``)."""
    return reference(to, verbose_name, null=True, blank=True, **options)


def by_column(verbose_name: Any) -> models.ForeignKey[Any, Any]:
    """The person half of a ``<verb>_by`` / ``<verb>_by_key`` pair (empty until the act)."""
    return optional_reference(settings.AUTH_USER_MODEL, verbose_name)


def by_key_column(verbose_name: Any) -> models.ForeignKey[Any, Any]:
    """The API-key half of a ``<verb>_by`` / ``<verb>_by_key`` pair (empty until the act)."""
    return optional_reference("registry.ApiKey", verbose_name)


def district_column(**options: Any) -> models.ForeignKey[Any, Any]:
    """A record's district, denormalised from its household for scoping and indicators without
    joins (pass ``db_index=False`` where a composite index leads with it)."""
    return reference("registry.District", _("district"), **options)


def program_column(**options: Any) -> models.ForeignKey[Any, Any]:
    """A record's programme, denormalised like ``district_column()``."""
    return reference("registry.Program", _("programme"), **options)


class CreatedByModel(models.Model):
    """Who made the record: the one actor pair of the registry.

    Every pair of "who did it" columns is spelled ``<verb>_by`` (a person) and
    ``<verb>_by_key`` (a partner's API key); the pair that says who created a record is
    ``created_by`` / ``created_by_key``. ``registry.actors.Actor.stamp()`` fills it.
    """

    created_by = by_column(_("created by"))
    created_by_key = by_key_column(_("created by (API key)"))

    class Meta:
        abstract = True
