"""Celery tasks of the kernel: the outbox relay and its pruning (beat, see settings)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="registry.tasks.relay_outbox", acks_late=True)
def relay_outbox() -> str:
    """Every minute (beat): send the outbox messages whose after-commit hand-off failed.

    Idempotent and safe to run concurrently (rows are locked with SKIP LOCKED)."""
    from .outbox import relay

    return str(relay())


@shared_task(name="registry.tasks.prune_outbox", acks_late=True)
def prune_outbox() -> int:
    """Daily (beat): delete outbox messages sent more than ``OUTBOX_RETENTION_DAYS`` ago."""
    from .outbox import prune

    return prune()
