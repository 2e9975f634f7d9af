"""``export_iati --program CODE --year YYYY [--out FILE]``: write a programme's year as an IATI
2.03 ``iati-activities`` file (the same file as ``GET /api/v1/reports/iati/``; body in
``farmers.reporting.iati``). Without ``--out`` (or with ``-``) the XML goes to standard output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from farmers.reporting.iati import iati_activities
from registry.exceptions import RegistryError
from registry.models import Program


class Command(BaseCommand):
    help = "Write a programme's year as an IATI 2.03 iati-activities file (aggregates only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="Programme code.")
        parser.add_argument("--year", type=int, required=True, help="Calendar year reported.")
        parser.add_argument("--out", default="-", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"Unknown programme code: {options['program']}")
        year = options["year"]
        if not 1990 <= year <= timezone.localdate().year:
            raise CommandError(f"The year must lie between 1990 and this year: {year}")
        try:
            xml = iati_activities(program=program, year=year)
        except RegistryError as error:
            raise CommandError(error.detail) from error
        if options["out"] == "-":
            self.stdout.write(xml.decode("utf-8"), ending="")
            return
        Path(options["out"]).write_bytes(xml)
        self.stdout.write(f"{options['out']}: IATI file of {program.code} for {year}")
