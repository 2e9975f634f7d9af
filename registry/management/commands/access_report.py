"""``access_report --from … --to … [--organization CODE] [--output FILE]``: who read what.

Every logged read of personal or coca data in the period, as CSV (``registry.access_report``):
for a breach notice, or an audit of one partner.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from registry.access_report import access_rows, write_csv


def _moment(text: str, *, end: bool) -> datetime:
    """An ISO date (the whole day) or date-time, in Lima time unless it says otherwise."""
    day = parse_date(text) if len(text) == 10 else None  # a plain date means the whole day
    moment = datetime.combine(day, time.max if end else time.min) if day else parse_datetime(text)
    if moment is None:
        raise CommandError(f"Not a date or date-time: {text!r} (use YYYY-MM-DD[THH:MM]).")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "List every logged read of personal or coca data in a period (CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD[THH:MM]")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD[THH:MM]")
        parser.add_argument("--organization", default=None, help="Organization code.")
        parser.add_argument("--output", default=None, help="File (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        start = _moment(options["start"], end=False)
        end = _moment(options["end"], end=True)
        if end <= start:
            raise CommandError("--to must come after --from.")
        lines = access_rows(start=start, end=end, organization=options["organization"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                n = write_csv(lines, out)
        else:
            self.stdout.ending = ""  # the CSV writer ends its own lines
            n = write_csv(lines, self.stdout)
        self.stderr.write(f"{n} reads from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
