"""Rebuild the transition ledger and milestones of existing data from the evidence.

Data recorded before issue 15 has a ledger of net jumps (``enrolled → licit_production``),
milestones that may precede enrolment, and no ``enrolled_on``. :func:`rebuild` walks the
households in id chunks (keyset, ``chunk_size`` at a time) and, for each chunk, in one
transaction and a fixed number of queries:

1. fills ``enrolled_on`` from the earliest consent where it is empty (one ``UPDATE``);
2. reads the chunk's evidence like the sweep does (``engine.read_evidence``) and **replays** each
   household's history: the rules are evaluated on every day the stage could have moved (the
   enrolment, each agreement, visit and fact, and the days evidence expires or graduation
   falls due), and every move gives its ledger rows (one per rung reached,
   ``farmers.transition.ledger``);
3. compares that ledger with the stored one (from, to, effective day, reason, in id order) and
   the stored stage, ``stage_since`` and milestones with today's result: only households that
   differ are written (their ledger rows replaced, the household updated, set-based).

A second run finds nothing to change and writes nothing (idempotent). Alerts are left to the
sweep. The replayed ledger assumes the household's current review status held throughout.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from farmers.models import Consent, Household, StageChange
from farmers.reporting import summaries
from registry.bulk import copy_rows
from registry.dates import add_months

from .engine import EvidenceBatch, _json, _rows, _text_id, read_evidence
from .evidence import DELIVERY_ACCEPTED
from .ledger import Step, steps
from .rules import ENROLLED, HouseholdEvidence, Result, Thresholds, compute

DEFAULT_CHUNK = 2000
ONE_DAY = timedelta(days=1)


@dataclass(slots=True)
class RebuildOutcome:
    """What a rebuild did: households read, households rewritten, ledger rows written."""

    households: int = 0
    rewritten: int = 0
    rows_written: int = 0
    seconds: float = 0.0


def _moments(evidence: HouseholdEvidence, today: date, th: Thresholds) -> list[date]:
    """Every day the stage of ``evidence`` could have moved, up to ``today`` (sorted)."""
    days = {evidence.registered_on, today, *evidence.agreements}
    for visit in evidence.visits:
        days.add(visit.on)
        days.add(add_months(visit.on, th.coca_free_max_age_months) + ONE_DAY)
        days.add(add_months(visit.on, th.graduation_coca_free_months))
    for erased in evidence.eradications:
        days.add(erased.on)
    for fact in evidence.facts:
        days.add(fact.on)
        if fact.kind == DELIVERY_ACCEPTED:
            days.add(add_months(fact.on, th.market_window_months) + ONE_DAY)
    # ``today`` always counts (as in the engine), even before a future-dated enrolment.
    return sorted(d for d in days if evidence.registered_on <= d <= today) or [today]


def replay(evidence: HouseholdEvidence, today: date, th: Thresholds) -> tuple[list[Step], Result]:
    """The ledger a household's evidence gives from enrolment to ``today``, and today's result."""
    stage = ENROLLED
    ledger: list[Step] = []
    # The last moment is always ``today`` (``_moments`` is never empty), so ``result`` ends
    # as today's.
    result: Result | None = None
    for day in _moments(evidence, today, th):
        result = compute(evidence, day, th)
        if result.stage != stage:
            ledger.extend(steps(stage, result))
            stage = result.stage
    assert result is not None
    return ledger, result


def _evidence_of(batch: EvidenceBatch, row: tuple[Any, ...]) -> HouseholdEvidence:
    hid, status, _stage, _milestones, _district, _program, enrolled_on = row
    return batch.evidence(hid, enrolled_on, status)


def _stored_ledger(by_household: Q) -> dict[str, list[Step]]:
    ledger: dict[str, list[Step]] = {}
    rows = _rows(
        StageChange.objects.own()
        .filter(by_household)
        .annotate(text_id=_text_id("household_id"))
        .order_by("household_id", "id")
        .values_list("text_id", "from_stage", "to_stage", "effective_on", "reason")
    )
    for hid, from_stage, to_stage, effective_on, reason in rows:
        ledger.setdefault(str(hid), []).append(Step(from_stage, to_stage, effective_on, reason))
    return ledger


def _fill_enrolment(households: Q) -> int:
    """``enrolled_on`` from the earliest consent, where empty (one statement)."""
    first = (
        Consent.objects.filter(household=OuterRef("pk"))
        .order_by("signed_on")
        .values("signed_on")[:1]
    )
    return (
        Household.objects.filter(households, enrolled_on__isnull=True, consents__isnull=False)
        .distinct()
        .update(enrolled_on=Subquery(first))
    )


# A ledger row to write: household id, from, to, effective on, at, reason, evidence, district,
# programme (the order of ``LEDGER_FIELDS``).
LEDGER_FIELDS = (
    "household",
    "from_stage",
    "to_stage",
    "effective_on",
    "at",
    "reason",
    "evidence",
    "district",
    "program",
)
# A household to write: id, stage, stage since, milestones.
HouseholdUpdate = tuple[str, str, date, dict[str, str]]


def _insert_ledger(rows: list[tuple[Any, ...]]) -> None:
    """Insert ledger rows (``COPY`` on PostgreSQL: ``registry.bulk.copy_rows``)."""
    copy_rows(StageChange, LEDGER_FIELDS, rows)


def _update_households(updates: list[HouseholdUpdate]) -> None:
    """Write stage, ``stage_since`` and milestones: one ``UPDATE … FROM (VALUES …)`` per
    thousand households on PostgreSQL (Django's ``bulk_update`` builds a ``CASE`` per row and
    column, which cost most of the rebuild's time), ``bulk_update`` elsewhere."""
    if connection.vendor != "postgresql":
        Household.objects.bulk_update(
            [
                Household(pk=uuid.UUID(hid), stage=stage, stage_since=since, milestones=milestones)
                for hid, stage, since, milestones in updates
            ],
            ["stage", "stage_since", "milestones"],
            batch_size=1000,
        )
        return
    table = Household._meta.db_table
    for start in range(0, len(updates), 1000):
        part = updates[start : start + 1000]
        values = ", ".join(["(%s::uuid, %s, %s::date, %s::jsonb)"] * len(part))
        params: list[Any] = []
        for hid, stage, since, milestones in part:
            params += [hid, stage, since, json.dumps(milestones, sort_keys=True)]
        # Only the table name (from the model) and placeholders are formatted in.
        sql = f"""
            UPDATE "{table}" h
               SET stage = v.stage, stage_since = v.since, milestones = v.milestones
              FROM (VALUES {values}) AS v (id, stage, since, milestones)
             WHERE h.id = v.id
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def rebuild_chunk(lo: uuid.UUID, hi: uuid.UUID, today: date) -> tuple[int, int, int]:
    """Rebuild the households whose id lies in ``lo``..``hi``: (read, rewritten, ledger rows)."""
    households = Q(pk__gte=lo, pk__lte=hi)
    by_household = Q(household_id__gte=lo, household_id__lte=hi)
    with transaction.atomic():
        _fill_enrolment(households)
        batch = read_evidence(households, by_household, today, (lo, hi))
        if not batch.rows:
            return 0, 0, 0
        stored = _stored_ledger(by_household)
        since = {
            str(k): v
            for k, v in Household.objects.filter(households).values_list("pk", "stage_since")
        }
        now = timezone.now()
        rewrite: list[str] = []
        new_rows: list[tuple[Any, ...]] = []
        updates: list[HouseholdUpdate] = []
        for row in batch.rows:
            hid, _status, stage, milestones, district_id, program_id, _enrolled = row
            evidence = _evidence_of(batch, row)
            ledger, result = replay(evidence, today, batch.thresholds[program_id])
            if ledger != stored.get(hid, []):
                rewrite.append(hid)
                new_rows += [
                    (
                        hid,
                        step.from_stage,
                        step.to_stage,
                        step.effective_on,
                        now,
                        step.reason,
                        result.evidence_summary,
                        district_id,
                        program_id,
                    )
                    for step in ledger
                ]
            if (result.stage, result.since, result.milestones) != (
                stage,
                since[hid],
                _json(milestones) or {},
            ):
                updates.append((hid, result.stage, result.since, result.milestones))
        touched = [uuid.UUID(h) for h in dict.fromkeys([*rewrite, *(u[0] for u in updates)])]
        with summaries.tracking(touched, parts=summaries.STAGE_PARTS):
            if rewrite:
                ids = [uuid.UUID(h) for h in rewrite]
                StageChange.objects.own().filter(household_id__in=ids).delete()
                _insert_ledger(new_rows)
            if updates:
                _update_households(updates)
    return len(batch.rows), len(set(rewrite) | {u[0] for u in updates}), len(new_rows)


def rebuild(
    *,
    today: date | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[str], None] | None = None,
) -> RebuildOutcome:
    """Rebuild the ledger and milestones of every household, chunk by chunk (keyset on id)."""
    today = today or timezone.localdate()
    outcome = RebuildOutcome()
    total = Household.objects.count()
    started = time.monotonic()
    ids = Household.objects.order_by("pk").values_list("pk", flat=True)
    last: uuid.UUID | None = None
    while True:
        page = list((ids.filter(pk__gt=last) if last is not None else ids)[:chunk_size])
        if not page:
            break
        read, rewritten, written = rebuild_chunk(page[0], page[-1], today)
        last = page[-1]
        outcome.households += read
        outcome.rewritten += rewritten
        outcome.rows_written += written
        if progress is not None:
            elapsed = time.monotonic() - started
            rate = outcome.households / elapsed if elapsed else 0.0
            progress(
                f"{outcome.households}/{total} households, {outcome.rewritten} rewritten, "
                f"{outcome.rows_written} ledger rows written, {rate:,.0f} households/s"
            )
    outcome.seconds = time.monotonic() - started
    return outcome


__all__ = ["RebuildOutcome", "rebuild", "rebuild_chunk", "replay"]
