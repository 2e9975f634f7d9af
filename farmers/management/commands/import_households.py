"""``import_households FILE --actor USERNAME [--dry-run] [--report out.csv]``: households with
their members from a CSV or XLSX file (one row per member; see ``farmers.importing``).
``import_households --template out.xlsx|out.csv`` writes the template to fill."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers import importing
from registry.actors import Actor
from registry.exceptions import RegistryError

SHOWN_ERRORS = 50


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Import households with their members from a CSV or XLSX file (one row per member, "
        "grouped by household_ref). Re-running a file is safe: households already imported are "
        "reported, not duplicated. --dry-run checks every row without writing. Exits with 1 when "
        "any row has errors. --template OUT writes a template (.xlsx or .csv) instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="CSV or XLSX file to import.")
        parser.add_argument(
            "--actor",
            help="Username of the person importing: their memberships give the area "
            "(superusers: everywhere).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, then roll everything back."
        )
        parser.add_argument("--report", help="Write the per-row report to this CSV file.")
        parser.add_argument(
            "--template", metavar="OUT", help="Write the import template (.xlsx or .csv) to OUT."
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=importing.PROGRESS_EVERY,
            metavar="N",
            help="Print a progress line every N households.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["template"]:
            if options["file"]:
                raise CommandError("Give either a FILE to import or --template OUT, not both.")
            self._write_template(Path(options["template"]))
            return
        if not options["file"]:
            raise CommandError("Give the FILE to import (or --template OUT for a template).")
        if not options["actor"]:
            raise CommandError("Give --actor USERNAME: the person the import is made for.")
        if options["progress_every"] <= 0:
            raise CommandError("--progress-every must be positive.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        report_path = Path(options["report"]) if options["report"] else None
        if report_path is not None and not report_path.parent.is_dir():
            raise CommandError(f"The report's folder does not exist: {report_path.parent}")
        actor = self._actor(options["actor"])
        dry_run = options["dry_run"]
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"{done:>7,} / {total:,} households  ({rate:,.0f}/s)")

        try:
            with path.open("rb") as handle:
                report = importing.import_households(
                    actor=actor,
                    source=handle,
                    filename=path.name,
                    dry_run=dry_run,
                    progress=progress,
                    progress_every=options["progress_every"],
                )
        except ValidationError as exc:
            raise CommandError(f"{path.name}: {_messages(exc)}") from exc
        except RegistryError as exc:
            raise CommandError(exc.detail) from exc

        if report.ignored_columns:
            self.stdout.write(f"Ignored columns: {', '.join(report.ignored_columns)}")
        errors = [
            (row.row, error)
            for row in report.rows
            for error in row.errors
            if error.code != "household_not_imported"
        ]
        for number, error in errors[:SHOWN_ERRORS]:
            where = f"row {number}" + (f", {error.column}" if error.column else "")
            self.stderr.write(f"{where}: {error.message} [{error.code}]")
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(
                f"... and {len(errors) - SHOWN_ERRORS:,} more errors (see --report FILE)."
            )
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{'Dry run, nothing written. ' if dry_run else ''}"
            f"Households: {report.households_created:,} {verb}, "
            f"{report.households_already_imported:,} already imported, "
            f"{report.households_with_errors:,} with errors "
            f"({len(report.rows):,} rows, {report.rows_with_errors:,} with errors) "
            f"in {time.perf_counter() - started:.1f} s."
        )
        if report_path is not None:
            with report_path.open("w", encoding="utf-8-sig", newline="") as out:
                report.write_csv(out)
            self.stdout.write(f"Report written to {report_path}.")
        if report.has_errors:
            raise CommandError(
                f"{report.rows_with_errors:,} rows have errors"
                + (": fix them before importing." if dry_run else " and were not imported.")
            )

    def _actor(self, username: str) -> Actor:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Unknown user: {username}")
        if not user.is_active:
            raise CommandError(f"The user {username} is inactive.")
        return Actor.for_user(user)

    def _write_template(self, out: Path) -> None:
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in importing.TEMPLATE_FORMATS:
            raise CommandError("The template is written as .xlsx or .csv: name OUT accordingly.")
        if not out.parent.is_dir():
            raise CommandError(f"The folder does not exist: {out.parent}")
        out.write_bytes(importing.template_bytes(fmt))
        self.stdout.write(f"Template written to {out}.")
