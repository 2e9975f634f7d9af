"""The transition engine against the database: the rules table stored through the engine (on
SQLite and PostgreSQL), ledger rows only for moves, fixed query counts, providers, alerts,
concurrency guard, recompute after commit, the sweep and ``run_periodic``."""

from __future__ import annotations

import io
import itertools
import json
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from farmers import services
from farmers.choices import HouseholdStatus, Stage, SweepStatus, VerificationStatus
from farmers.models import Household, StageChange, SweepRange, SweepRun, Verification
from farmers.pages.stage import reason_label
from farmers.transition import engine
from farmers.transition import evidence as evidence_module
from farmers.transition.evidence import DELIVERY_ACCEPTED, TITLE_REGISTERED, Fact
from farmers.transition.rules import LADDER, HouseholdEvidence, Thresholds, Visit
from farmers.transition.sweep import plan, run_all, run_range
from registry.actors import Actor
from registry.choices import AlertKind, AlertStatus, Role
from registry.models import Alert, Organization, Program
from registry.services import membership_assign
from tests.factories import UserFactory
from tests.farmers.evidence_helpers import PICHARI_FIX, attach_photo, give_plot
from tests.farmers.test_transition_rules import CASES, TODAY
from tests.farmers.transition_helpers import add_evidence, make_household, provider

pytestmark = pytest.mark.django_db


def stored(household: Household) -> Household:
    return Household.objects.get(pk=household.pk)


def rungs_to(stage: str) -> list[tuple[str, str]]:
    """The ledger moves of a household that reached ``stage`` from ``enrolled`` in one go."""
    if stage not in LADDER:
        return [(Stage.ENROLLED, stage)]
    climbed = LADDER[: LADDER.index(stage) + 1]
    return list(itertools.pairwise(climbed))


@pytest.mark.parametrize(("name", "case", "stage", "why"), CASES, ids=[c[0] for c in CASES])
def test_rules_table_through_the_engine(
    program: Program, name: str, case: HouseholdEvidence, stage: str, why: str
) -> None:
    """Every stage and every way out, computed from evidence stored in the database."""
    with provider() as fake:
        household = make_household(program, case)
        fake.add(household.pk, case.facts)
        engine.recompute_households([household.pk], today=TODAY)
    row = stored(household)
    assert row.stage == stage, name
    ledger = list(StageChange.objects.filter(household=household))
    if stage == Stage.ENROLLED:
        assert ledger == []
    else:
        # One row per rung reached (issue 15), each on its milestone, the last on stage_since.
        assert [(c.from_stage, c.to_stage) for c in ledger] == rungs_to(stage)
        assert ledger[-1].effective_on == row.stage_since
        assert [c.effective_on for c in ledger] == sorted(c.effective_on for c in ledger)
        for c in ledger[:-1]:
            assert c.effective_on.isoformat() == row.milestones[c.to_stage]
        for c in ledger:
            assert c.district_id == household.district_id
            assert c.program_id == program.pk
            assert c.evidence["agreements"] == len(case.agreements)
    assert row.milestones["enrolled"] == "2023-01-10"


def test_a_drop_records_the_expiry_reason(program: Program) -> None:
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2024, 1, 1)],
            visits=[Visit(date(2024, 3, 1), Decimal("0"), Decimal("2"))],
        ),
    )
    engine.recompute_households([household.pk], today=date(2025, 1, 1))
    assert stored(household).stage == Stage.LICIT_PRODUCTION
    engine.recompute_households([household.pk], today=TODAY)
    last = StageChange.objects.filter(household=household).last()
    assert last is not None
    assert (last.from_stage, last.to_stage, last.reason) == (
        Stage.LICIT_PRODUCTION,
        Stage.COMMITTED,
        "visit_expired",
    )
    assert last.effective_on == date(2025, 9, 1)
    expiry = Alert.objects.get(kind=AlertKind.EVIDENCE_EXPIRY, household_id=household.pk)
    assert expiry.district_id == household.district_id
    assert expiry.owner_role == Role.FIELD_OFFICER


