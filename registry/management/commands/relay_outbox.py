"""``relay_outbox [--chunk N] [--max N] [--prune]``: send the pending outbox messages now.

The same work as the beat task ``registry.tasks.relay_outbox``, in this process: for cron when
no beat runs, or by hand after an outage. ``--prune`` also deletes messages sent more than
``OUTBOX_RETENTION_DAYS`` ago.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry import outbox


class Command(BaseCommand):
    help = "Send the pending outbox messages (after-commit publishes that failed), then report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=None, help="Rows per transaction.")
        parser.add_argument("--max", type=int, default=None, help="Stop after this many rows.")
        parser.add_argument("--prune", action="store_true", help="Also delete old sent messages.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = outbox.relay(chunk=options["chunk"], max_rows=options["max"])
        self.stdout.write(f"relayed: {result}")
        if options["prune"]:
            self.stdout.write(f"pruned: {outbox.prune()}")
        pending = outbox.backlog()
        age = pending.oldest_age_seconds()
        self.stdout.write(
            f"pending: {pending.pending}" + (f" (oldest {age} s)" if age is not None else "")
        )
