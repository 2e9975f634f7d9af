"""Stage computation and storage for batches of households (recompute after commit, sweep).

For a batch (a list of ids, or an id range of the nightly sweep) the engine reads all evidence
in a fixed number of queries — households, agreements, confirmed visits, one per registered
provider, the programmes' thresholds and the batch's engine alerts — computes every stage in
Python with :func:`farmers.transition.rules.compute`, and writes set-based:

Licit hectares: a household with crop installations counts, for each confirmed visit, the area
of its installations on plots the visit saw (``Verification.plots``) that stood on the visit's
day (planted on or before it, not lost by then) and are of a crop on the programme's licit list
(:func:`_licit_from_installations`); a household with no installations (or a visit that named no
plots) keeps the licit hectares the visit recorded.

* only households whose stage or milestones changed are updated; a household is updated only
  if its stored stage is still the one read (a concurrent run cannot write the same move twice),
  and ``StageChange`` rows are inserted exactly for the households whose stage moved: one per
  rung reached, each effective on its milestone (``farmers.transition.ledger``);
* an exclusion proposal is opened (once) for a relapse that reached the programme's limit:
  people confirm or dismiss it (``farmers.services.exclusions``);
* alerts (relapse, visit due, evidence expiry) are raised once per condition key: a key that
  already has an alert in any status is not raised again, so reruns never duplicate alerts nor
  reopen one that staff resolved; live engine alerts whose condition is gone are resolved.

A batch whose stages and milestones do not move writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farmers.choices import (
    EradicationKind,
    EradicationStatus,
    HouseholdStatus,
    Stage,
    VerificationStatus,
)
from farmers.models import (
    Agreement,
    Consent,
    CropInstallation,
    Eradication,
    ExclusionProposal,
    Household,
    StageChange,
    Verification,
)
from farmers.reporting import summaries
from registry import webhooks
from registry.alerts import AlertSpec, alerts_raise_many
from registry.choices import LIVE_ALERT_STATUSES, AlertKind, AlertStatus, WebhookEventType
from registry.display import day
from registry.models import Alert, Program

from . import evidence as evidence_module
from .evidence import Fact
from .facts import AlertWanted
from .ledger import steps
from .rules import (
    TENURE,
    ZERO,
    HouseholdEvidence,
    Reason,
    Result,
    Thresholds,
    Visit,
    compute,
    licit_hectares,
)
from .rules import Eradication as ErasedCoca

ENGINE_ALERT_KINDS = (AlertKind.RELAPSE, AlertKind.VISIT_DUE, AlertKind.EVIDENCE_EXPIRY)
ALERT_MESSAGES: dict[str, Any] = {
    AlertKind.RELAPSE: _(
        "%(household)s: coca found again on the confirmed visit of %(date)s: support paused, "
        "review the family."
    ),
    AlertKind.VISIT_DUE: _(
        "%(household)s: a verification visit is due by %(date)s, before the last one expires."
    ),
    AlertKind.EVIDENCE_EXPIRY: _(
        "%(household)s: evidence expired on %(date)s and the family's stage dropped."
    ),
}
WRITE_CHUNK = 2000
#: A household's enrolment date in SQL: its ``enrolled_on`` (the consent's date, or an
#: import's), else the day it was created (no consent).
ENROLLED_ON = Coalesce("enrolled_on", TruncDate("created_at"))
MIN_UUID = uuid.UUID(int=0)
MAX_UUID = uuid.UUID(int=2**128 - 1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a batch did: households read, stages changed, alerts raised and resolved."""

    households: int = 0
    changes: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0


@dataclass(slots=True)
class _Row:
    id: str  # the household id as text
    stage: str
    milestones: Any  # as stored: a dict, or jsonb text read straight from PostgreSQL
    district_id: str
    program_id: int
    result: Result


def _uuids(ids: Iterable[Any]) -> list[uuid.UUID]:
    return sorted({pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk)) for pk in ids})


def recompute_households(household_ids: Sequence[Any], today: date | None = None) -> int:
    """Recompute and store the stage of ``household_ids``; return how many changed."""
    ids = _uuids(household_ids)
    if not ids:
        return 0
    outcome = _process(Q(pk__in=ids), Q(household_id__in=ids), today or timezone.localdate(), None)
    return outcome.changes


def sweep_range(lo: Any, hi: Any, today: date) -> Outcome:
    """Recompute every household whose id lies between ``lo`` and ``hi`` (both included)."""
    low, high = _uuids([lo])[0], _uuids([hi])[0]
    return _process(
        Q(pk__gte=low, pk__lte=high),
        Q(household_id__gte=low, household_id__lte=high),
        today,
        (low, high),
    )


def _json(value: Any) -> Any:
    """A JSON column read raw (Django's psycopg loader leaves ``jsonb`` as text)."""
    return json.loads(value) if isinstance(value, str) else value


def _jsonb_order(key: str) -> tuple[int, bytes]:
    return (len(key.encode()), key.encode())


# The milestone keys (stage names and the tenure track) in the order PostgreSQL prints a jsonb
# object's keys.
MILESTONE_KEYS = tuple(sorted((*(stage.value for stage in Stage), TENURE), key=_jsonb_order))


def _jsonb_text(value: dict[str, str]) -> str:
    """How PostgreSQL prints a ``jsonb`` object of strings: keys shortest first, then bytewise.

    Milestones (stage name → ISO date, nothing to escape) take the fast path: their keys are
    known, so no sort; anything else is printed key by key with ``json.dumps``."""
    parts = [f'"{key}": "{value[key]}"' for key in MILESTONE_KEYS if key in value]
    if len(parts) == len(value):
        text = "{" + ", ".join(parts) + "}"
        if text.count('"') == 4 * len(parts) and "\\" not in text:  # nothing to escape
            return text
    items = sorted(value.items(), key=lambda kv: _jsonb_order(kv[0]))
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items) + "}"


def _same_milestones(stored: Any, computed: dict[str, str]) -> bool:
    """Whether the stored milestones equal the computed ones. Text read from PostgreSQL is first
    compared as printed (cheap; the common case of a sweep) and decoded only when it differs."""
    if isinstance(stored, str):
        if stored == _jsonb_text(computed):
            return True
        stored = json.loads(stored)
    return bool((stored or {}) == computed)


def _rows(queryset: Any) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset; on PostgreSQL straight from the driver (psycopg
    already returns dates, Decimals and text: Django's per-value converters are the largest
    cost of a sweep)."""
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _text_id(field: str) -> Any:
    """A uuid column read as text on PostgreSQL (cheaper to decode and to hash than ``UUID``
    objects; the same text as ``str(uuid)``). Elsewhere the value is converted by the caller."""
    if connection.vendor == "postgresql":
        return Cast(field, output_field=models.TextField())
    return F(field)


def _keyed(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows whose first column is a household id, with that id as text on every database."""
    if connection.vendor == "postgresql":
        return rows
    return [(str(row[0]), *row[1:]) for row in rows]


def _thresholds(program_ids: set[int]) -> dict[int, Thresholds]:
    return {p.pk: Thresholds.of(p) for p in Program.objects.filter(pk__in=program_ids)}


def _eradications(
    by_household: Q,
) -> tuple[dict[str, list[ErasedCoca]], dict[str, list[tuple[date, Decimal]]]]:
    """The batch's verified eradications by household and, for the households with a voluntary
    one, their active agreements' committed hectares (one query, a second only then)."""
    erased: dict[str, list[ErasedCoca]] = {}
    voluntary: set[str] = set()
    forced = EradicationKind.FORCED.value
    for hid, on, hectares, kind, ref in _keyed(
        _rows(
            Eradication.objects.filter(by_household, status=EradicationStatus.VERIFIED)
            .annotate(text_id=_text_id("household_id"), ref=_text_id("id"))
            .order_by()
            .values_list("text_id", "eradicated_on", "hectares", "kind", "ref")
        )
    ):
        erased.setdefault(hid, []).append(ErasedCoca(on, hectares, kind == forced, str(ref)))
        if kind != forced:
            voluntary.add(hid)
    commitments: dict[str, list[tuple[date, Decimal]]] = {}
    if voluntary:
        for hid, signed_on, committed in _keyed(
            _rows(
                Agreement.objects.filter(household_id__in=sorted(voluntary), is_active=True)
                .annotate(text_id=_text_id("household_id"))
                .order_by()
                .values_list("text_id", "signed_on", "coca_ha_committed")
            )
        ):
            commitments.setdefault(hid, []).append((signed_on, committed))
    return erased, commitments


def _licit_from_installations(
    by_household: Q,
    visits: dict[str, list[Visit]],
    thresholds: dict[int, Thresholds],
    rows: list[tuple[Any, ...]],
) -> None:
    """Replace, in ``visits``, the recorded licit hectares of the visits of households with crop
    installations by the area of their installations on the plots each visit saw.

    One query for the batch's installations; a second (the plots of those households' confirmed
    visits) only when there are some. An installation counts for a visit when it stood on the
    visit's day (``planted_on`` on or before it, ``lost_on`` empty or after it) on a plot the
    visit saw, and its crop is on the household's programme's licit list. A visit that named no
    plots keeps its recorded figure (it cannot be tied to a plot)."""
    installed: dict[str, list[tuple[str, str, Decimal, date, date | None]]] = {}
    for hid, plot_id, crop, area, planted_on, lost_on in _keyed(
        _rows(
            CropInstallation.objects.filter(by_household)
            .annotate(text_id=_text_id("household_id"), plot_ref=_text_id("plot_id"))
            .order_by()
            .values_list("text_id", "plot_ref", "crop", "area_ha", "planted_on", "lost_on")
        )
    ):
        if hid in visits:
            installed.setdefault(hid, []).append((str(plot_id), crop, area, planted_on, lost_on))
    if not installed:
        return
    seen: dict[str, set[str]] = {}
    visit_plots: Any = Verification.plots.through  # the auto-created M2M table
    for vid, plot_id in _rows(
        visit_plots.objects.filter(
            # A semi-join, not thousands of ids sent (and converted one by one) from Python.
            verification__household_id__in=CropInstallation.objects.filter(by_household)
            .order_by()
            .values("household_id"),
            verification__status=VerificationStatus.CONFIRMED,
        )
        .annotate(visit_ref=_text_id("verification_id"), plot_ref=_text_id("plot_id"))
        .order_by()
        .values_list("visit_ref", "plot_ref")
    ):
        seen.setdefault(str(vid), set()).add(str(plot_id))
    program_of = {row[0]: row[5] for row in rows}
    for hid, stands in installed.items():
        listed = thresholds[program_of[hid]].licit_crops
        counted = []
        for visit in visits[hid]:
            plots = seen.get(visit.ref)
            if not plots:
                counted.append(visit)
                continue
            area = sum(
                (
                    ha
                    for plot_id, crop, ha, planted_on, lost_on in stands
                    if plot_id in plots
                    and crop in listed
                    and planted_on <= visit.on
                    and (lost_on is None or lost_on > visit.on)
                ),
                ZERO,
            )
            counted.append(Visit(visit.on, visit.coca_ha, area, visit.ref))
        visits[hid] = counted


@dataclass(slots=True)
class EvidenceBatch:
    """A batch's evidence as read: household rows ``(id, status, stage, milestones, district,
    programme, enrolled_on)`` and, by household id (text), consents, agreements, visits, facts,
    verified eradications and the committed hectares they count toward; thresholds by
    programme."""

    rows: list[tuple[Any, ...]]
    consents: set[str]
    agreements: dict[str, list[date]]
    visits: dict[str, list[Visit]]
    facts: dict[str, list[Fact]]
    thresholds: dict[int, Thresholds]
    erased: dict[str, list[ErasedCoca]]
    commitments: dict[str, list[tuple[date, Decimal]]]

    def evidence(self, hid: str, registered_on: date, status: str) -> HouseholdEvidence:
        """What the rules look at for household ``hid`` of this batch."""
        nothing: tuple[Any, ...] = ()
        return HouseholdEvidence(
            hid,
            registered_on,
            status == HouseholdStatus.ACTIVE.value,
            hid in self.consents,
            self.agreements.get(hid, nothing),
            self.visits.get(hid, nothing),
            self.facts.get(hid, nothing),
            self.erased.get(hid, nothing),
            self.commitments.get(hid, nothing),
        )