def test_a_recompute_that_moves_nothing_writes_nothing(program: Program) -> None:
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2026, 1, 1)],
            visits=[Visit(date(2026, 3, 1), Decimal("0"), Decimal("1.5"))],
        ),
    )
    assert engine.recompute_households([household.pk], today=TODAY) == 1
    before = stored(household)
    with CaptureQueriesContext(connection) as queries:
        assert engine.recompute_households([household.pk], today=TODAY) == 0
    # Reads only (a provider's UNION starts with a parenthesis).
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].lstrip("( ").upper().startswith("SELECT")
    ]
    assert writes == []
    after = stored(household)
    assert (after.stage, after.stage_since, after.milestones, after.updated_at) == (
        before.stage,
        before.stage_since,
        before.milestones,
        before.updated_at,
    )
    assert StageChange.objects.count() == 3  # enrolled → committed → coca_free → licit


def _batch(program: Program, n: int) -> list[Any]:
    ids = []
    for i in range(n):
        household = make_household(
            program,
            HouseholdEvidence(
                household_id=None,
                registered_on=date(2023, 1, 10),
                agreements=[date(2026, 1, 1)],
                visits=[Visit(date(2026, 3, 1 + i % 20), Decimal("0"), Decimal("1"))],
            ),
        )
        ids.append(household.pk)
    return ids


def test_evidence_is_read_in_a_fixed_number_of_queries(program: Program) -> None:
    """Households, consents, agreements, visits, thresholds, alerts (plus one call per
    provider, which answers in its own fixed number of queries): the same for 1 household or
    30."""
    counts = []
    with provider() as fake:
        for n in (1, 30):
            ids = _batch(program, n)
            engine.recompute_households(ids, today=TODAY)  # first run stores the stages
            calls = fake.calls
            with CaptureQueriesContext(connection) as queries:
                engine.recompute_households(ids, today=TODAY)
            counts.append(len(queries))
            assert fake.calls == calls + 1  # one provider call per batch
    # The registered providers (titles, markets, people's decisions) answer a batch in one
    # query each.
    real = [name for name in evidence_module.providers() if name != "test"]
    assert sorted(real) == ["farmers.appeals", "farmers.decisions", "markets", "titles"]
    # households, consents, agreements, visits, crop installations, eradications, thresholds,
    # alerts + the providers
    assert counts[0] == counts[1] == 8 + len(real)


def test_provider_facts_count_and_future_ones_do_not(program: Program) -> None:
    case = HouseholdEvidence(
        household_id=None,
        registered_on=date(2023, 1, 10),
        agreements=[date(2026, 1, 1)],
        visits=[Visit(date(2026, 3, 1), Decimal("0"), Decimal("1.5"))],
    )
    with provider() as fake:
        household = make_household(program, case)
        fake.add(household.pk, [Fact(household.pk, TITLE_REGISTERED, TODAY + timedelta(days=3))])
        engine.recompute_households([household.pk], today=TODAY)
        assert stored(household).stage == Stage.LICIT_PRODUCTION
        assert "tenure" not in stored(household).milestones
        fake.add(household.pk, [Fact(household.pk, TITLE_REGISTERED, date(2026, 5, 2))])
        engine.recompute_households([household.pk], today=TODAY)
        # A title is the tenure milestone, not a rung: the milestone is stored, the stage stays.
        row = stored(household)
        assert (row.stage, row.milestones["tenure"]) == (Stage.LICIT_PRODUCTION, "2026-05-02")
        moves = StageChange.objects.filter(household=household).count()
        sale = Fact(household.pk, DELIVERY_ACCEPTED, date(2026, 6, 1), "d1", "active")
        fake.add(household.pk, [sale])
        engine.recompute_households([household.pk], today=TODAY)
    row = stored(household)
    assert row.stage == Stage.MARKET_LINKED
    assert row.milestones["tenure"] == "2026-05-02"
    assert StageChange.objects.filter(household=household).count() == moves + 1
    assert StageChange.objects.filter(household=household).last().reason == "delivery_accepted"  # type: ignore[union-attr]


