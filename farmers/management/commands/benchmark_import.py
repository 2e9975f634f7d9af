"""``benchmark_import [--households 50000]``: the household import job at scale, on a copy of a
seeded benchmark database (never on one you keep: it writes).

Generates a file of N households (3–5 members each, ≈4 N rows; names, districts and birth dates
drawn like the seeder's, so the blocking keys meet the existing households'), then times, in one
run: the check (validation and dedup against every household already registered), the import
(chunks written by COPY), a plain ``bulk_create`` of the same households and members (rolled
back) for the ratio, and the same file imported again (must create nothing). Prints the peak
RSS: the file is read in chunks, so memory stays flat whatever N.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from farmers.importing.columns import SPANISH_HEADERS
from farmers.models import Household, ImportJob, Member
from farmers.names import COMMUNITIES, GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from farmers.services import imports
from registry.actors import Actor
from registry.geography import VRAEM_DISTRICTS
from registry.models import JobStatus, Program

DNI_BASE = 60_000_000  # above the seeder's range (50,000,000 + 5 per household)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> tuple[float, float | None]:
    """CPU seconds used so far by this process and by its PostgreSQL backend (read from
    ``/proc`` when the database runs on this machine; ``None`` otherwise): on a shared machine
    the wall time depends on the load, the CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    backend: float | None = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            backend = None
    return usage.ru_utime + usage.ru_stime, backend


def _cpu_since(before: tuple[float, float | None]) -> str:
    python, backend = _cpu()
    text = f"CPU: Python {python - before[0]:.1f} s"
    if backend is not None and before[1] is not None:
        text += f", PostgreSQL {backend - before[1]:.1f} s"
    return text


