"""``import_households FILE --actor USERNAME [--dry-run] [--report out.csv|out.xlsx]``: households
with their members from a CSV or XLSX file (one row per member; see ``farmers.importing``), run
as the same import job as the admin's upload page and the API (``farmers.services.imports``),
here in this process: the check, then (without ``--dry-run``) the import in chunks.
``--resume JOB_ID`` continues an import that stopped midway. ``--template out.xlsx|out.csv``
writes the template to fill."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers import importing
from farmers.importing.errors import error_workbook
from farmers.models import ImportJob
from farmers.services import imports
from registry.actors import Actor
from registry.exceptions import RegistryError
from registry.models import JobStatus

SHOWN_ERRORS = 50
REPORT_HEADER = ("row", "household_ref", "column", "code", "message")


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Import households with their members from a CSV or XLSX file (one row per member, "
        "a household's rows together). Re-running a file is safe: households already imported "
        "are reported, not duplicated. --dry-run checks every row without writing. Exits with 1 "
        "when any row has errors. --template OUT writes a template (.xlsx or .csv) instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="CSV or XLSX file to import.")
        parser.add_argument(
            "--actor",
            help="Username of the person importing: their memberships give the area "
            "(superusers: everywhere).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, write nothing."
        )
        parser.add_argument(
            "--report",
            help="Write the rows' errors to this file (.csv, or .xlsx beside the cells).",
        )
        parser.add_argument(
            "--template", metavar="OUT", help="Write the import template (.xlsx or .csv) to OUT."
        )
        parser.add_argument(
            "--resume", metavar="JOB_ID", help="Continue an import job that stopped midway."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            metavar="N",
            help="Households per chunk (one transaction each; default IMPORT_CHUNK_HOUSEHOLDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["template"]:
            if options["file"]:
                raise CommandError("Give either a FILE to import or --template OUT, not both.")
            self._write_template(Path(options["template"]))
            return
        if not options["file"] and not options["resume"]:
            raise CommandError("Give the FILE to import (or --template OUT for a template).")
        if not options["actor"]:
            raise CommandError("Give --actor USERNAME: the person the import is made for.")
        if options["chunk_size"] is not None and options["chunk_size"] <= 0:
            raise CommandError("--chunk-size must be positive.")
        report_path = Path(options["report"]) if options["report"] else None
        if report_path is not None and not report_path.parent.is_dir():
            raise CommandError(f"The report's folder does not exist: {report_path.parent}")
        actor = self._actor(options["actor"])
        self.started = time.perf_counter()
        chunk_size = options["chunk_size"]
        try:
            if options["resume"]:
                job = self._resume(actor, options["resume"], chunk_size)
            else:
                job = self._check(actor, Path(options["file"]), chunk_size)
                if not options["dry_run"] and job.status == JobStatus.SUCCEEDED:
                    imports.import_job_confirm(actor=actor, job=job, queue=False)
                    job = self._run(job, chunk_size)
        except ValidationError as exc:
            raise CommandError(f"{options['file'] or ''}: {_messages(exc)}") from exc
        except RegistryError as exc:
            raise CommandError(exc.detail) from exc
        self._summary(job)
        if report_path is not None:
            self._write_report(job, report_path)
        errors = job.issues.count()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"The import job {job.pk} ended {job.status}: {job.error}")
        if errors:
            rows = job.issues.values("row").distinct().count()
            raise CommandError(
                f"{rows:,} rows have errors"
                + (
                    ": fix them before importing."
                    if options["dry_run"]
                    else " and were not imported."
                )
            )

    def _progress(self, job: ImportJob) -> None:
        rate = job.done / max(time.perf_counter() - self.started, 1e-9)
        self.stdout.write(
            f"{job.phase_label}: {job.done:>9,} / {job.total:,} rows  ({rate:,.0f}/s)"
        )

    def _run(self, job: ImportJob, chunk_size: int | None) -> ImportJob:
        imports.import_job_run(job.pk, chunk_size=chunk_size, progress=self._progress)
        job.refresh_from_db()
        return job

    def _check(self, actor: Actor, path: Path, chunk_size: int | None) -> ImportJob:
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            job = imports.import_job_create(
                actor=actor, upload=File(handle), filename=path.name, queue=False
            )
        self.stdout.write(f"Import job {job.pk}.")
        return self._run(job, chunk_size)

    def _resume(self, actor: Actor, job_id: str, chunk_size: int | None) -> ImportJob:
        job = imports.import_job_list(actor=actor).filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No import job {job_id} of yours.")
        if job.status == JobStatus.FAILED:
            imports.import_job_resume(actor=actor, job=job, queue=False)
        return self._run(job, chunk_size)

    def _summary(self, job: ImportJob) -> None:
        summary = job.summary or {}
        imported = summary.get("imported") or {}
        if summary.get("ignored_columns"):
            self.stdout.write(f"Ignored columns: {', '.join(summary['ignored_columns'])}")
        shown = job.issues.exclude(code="household_not_imported")[:SHOWN_ERRORS]
        for issue in shown:
            where = f"row {issue.row}" + (f", {issue.column}" if issue.column else "")
            self.stderr.write(f"{where}: {issue.message} [{issue.code}]")
        elapsed = time.perf_counter() - self.started
        if job.phase == "import":
            self.stdout.write(
                f"Households: {summary.get('created', 0):,} created, "
                f"{imported.get('already_imported', 0):,} already imported, "
                f"{imported.get('with_errors', 0):,} with errors "
                f"({imported.get('rows', 0):,} rows, {imported.get('rows_with_errors', 0):,} "
                f"with errors) in {elapsed:.1f} s."
            )
        else:
            self.stdout.write(
                f"Dry run, nothing written. Households: {summary.get('new', 0):,} would be "
                f"created, {summary.get('already_imported', 0):,} already imported, "
                f"{summary.get('with_errors', 0):,} with errors ({summary.get('rows', 0):,} rows, "
                f"{summary.get('rows_with_errors', 0):,} with errors) in {elapsed:.1f} s."
            )

    def _write_report(self, job: ImportJob, out: Path) -> None:
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(error_workbook(job))
        else:
            with out.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(REPORT_HEADER)
                for issue in job.issues.order_by("row", "id").iterator(chunk_size=2000):
                    writer.writerow(
                        [issue.row, issue.household_ref, issue.column, issue.code, issue.message]
                    )
        self.stdout.write(f"Report written to {out}.")

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