def _compute_batch(
    households: Q,
    by_household: Q,
    today: date,
    bounds: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> list[_Row]:
    """Read the batch's evidence (fixed number of queries) and compute every stage."""
    batch = read_evidence(households, by_household, today, bounds)
    consents, agreements, visits, facts = (
        batch.consents,
        batch.agreements,
        batch.visits,
        batch.facts,
    )
    erased, commitments, thresholds = batch.erased, batch.commitments, batch.thresholds
    active = HouseholdStatus.ACTIVE.value
    nothing: tuple[Any, ...] = ()
    return [
        _Row(
            hid,
            stage,
            milestones,
            district_id,
            program_id,
            compute(
                HouseholdEvidence(
                    hid,
                    registered_on,
                    status == active,
                    hid in consents,
                    agreements.get(hid, nothing),
                    visits.get(hid, nothing),
                    facts.get(hid, nothing),
                    erased.get(hid, nothing),
                    commitments.get(hid, nothing),
                ),
                today,
                thresholds[program_id],
            ),
        )
        for hid, status, stage, milestones, district_id, program_id, registered_on in batch.rows
    ]


def _consenting(by_household: Q) -> set[str]:
    """Households (ids as text) whose current consent grants any purpose: a family that
    withdrew every purpose (a consent version with none) has no consent to count, as one that
    never signed (``farmers.consent``: the current version is the latest by date, then time)."""
    current: dict[str, tuple[Any, Any, Any, bool]] = {}
    for hid, signed_on, created_at, consent_id, purposes in _keyed(
        _rows(
            Consent.objects.filter(by_household)
            .annotate(text_id=_text_id("household_id"))
            .order_by()
            .values_list("text_id", "signed_on", "created_at", "id", "purposes")
        )
    ):
        if isinstance(purposes, str):  # PostgreSQL's driver rows: the JSON text
            purposes = json.loads(purposes)
        version = (signed_on, created_at, consent_id, bool(purposes))
        known = current.get(hid)
        if known is None or version[:3] > known[:3]:
            current[hid] = version
    return {hid for hid, version in current.items() if version[3]}


def read_evidence(
    households: Q,
    by_household: Q,
    today: date,
    bounds: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> EvidenceBatch:
    """Read a batch's evidence in a fixed number of queries.

    Households, consents, agreements and confirmed visits are each read by range (or id list)
    with the household id as text; the rows are grouped in Python, so no per-household
    subquery runs in the database."""
    rows = _keyed(
        _rows(
            Household.objects.filter(households)
            .annotate(text_id=_text_id("id"), registered_on=ENROLLED_ON)
            .order_by()
            .values_list(
                "text_id",
                "status",
                "stage",
                "milestones",
                "district_id",
                "program_id",
                "registered_on",
            )
        )
    )
    if not rows:
        return EvidenceBatch([], set(), {}, {}, {}, {}, {}, {})
    consents = _consenting(by_household)
    agreements: dict[str, list[date]] = {}
    for hid, signed_on in _keyed(
        _rows(
            Agreement.objects.filter(by_household, is_active=True)
            .annotate(text_id=_text_id("household_id"))
            .order_by()
            .values_list("text_id", "signed_on")
        )
    ):
        if hid in agreements:
            agreements[hid].append(signed_on)
        else:
            agreements[hid] = [signed_on]
    thresholds = _thresholds({row[5] for row in rows})
    # Licit hectares count only the crops on the household's programme's list.
    listed = {row[0]: thresholds[row[5]].licit_crops for row in rows}
    visits: dict[str, list[Visit]] = {}
    for hid, visited_on, coca_ha, crops, vid in _keyed(
        _rows(
            Verification.objects.filter(by_household, status=VerificationStatus.CONFIRMED)
            .annotate(text_id=_text_id("household_id"), ref=_text_id("id"))
            .order_by()
            .values_list("text_id", "visited_on", "coca_ha", "licit_crops", "ref")
        )
    ):
        crops_listed = listed.get(hid)
        if crops_listed is None:
            continue
        visit = Visit(visited_on, coca_ha, licit_hectares(crops, crops_listed), str(vid))
        if hid in visits:
            visits[hid].append(visit)
        else:
            visits[hid] = [visit]
    if visits:
        _licit_from_installations(by_household, visits, thresholds, rows)
    lo, hi = bounds or (None, None)
    facts: dict[str, list[Fact]] = {}
    if evidence_module.providers():
        batch = evidence_module.HouseholdBatch((row[0] for row in rows), lo, hi)
        facts = {str(k): v for k, v in evidence_module.gather(batch, today).items()}
    erased, commitments = _eradications(by_household)
    return EvidenceBatch(rows, consents, agreements, visits, facts, thresholds, erased, commitments)


def _process(
    households: Q,
    by_household: Q,
    today: date,
    bounds: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> Outcome:
    """Compute a batch and write what changed, in one transaction (nothing when nothing did)."""
    rows = _compute_batch(households, by_household, today, bounds)
    if not rows:
        return Outcome()
    dirty = [
        r
        for r in rows
        if r.result.stage != r.stage or not _same_milestones(r.milestones, r.result.milestones)
    ]
    specs, stale = _plan_alerts(rows, by_household)
    proposals = _plan_proposals(rows)
    if not dirty and not specs and not stale and not proposals:
        return Outcome(len(rows))
    with transaction.atomic():
        if proposals:
            ExclusionProposal.objects.bulk_create(proposals, ignore_conflicts=True)
        changed: set[str] = set()
        # The dashboard's summaries follow the households written, in this transaction.
        with summaries.tracking([r.id for r in dirty], parts=summaries.STAGE_PARTS):
            for start in range(0, len(dirty), WRITE_CHUNK):
                changed |= _write(dirty[start : start + WRITE_CHUNK], today)
        _stage_events([r for r in dirty if r.id in changed and r.result.stage != r.stage])
        # ``_plan_alerts`` read every alert of these households: none of ``specs`` exists.
        raised = alerts_raise_many(specs, known_absent=True) if specs else 0
        resolved = _resolve(stale)
    return Outcome(len(rows), len(changed), raised, resolved)


def _stage_events(moved: list[_Row]) -> None:
    """One ``household.stage_changed`` webhook event per household whose stage moved (written
    with the move, set-based)."""
    if moved:
        webhooks.record_many(
            webhooks.event(
                WebhookEventType.HOUSEHOLD_STAGE_CHANGED,
                row.id,
                district_id=row.district_id,
                program_id=row.program_id,
                **{"from": row.stage, "to": row.result.stage, "effective_on": row.result.since},
            )
            for row in moved
        )


def _write(rows: list[_Row], today: date) -> set[str]:
    """Update households whose stored stage is still the one read; log the stage moves."""
    if connection.vendor == "postgresql":
        return _write_postgresql(rows)
    moved: set[str] = set()
    now = timezone.now()
    ledger: list[StageChange] = []
    for row in rows:
        result = row.result
        moves = result.stage != row.stage
        fields: dict[str, Any] = {"milestones": result.milestones}
        if moves:
            fields.update(stage=result.stage, stage_since=result.since, updated_at=now)
        updated = Household.objects.filter(pk=row.id, stage=row.stage).update(**fields)
        if updated and moves:
            moved.add(row.id)
            ledger.extend(_ledger_rows(row, now))
    StageChange.objects.bulk_create(ledger)
    return moved


def _ledger_rows(row: _Row, now: Any) -> list[StageChange]:
    """The ledger rows of a household's move: one per rung reached."""
    result = row.result
    return [
        StageChange(
            household_id=row.id,
            from_stage=step.from_stage,
            to_stage=step.to_stage,
            effective_on=step.effective_on,
            at=now,
            reason=step.reason,
            evidence=result.evidence_summary,
            district_id=row.district_id,
            program_id=row.program_id,
        )
        for step in steps(row.stage, result)
    ]


def _write_postgresql(rows: list[_Row]) -> set[str]:
    """One statement: ``UPDATE … FROM (VALUES …)`` guarded by the stage read, and an ``INSERT``
    of the ledger rows (one per rung reached) of exactly the households it moved."""
    household = Household._meta.db_table
    ledger = StageChange._meta.db_table
    params: list[Any] = []
    values: list[str] = []
    for row in rows:
        result = row.result
        values.append("(%s::uuid, %s, %s, %s::date, %s::jsonb, %s)")
        params += [
            row.id,
            row.stage,
            result.stage,
            result.since,
            json.dumps(result.milestones, sort_keys=True),
            result.stage != row.stage,
        ]
    moves: list[str] = []
    for row in rows:
        if row.result.stage == row.stage:
            continue
        evidence = json.dumps(row.result.evidence_summary, sort_keys=True)
        for seq, step in enumerate(steps(row.stage, row.result)):
            moves.append("(%s::uuid, %s, %s, %s, %s::date, %s, %s::jsonb, %s, %s::bigint)")
            params += [
                row.id,
                seq,
                step.from_stage,
                step.to_stage,
                step.effective_on,
                step.reason,
                evidence,
                row.district_id,
                row.program_id,
            ]
    steps_sql = (
        f"VALUES {', '.join(moves)}"
        if moves
        else "SELECT NULL::uuid, 0, '', '', NULL::date, '', NULL::jsonb, '', 0::bigint WHERE false"
    )
    # Only table names (from the models) and placeholders are formatted in; values are bound.
    sql = f"""
        WITH v (id, old_stage, stage, since, milestones, moves) AS (VALUES {", ".join(values)}),
        l (id, seq, from_stage, to_stage, effective_on, reason, evidence, district_id,
           program_id) AS ({steps_sql}),
        upd AS (
            UPDATE "{household}" h
               SET stage = v.stage,
                   milestones = v.milestones,
                   stage_since = CASE WHEN v.moves THEN v.since ELSE h.stage_since END,
                   updated_at = CASE WHEN v.moves THEN now() ELSE h.updated_at END
              FROM v
             WHERE h.id = v.id AND h.stage = v.old_stage
         RETURNING h.id
        )
        INSERT INTO "{ledger}" (household_id, from_stage, to_stage, effective_on, at, reason,
                                evidence, district_id, program_id)
        SELECT l.id, l.from_stage, l.to_stage, l.effective_on, now(), l.reason, l.evidence,
               l.district_id, l.program_id
          FROM l JOIN upd ON upd.id = l.id
         ORDER BY l.id, l.seq
     RETURNING household_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(r[0]) for r in cursor}


def _plan_alerts(rows: list[_Row], by_household: Q) -> tuple[list[AlertSpec], list[Any]]:
    """Alerts to raise (wanted keys never raised before, in any status) and live engine alerts
    to resolve (their condition is gone)."""
    wanted = {w.key: (row, w) for row in rows for w in row.result.alerts_wanted}
    existing = _rows(
        Alert.objects.filter(by_household, kind__in=ENGINE_ALERT_KINDS)
        .order_by()
        .values_list("pk", "key", "status")
    )
    known = {key for _pk, key, _status in existing}
    raised = sorted(key for key in wanted if key not in known)
    # The household by its code (no personal data: partners read alerts too; the admin adds
    # the head's name for its readers), read only when there is an alert to raise.
    codes = (
        dict(
            Household.objects.filter(pk__in={wanted[key][0].id for key in raised})
            .order_by()
            .values_list("pk", "code")
        )
        if raised
        else {}
    )
    specs = [
        AlertSpec(
            kind=w.kind,
            key=key,
            message=_alert_message(w, codes.get(_as_uuid(row.id), "")),
            district_id=row.district_id,
            program_id=row.program_id,
            household_id=row.id,
            severity=w.severity,
            due_on=w.due_on,
            details={"stage": row.result.stage, "reason": row.result.held_back},
        )
        for key in raised
        for row, w in (wanted[key],)
    ]
    stale = [
        pk for pk, key, status in existing if status in LIVE_ALERT_STATUSES and key not in wanted
    ]
    return specs, stale


def _as_uuid(value: Any) -> Any:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _alert_message(wanted: AlertWanted, code: str) -> str:
    """The alert's text: the household's code and the condition's date (dd/mm/aaaa): the due
    date of a visit due, else the date its key names (the relapse's visit, the expiry)."""
    on: Any = wanted.due_on
    if on is None:
        on = wanted.key.rsplit(":", 1)[-1]
    template = ALERT_MESSAGES.get(wanted.kind)
    if template is None:
        return str(wanted.kind)
    return str(template) % {"household": code or "—", "date": day(on)}


def _plan_proposals(rows: list[_Row]) -> list[ExclusionProposal]:
    """Exclusions to propose (people decide them, ``farmers.services.exclusions``): one per
    relapse that reached the programme's limit, unless one was already opened for it (a query
    only when the batch has such households)."""
    wanted = {
        (row.id, row.result.since): row
        for row in rows
        if row.result.held_back == Reason.EXCLUSION_PROPOSED
    }
    if not wanted:
        return []
    opened = {
        (str(hid), on)
        for hid, on in ExclusionProposal.objects.filter(
            household_id__in=sorted({hid for hid, _on in wanted})
        ).values_list("household_id", "relapse_on")
    }
    return [
        ExclusionProposal(household_id=hid, relapse_on=on, evidence=row.result.evidence_summary)
        for (hid, on), row in sorted(wanted.items())
        if (hid, on) not in opened
    ]


def _resolve(stale: list[Any]) -> int:
    if not stale:
        return 0
    return Alert.objects.filter(pk__in=stale).touch(
        status=AlertStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=str(_("The condition no longer holds.")),
    )


__all__ = ["ENGINE_ALERT_KINDS", "MAX_UUID", "MIN_UUID", "Outcome", "recompute_households"]