def write_file(
    path: Path,
    households: int,
    program: str,
    seed: int = 7,
    dni_base: int = DNI_BASE,
    prefix: str = "B",
) -> int:
    """Write the benchmark file (Spanish headers, one row per member); returns its rows."""
    rng = random.Random(seed)
    districts = sorted(VRAEM_DISTRICTS)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(SPANISH_HEADERS.values()))
        for n in range(households):
            district = districts[n % len(districts)]
            surname_a, surname_b, surname_c = rng.sample(SURNAMES, 3)
            head_female = rng.random() < 0.55
            size = rng.choice([3, 4, 4, 5])
            signed = date(2025, rng.randint(1, 10), rng.randint(1, 28))
            for index in range(size):
                if index == 0:
                    sex = "Femenino" if head_female else "Masculino"
                    given = rng.choice(GIVEN_FEMALE if head_female else GIVEN_MALE)
                    surnames, relationship = f"{surname_a} {surname_b}", "Jefe o jefa de hogar"
                    birth = date(rng.randint(1955, 1998), rng.randint(1, 12), rng.randint(1, 28))
                elif index == 1:
                    sex = "Masculino" if head_female else "Femenino"
                    given = rng.choice(GIVEN_MALE if head_female else GIVEN_FEMALE)
                    surnames, relationship = (
                        f"{surname_c} {rng.choice(SURNAMES)}",
                        "Cónyuge o conviviente",
                    )
                    birth = date(rng.randint(1955, 1998), rng.randint(1, 12), rng.randint(1, 28))
                else:
                    female = rng.random() < 0.5
                    sex = "Femenino" if female else "Masculino"
                    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
                    surnames, relationship = f"{surname_a} {surname_c}", "Hijo o hija"
                    birth = date(rng.randint(1999, 2020), rng.randint(1, 12), rng.randint(1, 28))
                adult = birth.year < 2008
                writer.writerow(
                    [
                        f"{prefix}-{n:06d}",
                        program,
                        district,
                        rng.choice(COMMUNITIES) if index == 0 else "",
                        given,
                        surnames,
                        "DNI" if adult else "",
                        f"{dni_base + n * 5 + index}" if adult else "",
                        sex,
                        birth.strftime("%d/%m/%Y"),
                        relationship,
                        f"9{rng.randint(10_000_000, 99_999_999)}" if index == 0 else "",
                        signed.strftime("%d/%m/%Y") if index == 0 else "",
                        "Padrón del programa; Compartir con entidades aliadas"
                        if index == 0
                        else "",
                        "",
                    ]
                )
                rows += 1
    return rows


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=50_000)
        parser.add_argument("--program", default="bench")
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument("--file", help="Keep the generated file here.")
        parser.add_argument(
            "--run", type=int, default=0, help="Run number: another file (refs and IDs) each."
        )
        parser.add_argument(
            "--scan-chunks",
            type=int,
            default=5,
            help="Chunks of 2,000 imported households whose near-match task is timed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"No programme {options['program']}: seed the database first.")
        user, _created = get_user_model().objects.get_or_create(
            username="benchmark-import", defaults={"is_staff": True, "is_superuser": True}
        )
        actor = Actor.for_user(user)
        existing = Household.objects.count()
        chunk = options["chunk_size"]
        say = self.stdout.write
        say(f"database: {connection.vendor}, {existing:,} households already registered")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(options["file"] or Path(folder) / "hogares.csv")
            started = time.perf_counter()
            run = options["run"]
            rows = write_file(
                path,
                options["households"],
                program.code,
                seed=7 + run,
                dni_base=DNI_BASE + run * 500_000,
                prefix=f"B{run}",
            )
            say(
                f"generated {options['households']:,} households, {rows:,} rows "
                f"({path.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - started:.1f} s"
            )

            check_steps: dict[str, float] = {}
            cpu = _cpu()
            job, check_s = self._timed(lambda: self._check(actor, path, chunk, check_steps))
            summary = job.summary
            say(
                f"check:   {check_s:6.1f} s  {summary['rows'] / check_s:8,.0f} rows/s  "
                f"new {summary['new']:,}, already {summary['already_imported']:,}, "
                f"errors {summary['with_errors']:,} (peak RSS {_peak_mb():.0f} MB)"
            )
            if summary["with_errors"]:
                first = job.issues.first()
                raise CommandError(f"the generated file has errors: {first}")
            say(f"  check steps: {self._steps(check_steps)}; {_cpu_since(cpu)}")
            import_steps: dict[str, float] = {}
            cpu = _cpu()
            job, import_s = self._timed(lambda: self._import(actor, job, chunk, import_steps))
            created = job.summary["created"]
            say(
                f"import:  {import_s:6.1f} s  {rows / import_s:8,.0f} rows/s  "
                f"created {created:,} households (peak RSS {_peak_mb():.0f} MB)"
            )
            say(f"  import steps: {self._steps(import_steps)}; {_cpu_since(cpu)}")
            total = check_s + import_s
            say(
                f"check + import: {total:.1f} s for {created:,} households / {rows:,} rows "
                f"({created / total:,.0f} households/s)"
            )
            scan_s, pairs, scanned = self._scan_duplicates(job, options["scan_chunks"])
            if scanned:
                say(
                    f"near-match scan (the task run after each chunk commits, outside the "
                    f"import's time): {scan_s:.1f} s for {scanned:,} households, {pairs:,} pairs "
                    f"queued ({scanned / scan_s:,.0f} households/s)"
                )
            bulk_s = self._plain_bulk_create(program, options["households"], rows)
            say(f"plain bulk_create of the same households and members: {bulk_s:.1f} s")
            say(
                f"ratio bulk_create / (check + import): {bulk_s / total:.2f}; "
                f"bulk_create / import: {bulk_s / import_s:.2f}"
            )
            again, again_s = self._timed(lambda: self._check(actor, path, chunk))
            again, again_import_s = self._timed(lambda: self._import(actor, again, chunk))
            say(
                f"same file again: {again_s + again_import_s:.1f} s, "
                f"new {again.summary['new']:,}, already imported "
                f"{again.summary['already_imported']:,}, created {again.summary['created']:,}"
            )
            say(f"peak RSS: {_peak_mb():.0f} MB")
            if again.summary["created"]:
                raise CommandError("the second import created households")

    @staticmethod
    def _scan_duplicates(job: ImportJob, chunks: int) -> tuple[float, int, int]:
        """Run the near-match task on ``chunks`` chunks of the job's households (as the outbox
        hands them to a worker), timed."""
        from farmers.importing.pipeline import find_possible_duplicates

        ids = list(
            Household.objects.filter(created_at__gte=job.confirmed_at)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[: chunks * 2000]
        )
        started = time.perf_counter()
        pairs = 0
        for start in range(0, len(ids), 2000):
            pairs += find_possible_duplicates(ids[start : start + 2000])
        return time.perf_counter() - started, pairs, len(ids)

    @staticmethod
    def _steps(steps: dict[str, float]) -> str:
        """The seconds per step, largest first (``commit`` holds the steps inside the
        chunk's transaction and the commit itself)."""
        ordered = sorted(steps.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {seconds:.1f}" for name, seconds in ordered)

    @staticmethod
    def _timed(run: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        result = run()
        return result, time.perf_counter() - started

    def _check(
        self, actor: Actor, path: Path, chunk: int | None, steps: dict[str, float] | None = None
    ) -> ImportJob:
        with path.open("rb") as handle:
            from django.core.files import File

            job = imports.import_job_create(
                actor=actor, upload=File(handle), filename=path.name, queue=False
            )
        imports.import_job_run(job.pk, chunk_size=chunk, timings=steps)
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"check {job.status}: {job.error}")
        return job

    def _import(
        self, actor: Actor, job: ImportJob, chunk: int | None, steps: dict[str, float] | None = None
    ) -> ImportJob:
        imports.import_job_confirm(actor=actor, job=job, queue=False)
        imports.import_job_run(job.pk, chunk_size=chunk, timings=steps)
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"import {job.status}: {job.error}")
        return job

    def _plain_bulk_create(self, program: Program, households: int, rows: int) -> float:
        """``bulk_create`` of as many households and members (same columns, values made up in
        Python, no checks), in a transaction rolled back afterwards."""
        districts = sorted(VRAEM_DISTRICTS)
        per = rows / households
        started = time.perf_counter()
        with transaction.atomic():
            made = [
                Household(
                    program=program,
                    district_id=districts[n % len(districts)],
                    code=f"BK-{n:09d}",
                    head_name="Juana Quispe",
                    head_name_search="quispe juana",
                    import_ref=f"bulk-{n}",
                )
                for n in range(households)
            ]
            Household.objects.bulk_create(made, batch_size=2000)
            members: list[Member] = []
            done = 0
            for n, household in enumerate(made):
                count = int((n + 1) * per) - done
                done += count
                members.extend(
                    Member(
                        household=household,
                        given_names="Juana",
                        surnames="Quispe Huamán",
                        document_type="dni" if i < 2 else "",
                        document_number=f"{80_000_000 + n * 5 + i}" if i < 2 else "",
                        sex="f",
                        birth_date=date(1980, 1, 1),
                        relationship="head" if i == 0 else "child",
                        phone="+51987654321" if i == 0 else "",
                        is_head=i == 0,
                    )
                    for i in range(count)
                )
                if len(members) >= 20_000:
                    Member.objects.bulk_create(members, batch_size=2000)
                    members = []
            Member.objects.bulk_create(members, batch_size=2000)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed
