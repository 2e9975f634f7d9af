"""The management command of a one-record-per-row import (``farmers.importing.records``):
``import_installations`` here, ``import_memberships`` in markets. ``FILE --actor USERNAME
[--dry-run] [--report out.csv]``; exits with 1 when any row has errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.actors import Actor
from registry.exceptions import RegistryError

from .report import ImportReport

SHOWN_ERRORS = 50


class RecordImportCommand(BaseCommand):
    """Subclasses set ``noun`` (what a row is) and ``run(actor=..., source=..., filename=...,
    dry_run=...)`` (the import)."""

    noun = "records"
    run: Callable[..., ImportReport]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file to import.")
        parser.add_argument(
            "--actor",
            required=True,
            help="Username of the person importing: their memberships give the area.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, then roll everything back."
        )
        parser.add_argument("--report", help="Write the per-row report to this CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
        if user is None:
            raise CommandError(f"Unknown or inactive user: {options['actor']}")
        dry_run = options["dry_run"]
        try:
            with path.open("rb") as handle:
                report = type(self).run(
                    actor=Actor.for_user(user), source=handle, filename=path.name, dry_run=dry_run
                )
        except ValidationError as exc:
            raise CommandError(f"{path.name}: {' '.join(exc.messages)}") from exc
        except RegistryError as exc:
            raise CommandError(exc.detail) from exc
        errors = [(row.row, error) for row in report.rows for error in row.errors]
        for number, error in errors[:SHOWN_ERRORS]:
            where = f"row {number}" + (f", {error.column}" if error.column else "")
            self.stderr.write(f"{where}: {error.message} [{error.code}]")
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{'Dry run, nothing written. ' if dry_run else ''}{self.noun.capitalize()}: "
            f"{report.households_created:,} {verb}, "
            f"{report.households_already_imported:,} already imported, "
            f"{report.households_with_errors:,} with errors."
        )
        if options["report"]:
            with Path(options["report"]).open("w", encoding="utf-8-sig", newline="") as out:
                report.write_csv(out)
        if report.has_errors:
            raise CommandError(f"{report.rows_with_errors:,} rows have errors.")