@pytest.mark.parametrize("requires_tenure", [False, True])
def test_graduation_requires_tenure_is_the_programme_s_setting(
    program: Program, requires_tenure: bool
) -> None:
    """The programme's ``graduation_requires_tenure`` reaches the rules: without a title a
    graduating family stays market_linked only where the programme requires tenure."""
    program.graduation_requires_tenure = requires_tenure
    program.save(update_fields=["graduation_requires_tenure"])
    case = HouseholdEvidence(
        household_id=None,
        registered_on=date(2023, 1, 10),
        agreements=[date(2023, 2, 1)],
        visits=[
            Visit(date(2024, 3, 1), Decimal("0"), Decimal("1.5")),
            Visit(date(2025, 6, 1), Decimal("0"), Decimal("2")),
        ],
    )
    with provider() as fake:
        household = make_household(program, case)
        fake.add(
            household.pk,
            [
                Fact(
                    household.pk,
                    DELIVERY_ACCEPTED,
                    date(2025, 12, 1),
                    "d1",
                    "active",
                    None,
                    None,
                    Decimal("4000"),
                ),
                Fact(
                    household.pk,
                    DELIVERY_ACCEPTED,
                    date(2026, 6, 1),
                    "d2",
                    "active",
                    None,
                    None,
                    Decimal("3000"),
                ),
            ],
        )
        engine.recompute_households([household.pk], today=TODAY)
        row = stored(household)
        assert row.stage == (Stage.MARKET_LINKED if requires_tenure else Stage.GRADUATED)
        fake.add(household.pk, [Fact(household.pk, TITLE_REGISTERED, date(2026, 8, 3))])
        engine.recompute_households([household.pk], today=TODAY)
    row = stored(household)
    assert row.stage == Stage.GRADUATED
    assert row.milestones["tenure"] == "2026-08-03"
    assert row.milestones["graduated"] == ("2026-08-03" if requires_tenure else "2026-06-01")


def _relapsing(program: Program) -> Household:
    return make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2025, 1, 1)],
            visits=[Visit(date(2025, 3, 1), Decimal("0")), Visit(date(2026, 2, 1), Decimal("1"))],
        ),
    )


def test_relapse_raises_one_alert_and_reruns_do_not_duplicate(program: Program) -> None:
    household = _relapsing(program)
    for _ in range(3):
        engine.recompute_households([household.pk], today=TODAY)
    alerts = Alert.objects.filter(household_id=household.pk, kind=AlertKind.RELAPSE)
    assert alerts.count() == 1
    alert = alerts.get()
    assert (alert.status, alert.severity, alert.owner_role) == ("open", "critical", "field_officer")
    # Staff resolve it: the sweep does not reopen the same condition.
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.RESOLVED)
    engine.recompute_households([household.pk], today=TODAY)
    assert alerts.count() == 1
    assert StageChange.objects.filter(household=household).count() == 1


def test_readmission_resolves_the_relapse_alert(program: Program) -> None:
    household = _relapsing(program)
    engine.recompute_households([household.pk], today=TODAY)
    add_evidence(
        household,
        agreements=[date(2026, 3, 1)],
        visits=[Visit(date(2026, 6, 1), Decimal("0"), Decimal("1.2"))],
    )
    engine.recompute_households([household.pk], today=TODAY)
    row = stored(household)
    assert row.stage == Stage.LICIT_PRODUCTION
    alert = Alert.objects.get(household_id=household.pk, kind=AlertKind.RELAPSE)
    assert alert.status == AlertStatus.RESOLVED
    # Back from relapsed one rung at a time: the first row says why (readmitted).
    moves = list(StageChange.objects.filter(household=household).order_by("id"))[-3:]
    assert [(c.from_stage, c.to_stage, c.reason) for c in moves] == [
        (Stage.RELAPSED, Stage.COMMITTED, "readmitted"),
        (Stage.COMMITTED, Stage.COCA_FREE, "coca_free_visit"),
        (Stage.COCA_FREE, Stage.LICIT_PRODUCTION, "licit_crops_confirmed"),
    ]
    assert [c.effective_on for c in moves] == [date(2026, 3, 1), date(2026, 6, 1), date(2026, 6, 1)]


def test_visit_due_alert_before_the_visit_expires(program: Program) -> None:
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2025, 1, 1)],
            visits=[Visit(date(2025, 10, 1), Decimal("0"), Decimal("1.2"))],
        ),
    )
    engine.recompute_households([household.pk], today=TODAY)
    alert = Alert.objects.get(household_id=household.pk, kind=AlertKind.VISIT_DUE)
    assert alert.due_on == date(2027, 4, 1)
    assert stored(household).stage == Stage.LICIT_PRODUCTION
    add_evidence(household, visits=[Visit(date(2026, 11, 1), Decimal("0"), Decimal("1.2"))])
    engine.recompute_households([household.pk], today=TODAY)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_a_concurrent_move_is_not_written_twice(program: Program) -> None:
    """The update is guarded by the stage that was read: a stale batch writes no ledger row."""
    household = _batch(program, 1)[0]
    rows = engine._compute_batch(
        engine.Q(pk__in=[household]), engine.Q(household_id__in=[household]), TODAY, None
    )
    assert engine._write(rows, TODAY) == {str(household)}
    assert engine._write(rows, TODAY) == set()  # same stale read again: nothing
    moved = StageChange.objects.filter(household_id=household).count()
    assert moved == len(rows[0].result.milestones) - 1  # one row per rung, written once


# --- recompute after commit ---------------------------------------------------------------------


@pytest.fixture
def people(partner: Organization) -> tuple[Actor, Actor]:
    officer = UserFactory.create(username="tecnico")
    supervisor = UserFactory.create(username="supervisora")
    membership_assign(user=officer, organization=partner, role=Role.FIELD_OFFICER)
    membership_assign(user=supervisor, organization=partner, role=Role.SUPERVISOR)
    return Actor.for_user(officer), Actor.for_user(supervisor)


def test_a_confirmed_visit_moves_the_stage_after_commit(
    program: Program, people: tuple[Actor, Actor], django_capture_on_commit_callbacks: Any
) -> None:
    officer, supervisor = people
    household = make_household(program)
    give_plot(household.pk)
    today = date.today()
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_create(
            actor=officer, household=household.pk, signed_on=today, coca_ha_committed="1"
        )
    assert stored(household).stage == Stage.COMMITTED
    visit, _ = services.verification_create(
        actor=officer,
        household=household.pk,
        visited_on=today,
        method="field_visit",
        coca_ha="0",
        licit_crops=[{"crop": "cacao", "ha": "1.5"}],
        location=PICHARI_FIX,
    )
    attach_photo(visit)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.verification_transition(actor=supervisor, verification=visit, to="confirmed")
    assert len(callbacks) == 1
    row = stored(household)
    assert row.stage == Stage.LICIT_PRODUCTION
    assert row.milestones["coca_free"] == today.isoformat()


def test_a_rolled_back_change_queues_nothing(
    program: Program, people: tuple[Actor, Actor], django_capture_on_commit_callbacks: Any
) -> None:
    officer, _supervisor = people
    household = make_household(program)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.agreement_create(
                    actor=officer,
                    household=household.pk,
                    signed_on=date.today(),
                    coca_ha_committed="1",
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert stored(household).stage == Stage.ENROLLED


def test_review_and_merge_queue_recomputes(
    program: Program, people: tuple[Actor, Actor], django_capture_on_commit_callbacks: Any
) -> None:
    _officer, supervisor = people
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date.today() - timedelta(days=30)],
        ),
    )
    engine.recompute_households([household.pk])
    assert stored(household).stage == Stage.COMMITTED
    with django_capture_on_commit_callbacks(execute=True):
        services.household_transition(
            actor=supervisor, household=household, to="inactive", reason="Se mudó"
        )
    row = stored(household)
    assert (row.status, row.stage) == (HouseholdStatus.INACTIVE, Stage.ENROLLED)
    assert StageChange.objects.filter(household=household).last().reason == "not_active"  # type: ignore[union-attr]


# --- the sweep ----------------------------------------------------------------------------------


def _population(program: Program, n: int = 23) -> list[Any]:
    ids = []
    for i, (_name, case, _stage, _why) in enumerate(CASES * 2):
        if i >= n:
            break
        ids.append(make_household(program, case).pk)
    return ids


def test_sweep_covers_every_household_once_and_reruns_write_nothing(program: Program) -> None:
    ids = _population(program)
    run = run_all(today=TODAY, chunk_size=5)
    assert run.status == SweepStatus.DONE
    assert run.ranges_total == run.ranges_done == 5  # 23 households, 5 a range
    assert run.households == len(ids)
    ranges = list(SweepRange.objects.filter(run=run).order_by("lo"))
    assert ranges[0].lo == engine.MIN_UUID and ranges[-1].hi == engine.MAX_UUID
    for left, right in itertools.pairwise(ranges):
        assert right.lo.int == left.hi.int + 1  # contiguous, no gap, no overlap
    changes = StageChange.objects.count()
    # ``changes`` counts households moved; the ledger has a row per rung they reached.
    assert StageChange.objects.values("household").distinct().count() == run.changes > 0
    assert changes >= run.changes
    alerts = Alert.objects.count()
    # A second sweep of the same day (and a rerun of a done range) writes nothing new.
    rerun = run_all(today=TODAY, chunk_size=5)
    assert rerun.pk != run.pk and rerun.changes == 0
    assert run_range(ranges[0].pk)["skipped"] is True
    assert StageChange.objects.count() == changes
    assert Alert.objects.count() == alerts


def test_planning_again_resumes_an_unfinished_sweep(program: Program) -> None:
    _population(program, 12)
    with transaction.atomic():
        # Queue nothing: on_commit callbacks of the test transaction never run.
        run = plan(today=TODAY, chunk_size=5)
    first = SweepRange.objects.filter(run=run).order_by("lo").first()
    assert first is not None
    run_range(first.pk)
    run.refresh_from_db()
    assert (run.status, run.ranges_done, run.ranges_total) == (SweepStatus.RUNNING, 1, 3)
    resumed = run_all(today=TODAY, chunk_size=5)
    assert resumed.pk == run.pk
    assert (resumed.status, resumed.ranges_done) == (SweepStatus.DONE, 3)
    assert resumed.progress == 100
    assert SweepRun.objects.count() == 1
    assert resumed.households == 12


def test_a_range_failing_before_its_commit_leaves_nothing_done(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``before_range_commit`` seam (what the worker-kill test slows down) runs inside the
    range's transaction: a range dying there leaves no stage change and the range to redo."""
    from farmers.transition import sweep

    _population(program, 6)
    with transaction.atomic():
        run = plan(today=TODAY, chunk_size=10)
    seen: list[int] = []

    def die(range_id: int) -> None:
        seen.append(range_id)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sweep, "before_range_commit", die)
    only = SweepRange.objects.get(run=run)
    with pytest.raises(RuntimeError):
        run_range(only.pk)
    assert seen == [only.pk]
    assert StageChange.objects.count() == 0
    assert SweepRange.objects.get(pk=only.pk).status != SweepStatus.DONE
    monkeypatch.undo()
    assert run_range(only.pk)["households"] == 6
    assert StageChange.objects.count() > 0


def test_plan_sweep_task_runs_the_sweep(
    program: Program, django_capture_on_commit_callbacks: Any
) -> None:
    from farmers.tasks import plan_sweep

    _population(program, 6)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = plan_sweep.delay(TODAY.isoformat(), 4).get()
    run = SweepRun.objects.get(pk=run_id)
    assert (run.status, run.ranges_done, run.households) == (SweepStatus.DONE, 2, 6)


def test_run_periodic_runs_the_registered_beat_tasks(
    program: Program, django_capture_on_commit_callbacks: Any
) -> None:
    _population(program, 3)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", stdout=out)
    text = out.getvalue()
    assert "transition-nightly-sweep" in text
    assert SweepRun.objects.get().status == SweepStatus.DONE
    out = io.StringIO()
    call_command("run_periodic", "--only", "transition-nightly-sweep", "--list", stdout=out)
    assert "farmers.tasks.plan_sweep" in out.getvalue()


def test_run_periodic_keeps_the_schedule_order_and_skips() -> None:
    out = io.StringIO()
    call_command("run_periodic", "--list", stdout=out)
    names = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert names.index("transition-nightly-sweep") < names.index("annual-report-rows")
    out = io.StringIO()
    call_command("run_periodic", "--list", "--skip", "annual-report-rows", stdout=out)
    assert "annual-report-rows" not in out.getvalue()
    assert "transition-nightly-sweep" in out.getvalue()


def test_run_periodic_rejects_an_unknown_name() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_periodic", "--only", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("run_periodic", "--skip", "nope", stdout=io.StringIO())


def test_unconfirmed_visits_are_not_evidence(program: Program) -> None:
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None, registered_on=date(2023, 1, 10), agreements=[date(2026, 1, 1)]
        ),
    )
    Verification.objects.create(
        household=household,
        visited_on=date(2026, 3, 1),
        method="field_visit",
        coca_ha=Decimal("0"),
        status=VerificationStatus.PENDING,
    )
    engine.recompute_households([household.pk], today=TODAY)
    assert stored(household).stage == Stage.COMMITTED
    assert engine.recompute_households([uuid.uuid4()], today=TODAY) == 0


def test_benchmark_commands_seed_evidence_and_sweep(program: Program) -> None:
    for _ in range(30):
        make_household(program)
    out = io.StringIO()
    call_command("seed_transition_evidence", "--today", TODAY.isoformat(), stdout=out)
    assert "agreements" in out.getvalue()
    assert Household.objects.filter(agreements__isnull=False).distinct().count() > 10
    again = io.StringIO()
    call_command("seed_transition_evidence", stdout=again)  # households with agreements skipped
    assert again.getvalue().startswith("Added 0 agreements")
    out = io.StringIO()
    call_command(
        "benchmark_sweep",
        "--workers",
        "1",
        "--chunk-size",
        "7",
        "--today",
        TODAY.isoformat(),
        stdout=out,
    )
    text = out.getvalue()
    # Two sweeps on consecutive days; each reports the ledger rows it wrote.
    assert "sweep 1 (2026-11-28): 30 households" in text
    assert "sweep 2 (2026-11-29): 30 households" in text
    changes = [int(n.replace(",", "")) for n in re.findall(r"; ([\d,]+) stage changes", text)]
    assert len(changes) == 2 and changes[0] > 0
    assert StageChange.objects.count() == sum(changes)
    rerun = io.StringIO()
    call_command(
        "benchmark_sweep", "--workers", "1", "--runs", "1", "--today", "2026-11-29", stdout=rerun
    )
    assert "; 0 stage changes, 0 alerts raised" in rerun.getvalue()  # a same-day rerun


def test_admin_shows_sweeps_ledger_and_stage_history(program: Program, client: Any) -> None:
    from django.contrib.auth import get_user_model

    ids = _population(program, 6)
    run_all(today=TODAY, chunk_size=4)
    root = get_user_model().objects.create_superuser("raiz", "raiz@example.org", "clave-segura")
    client.force_login(root)
    page = client.get("/admin/farmers/sweeprun/")
    assert page.status_code == 200 and "100 %" in page.content.decode()
    assert client.get("/admin/farmers/stagechange/").status_code == 200
    moved = StageChange.objects.first()
    assert moved is not None
    detail = client.get(f"/admin/farmers/household/{moved.household_id}/change/")
    assert detail.status_code == 200
    # The reason in words, never the engine's code.
    assert escape(reason_label(moved.reason)) in detail.content.decode()
    assert f">{moved.reason}<" not in detail.content.decode()
    assert client.get("/admin/farmers/sweeprun/add/").status_code == 403
    assert len(ids) == 6


def test_sweep_batches_reach_providers_as_id_ranges(program: Program) -> None:
    """A sweep range hands providers its bounds (``batch_q`` filters by range, not by thousands
    of ids); a recompute's list of ids stays an ``IN`` filter. Both see the same facts."""
    seen: list[Any] = []

    def spy(household_ids: Any, as_of: date) -> list[Fact]:
        seen.append(household_ids)
        return []

    ids = _batch(program, 3)
    saved = evidence_module.providers()
    evidence_module.register_provider("spy", spy)
    try:
        engine.sweep_range(engine.MIN_UUID, engine.MAX_UUID, TODAY)
        engine.recompute_households(ids, today=TODAY)
    finally:
        evidence_module._providers.clear()
        evidence_module._providers.update(saved)
    sweep_batch, recompute_batch = seen
    assert sorted(sweep_batch) == sorted(ids) == sorted(recompute_batch)
    range_q = evidence_module.batch_q(sweep_batch)
    assert dict(range_q.children) == {  # type: ignore[arg-type]
        "household_id__gte": engine.MIN_UUID,
        "household_id__lte": engine.MAX_UUID,
    }
    assert dict(evidence_module.batch_q(recompute_batch).children) == {  # type: ignore[arg-type]
        "household_id__in": list(recompute_batch)
    }


@pytest.mark.parametrize(
    ("crops", "expected"),
    [
        ([{"crop": "cacao", "ha": "1.20"}, {"crop": "coffee", "ha": "0.8"}], Decimal("2.00")),
        ('[{"crop": "cacao", "ha": "1.5"}]', Decimal("1.5")),  # jsonb read as text
        ([{"crop": "cacao", "ha": 2}, {"crop": "coffee", "ha": 0.5}], Decimal("2.5")),
        ([{"crop": "cacao", "ha": "abc"}, {"crop": "coffee", "ha": "1"}], Decimal("1")),
        ([{"crop": "cacao", "ha": "-3"}, {"crop": "cacao", "ha": "NaN"}], Decimal("0")),
        (["cacao", None, {"crop": "cacao"}], Decimal("0")),
        ([], Decimal("0")),
        (None, Decimal("0")),
    ],
)
def test_licit_hectares_of_a_visit_count_only_valid_entries(crops: Any, expected: Decimal) -> None:
    assert Thresholds().licit_ha(crops) == expected


