"""``check_compliance [--today YYYY-MM-DD]``: run the nightly contract-compliance check now."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.tasks import check_compliance


class Command(BaseCommand):
    help = "Raise side-selling and overdue-delivery alerts now (idempotent; nightly in Celery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Check as of this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = options.get("today")
        if today:
            try:
                date.fromisoformat(today)
            except ValueError as exc:
                raise CommandError("--today must be a date, YYYY-MM-DD.") from exc
        result = check_compliance(today)
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in result.items()))
