"""Celery tasks of the titles app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="titles.tasks.raise_overdue_alerts", acks_late=True)
def raise_overdue_alerts() -> dict[str, int]:
    """Daily: alert on title files past (or approaching) their SLA target; resolve the alerts of
    files back on time. Idempotent: reruns create no duplicate alerts."""
    from .services import title_alerts_sync  # (re-exported from titles.sla)

    return title_alerts_sync()
