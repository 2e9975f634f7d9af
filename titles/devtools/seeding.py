"""Bulk generation of title files for benchmarks (``seed_titles --count N``).

Set-based and chunked like ``farmers.devtools.seeding``: files for the plots of seeded households
(``seed_households``), spread over the workflow's states, with their SLA clock computed the way
the services compute it, written with PostgreSQL ``COPY`` (``bulk_create`` elsewhere). Rows
bypass the services on purpose: they are synthetic and valid by construction.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from farmers.models import Plot
from registry.bulk import copy_rows as _copy_rows
from registry.choices import OrganizationKind
from registry.dates import add_months
from registry.models import Organization, Program
from registry.services import organization_upsert

from ..choices import OPEN_STATUSES, Procedure, RejectionReason, TitleStatus
from ..clock import notice_window, recompute_clock, settings_for
from ..models import TitleApplication, TitleSettings
from ..workdays import working_days_between

S = TitleStatus
STATUS_WEIGHTS = [
    (S.DRAFT, 12),
    (S.SUBMITTED, 18),
    (S.SURVEYED, 8),
    (S.LEGAL_REVIEW, 10),
    (S.PUBLIC_NOTICE, 5),
    (S.OBJECTED, 2),
    (S.TITLE_ISSUED, 5),
    (S.SENT_TO_SUNARP, 6),
    (S.SUNARP_OBSERVED, 2),
    (S.OBSERVED, 6),
    (S.REGISTERED, 18),
    (S.REJECTED, 5),
    (S.WITHDRAWN, 3),
]
FIELDS = [
    "id",
    "household",
    "plot",
    "authority",
    "district",
    "program",
    "status",
    "status_since",
    "observed_from",
    "submitted_on",
    "notice_starts_on",
    "notice_ends_on",
    "registered_on",
    "closed_on",
    "partida_number",
    "rejection_reason",
    "clock_started_on",
    "warn_on",
    "due_on",
    "file_due_on",
    "authority_days",
    "request_hash",
    "version",
    "created_at",
    "updated_at",
    "note",
    "registry_zone",
    "programme_days",
    "family_days",
    "sunarp_days",
    "procedure",
    "possession_started_on",
]


def _row(
    rng: random.Random,
    cfg: TitleSettings,
    household_id: Any,
    plot_id: Any,
    district_id: str,
    program_id: int,
    authority_id: int,
    today: date,
) -> tuple[Any, ...]:
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    status = rng.choices(statuses, weights)[0]
    submitted = today - timedelta(days=rng.randint(5, 500))
    since = min(today, submitted + timedelta(days=rng.randint(0, 120)))
    app = TitleApplication(
        status=status,
        status_since=since,
        clock_started_on=since,
        submitted_on=None if status == S.DRAFT else submitted,
        file_due_on=None if status == S.DRAFT else add_months(submitted, cfg.file_months),
    )
    if status == S.OBSERVED:
        app.observed_from = rng.choice([S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW])
    if status in (S.PUBLIC_NOTICE, S.OBJECTED):
        app.notice_starts_on, app.notice_ends_on = notice_window(since, cfg.public_notice_days)
    if status == S.REGISTERED:
        app.registered_on = since
        app.partida_number = f"{rng.randint(10_000_000, 99_999_999)}"
    if status in (S.REJECTED, S.WITHDRAWN):
        app.closed_on = since
    if status == S.REJECTED:
        app.rejection_reason = rng.choice(RejectionReason.values)
    if status in OPEN_STATUSES:
        recompute_clock(app, cfg)
    created = timezone.make_aware(datetime.combine(submitted - timedelta(days=3), time.min))
    # Possession old enough for either procedure (and begun before the adjudication cut-off).
    procedure = rng.choice(Procedure.values)
    possession = date(rng.randint(1995, 2015), rng.randint(1, 12), 1)
    return (
        uuid.UUID(int=rng.getrandbits(128), version=4),
        household_id,
        plot_id,
        authority_id,
        district_id,
        program_id,
        status,
        since,
        app.observed_from,
        app.submitted_on,
        app.notice_starts_on,
        app.notice_ends_on,
        app.registered_on,
        app.closed_on,
        app.partida_number,
        app.rejection_reason,
        app.clock_started_on,
        app.warn_on,
        app.due_on,
        app.file_due_on,
        working_days_between(submitted, since) if status != S.DRAFT else 0,
        "",
        1,
        created,
        created,
        "",
        "",
        0,
        0,
        0,
        procedure,
        possession,
    )


def seed_titles(
    *,
    count: int,
    program: Program,
    authority: Organization,
    chunk_size: int = 10_000,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Generate ``count`` title files over the plots of ``program``'s households (several files
    per plot when there are fewer plots than files). Returns how many were written."""
    rng = random.Random(seed)
    cfg = settings_for(program.pk)
    plots = list(
        Plot.objects.filter(household__program=program, is_active=True)
        .order_by("household_id")
        .values_list("pk", "household_id", "household__district_id")
    )
    if not plots:
        raise ValueError("No plots: run seed_households first.")
    today = timezone.localdate()
    written = 0
    while written < count:
        size = min(chunk_size, count - written)
        rows = [
            _row(
                rng,
                cfg,
                household_id,
                plot_id,
                district_id,
                program.pk,
                authority.pk,
                today,
            )
            for plot_id, household_id, district_id in (
                plots[(written + i) % len(plots)] for i in range(size)
            )
        ]
        with transaction.atomic():
            _copy_rows(TitleApplication, FIELDS, rows)
        written += size
        if progress is not None:
            progress(written, count)
    return written


def bench_authority(district_ubigeos: list[str]) -> Organization:
    """The benchmarks' titling authority (``bench-dra``), created or updated."""
    authority, _created = organization_upsert(
        code="bench-dra",
        kind=OrganizationKind.TITLING_AUTHORITY,
        name="Bench titling authority",
        district_ubigeos=district_ubigeos,
    )
    return authority