def test_stored_milestones_compare_equal_only_when_they_are(program: Program) -> None:
    """Milestones are compared as PostgreSQL prints them (no decoding in the common case); a
    real difference, or text the fast printer cannot produce, falls back to comparing dicts."""
    milestones = {
        "enrolled": "2024-01-01",
        "licit_production": "2025-03-01",
        "committed": "2024-02-01",
        "coca_free": "2024-06-01",
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::jsonb::text", [json.dumps(milestones)])
            printed = cursor.fetchone()[0]
        assert engine._jsonb_text(milestones) == printed
    else:
        printed = engine._jsonb_text(milestones)
    assert engine._same_milestones(printed, dict(milestones))
    assert not engine._same_milestones(printed, {**milestones, "coca_free": "2024-06-02"})
    assert engine._same_milestones(milestones, dict(milestones))  # a dict, as SQLite reads it
    odd = {"enrolled": 'a"b\\c', "zz": "x"}
    assert engine._same_milestones(json.dumps(odd), odd)


def test_a_full_withdrawal_of_consent_is_no_consent_for_the_enrolment_rule(
    program: Program, people: tuple[Actor, Actor], django_capture_on_commit_callbacks: Any
) -> None:
    """Withdrawing every purpose (a consent version with none) leaves the family without
    consent for the engine, as one that never signed; narrowing keeps it; consenting again
    brings the stage back. Each change recomputes the stage after its commit."""
    officer, _supervisor = people
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None, registered_on=date(2023, 1, 10), agreements=[date(2023, 2, 1)]
        ),
    )
    engine.recompute_households([household.pk])
    assert stored(household).stage == Stage.COMMITTED

    def consent(purposes: list[str]) -> Household:
        with django_capture_on_commit_callbacks(execute=True):
            services.consent_record(
                actor=officer, household=household.pk, purposes=purposes, reason="la familia"
            )
        return stored(household)

    assert consent(["registry", "statistics"]).stage == Stage.COMMITTED
    assert consent(["registry"]).stage == Stage.COMMITTED  # narrowed: still consent
    withdrawn = consent([])
    assert withdrawn.stage == Stage.ENROLLED
    last = StageChange.objects.filter(household=household).last()
    assert last is not None
    assert (last.from_stage, last.to_stage) == (Stage.COMMITTED, Stage.ENROLLED)
    # The engine's own evidence read says so too (no consent, not "any consent row").
    batch = engine.read_evidence(Q(pk=household.pk), Q(household_id=household.pk), TODAY)
    assert batch.consents == set()
    assert consent(["registry"]).stage == Stage.COMMITTED


def test_engine_alerts_name_the_household_and_their_dates_and_the_admin_says_details_in_words(
    program: Program, client: Any
) -> None:
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2024, 1, 1)],
            visits=[Visit(date(2024, 3, 1), Decimal("0"), Decimal("2"))],
        ),
    )
    engine.recompute_households([household.pk], today=date(2025, 1, 1))
    engine.recompute_households([household.pk], today=TODAY)
    expiry = Alert.objects.get(kind=AlertKind.EVIDENCE_EXPIRY, household_id=household.pk)
    # The code (never a name: partners read alerts too) and the date as dd/mm/aaaa.
    assert expiry.message.startswith(f"{household.code}: ")
    assert "01/09/2025" in expiry.message and "2025-09-01" not in expiry.message
    assert "Quispe" not in expiry.message
    visit_due = Alert.objects.filter(kind=AlertKind.VISIT_DUE, household_id=household.pk)
    for alert in visit_due:
        assert alert.due_on is not None and alert.due_on.strftime("%d/%m/%Y") in alert.message

    client.force_login(UserFactory.create(username="raiz", is_superuser=True, is_staff=True))
    page = client.get(f"/admin/registry/alert/{expiry.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    # The household by its code and its head's name (this reader may see them), and the
    # details as labelled words: the stage and the reason by their labels, no JSON.
    assert f"{household.code} · Juana Quispe Huamán" in escape(text) or (
        f"{household.code} · Juana Quispe Huamán" in text
    )
    details = text[text.index("field-details_shown") :]
    details = details[: details.index("</div>\n")]
    assert "{" not in details and "visit_expired" not in details and '"stage"' not in details
    assert str(reason_label("visit_expired")) in details
