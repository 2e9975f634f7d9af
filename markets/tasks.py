"""Celery tasks of the markets app."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone


@shared_task(name="markets.tasks.check_compliance", acks_late=True)
def check_compliance(today: str | None = None) -> dict[str, Any]:
    """Nightly: raise side-selling and overdue-delivery alerts for active contracts and resolve
    those that no longer hold. Idempotent: a rerun creates no duplicate alerts."""
    from datetime import date

    from .compliance import compliance_check

    day = date.fromisoformat(today) if today else timezone.localdate()
    report = compliance_check(today=day)
    return {
        "contracts": report.contracts,
        "side_selling": report.side_selling,
        "delivery_overdue": report.overdue,
        "price_below_contract": report.price_below_contract,
        "raised": report.raised,
        "resolved": report.resolved,
    }
