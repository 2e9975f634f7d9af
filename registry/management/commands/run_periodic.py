"""``run_periodic [--only NAME ...] [--skip NAME ...] [--list]``: run the beat schedule's tasks
once, in-process.

The embedded default has no Celery beat: an operator (or cron) runs this instead. Every entry of
``settings.CELERY_BEAT_SCHEDULE`` is run by name, in the schedule's order (the nightly sweep
before the annual report's stored rows, which read the stages it computes); entries whose task
is not registered (an app not installed) are skipped and reported.
"""

from __future__ import annotations

import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run the periodic (beat) tasks once, in this process, and report which ran."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only", action="append", default=[], metavar="NAME", help="Schedule entry to run."
        )
        parser.add_argument(
            "--skip", action="append", default=[], metavar="NAME", help="Schedule entry to skip."
        )
        parser.add_argument(
            "--list", action="store_true", help="List the schedule entries and exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schedule: dict[str, dict[str, Any]] = dict(getattr(settings, "CELERY_BEAT_SCHEDULE", {}))
        unknown = sorted((set(options["only"]) | set(options["skip"])) - set(schedule))
        if unknown:
            raise CommandError(
                f"Unknown schedule entries: {', '.join(unknown)}. "
                f"Known: {', '.join(sorted(schedule))}."
            )
        names = [n for n in options["only"] or schedule if n not in options["skip"]]
        if options["list"]:
            for name in names:
                self.stdout.write(f"{name}: {schedule[name]['task']}")
            return
        current_app.loader.import_default_modules()
        for name in names:
            entry = schedule[name]
            task = current_app.tasks.get(entry["task"])
            if task is None:
                self.stdout.write(f"skipped {name}: task {entry['task']} is not registered")
                continue
            started = time.perf_counter()
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            if result.failed():
                raise CommandError(f"{name} failed: {result.result!r}")
            elapsed = time.perf_counter() - started
            self.stdout.write(f"ran {name} ({entry['task']}) in {elapsed:.1f} s: {result.result}")
