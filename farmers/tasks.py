"""Celery tasks of the farmers app: the transition engine's recomputes and nightly sweep."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="farmers.tasks.recompute_households", acks_late=True)
def recompute_households(household_ids: list[str]) -> int:
    """Recompute the stage of ``household_ids`` (queued after the commit of an evidence change).

    Idempotent: a household whose stage does not move writes nothing. Returns how many changed.
    """
    from .transition.engine import recompute_households as run

    return run(household_ids)
