"""``seed_demo``: idempotent demo data for the embedded default; prints logins and a demo key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from registry.devtools.demo import seed_demo


class Command(BaseCommand):
    help = "Create or refresh demo data (idempotent). Prints the admin login and a demo API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (never in production)."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo only runs with DEBUG on (use --force to override).")
        seed_demo(self.stdout.write, self.style.SUCCESS)
