"""Dates (issue 15 point 2): enrolment is the consent's date (or an import's); evidence dated
before it is refused (400 ``before_enrolment``, nothing written); no milestone precedes it; the
ledger writes one row per rung reached, and replaying it gives the stored stage;
``rebuild_transition_ledger`` rebuilds old data, idempotently."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from farmers import services
from farmers.importing import import_households, template_csv
from farmers.models import Agreement, Household, StageChange, Support, Verification
from farmers.transition import engine
from farmers.transition.ledger import steps
from farmers.transition.rebuild import replay
from farmers.transition.rules import (
    LADDER,
    RANK,
    HouseholdEvidence,
    Thresholds,
    Visit,
    compute,
)
from registry.actors import Actor
from registry.models import Program
from tests.farmers.conftest import WRITE, household_payload
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.transition_helpers import make_household

ENROLLED = date(2025, 11, 2)  # the consent date of ``household_payload``
BEFORE = ENROLLED - timedelta(days=1)
TODAY = date(2026, 11, 28)
SYSTEM = Actor(unrestricted=True)


@pytest.fixture
def writer(client_for: Callable[..., Any]) -> Any:
    return client_for(WRITE)


@pytest.fixture
def household(writer: Any) -> dict[str, Any]:
    response = writer.post("/api/v1/households/", household_payload(), format="json")
    assert response.status_code == 201, response.content
    give_plot(response.json()["id"])
    return dict(response.json())


# --- evidence before enrolment is refused -------------------------------------------------------

CASES = [
    (
        "/api/v1/agreements/",
        Agreement,
        "signed_on",
        {"coca_ha_committed": "0.5"},
    ),
    (
        "/api/v1/verifications/",
        Verification,
        "visited_on",
        {"method": "field_visit", "coca_ha": "0.2", "location": {"lat": -12.44, "lon": -73.98}},
    ),
]


@pytest.mark.parametrize(("url", "model", "attr", "extra"), CASES, ids=["agreement", "visit"])
@pytest.mark.parametrize(
    ("day", "accepted"), [(BEFORE, False), (ENROLLED, True), (ENROLLED + timedelta(1), True)]
)
def test_evidence_before_enrolment_is_refused_through_the_api(
    writer: Any,
    household: dict[str, Any],
    url: str,
    model: Any,
    attr: str,
    extra: dict[str, Any],
    day: date,
    accepted: bool,
) -> None:
    before = model.objects.count()
    body = {"household": household["id"], attr: day.isoformat(), **extra}
    response = writer.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    if accepted:
        assert response.status_code == 201, response.content
        assert model.objects.count() == before + 1
        return
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["attr"], error["code"]) == (attr, "before_enrolment")
    assert error["detail"] == "La fecha es anterior a la inscripción de la familia, el 02/11/2025."
    assert model.objects.count() == before  # nothing written
    english = writer.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"][0]["detail"] == (
        "The date is before the family's enrolment on 02/11/2025."
    )


@pytest.mark.parametrize(("day", "accepted"), [(BEFORE, False), (ENROLLED, True)])
def test_support_before_enrolment_is_refused(
    household: dict[str, Any], day: date, accepted: bool
) -> None:
    """Support is recorded in the admin (no API endpoint): the service refuses the date."""
    kwargs = {"household": household["id"], "kind": "inputs", "cost_pen": "10", "given_on": day}
    if accepted:
        services.support_record(actor=SYSTEM, **kwargs)
        assert Support.objects.count() == 1
        return
    with pytest.raises(Exception) as refused:
        services.support_record(actor=SYSTEM, **kwargs)
    assert refused.value.error_dict["given_on"][0].code == "before_enrolment"  # type: ignore[attr-defined]
    assert Support.objects.count() == 0


def test_an_import_with_an_earlier_enrolment_accepts_earlier_evidence(
    program: Program, writer: Any, partner: Any
) -> None:
    """The template's family enrolled on paper on 01/08/2024, before its consent (15/03/2025)."""
    report = import_households(
        actor=SYSTEM, source=template_csv(), filename="plantilla.csv", dry_run=False
    )
    assert report.households_created == 1, report
    imported = Household.objects.get()
    assert imported.enrolled_on == date(2024, 8, 1)
    give_plot(str(imported.pk))
    body = {"household": str(imported.pk), "signed_on": "2024-09-01", "coca_ha_committed": "1"}
    assert writer.post("/api/v1/agreements/", body, format="json").status_code == 201
    body["signed_on"] = "2024-07-31"
    body["coca_ha_committed"] = "2"
    refused = writer.post("/api/v1/agreements/", body, format="json")
    assert refused.json()["errors"][0]["code"] == "before_enrolment"


def test_registration_enrols_on_the_consent_date(household: dict[str, Any]) -> None:
    stored = Household.objects.get(pk=household["id"])
    assert stored.enrolled_on == ENROLLED


# --- rules: no milestone before enrolment, ledger replay ----------------------------------------

day_offsets = st.integers(min_value=-400, max_value=1400)
hectares = st.sampled_from([Decimal("0"), Decimal("0"), Decimal("0.5"), Decimal("1.5")])
evidence_strategy = st.builds(
    lambda enrol, agreements, visits, active: HouseholdEvidence(
        "h",
        date(2022, 1, 1) + timedelta(days=enrol),
        active,
        True,
        [date(2022, 1, 1) + timedelta(days=d) for d in agreements],
        [Visit(date(2022, 1, 1) + timedelta(days=d), coca, licit) for d, coca, licit in visits],
    ),
    st.integers(min_value=0, max_value=900),
    st.lists(day_offsets, max_size=3),
    st.lists(
        st.tuples(
            day_offsets,
            st.sampled_from([Decimal("0"), Decimal("0"), Decimal("0.3")]),
            hectares,
        ),
        max_size=5,
    ),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(evidence_strategy, st.integers(min_value=0, max_value=1500))
def test_no_milestone_precedes_enrolment_and_the_ledger_replays(
    evidence: HouseholdEvidence, day: int
) -> None:
    today = date(2022, 1, 1) + timedelta(days=day)
    if today < evidence.registered_on:
        return
    result = compute(evidence, today, Thresholds())
    enrolled = result.milestones["enrolled"]
    assert enrolled == evidence.registered_on.isoformat()
    assert all(on >= enrolled for on in result.milestones.values())
    rungs = [result.milestones[r] for r in LADDER if r in result.milestones]
    assert rungs == sorted(rungs)  # no rung before the one below it
    assert result.since >= evidence.registered_on
    ledger, final = replay(evidence, today, Thresholds())
    stage = "enrolled"
    for step in ledger:
        assert step.from_stage == stage
        assert step.effective_on >= evidence.registered_on
        stage = step.to_stage
    assert stage == final.stage == result.stage


def test_a_jump_writes_one_row_per_rung_with_its_milestone() -> None:
    evidence = HouseholdEvidence(
        "h",
        date(2025, 1, 10),
        agreements=[date(2024, 6, 1)],  # before enrolment: counts from the enrolment day
        visits=[
            Visit(date(2025, 6, 1), Decimal("0"), Decimal("0.5")),
            Visit(date(2026, 2, 1), Decimal("0"), Decimal("1.5")),
        ],
    )
    result = compute(evidence, TODAY, Thresholds())
    assert result.stage == "licit_production"
    assert result.milestones["committed"] == "2025-01-10"
    assert [
        (s.from_stage, s.to_stage, s.effective_on, s.reason) for s in steps("enrolled", result)
    ] == [
        ("enrolled", "committed", date(2025, 1, 10), "agreement_signed"),
        ("committed", "coca_free", date(2025, 6, 1), "coca_free_visit"),
        ("coca_free", "licit_production", date(2026, 2, 1), "licit_crops_confirmed"),
    ]
    assert steps("licit_production", result) == []
    dropped = compute(evidence, date(2028, 1, 1), Thresholds())
    assert len(steps("licit_production", dropped)) == 1  # a drop is one row


def _random_population(program: Program, n: int, seed: int) -> list[Household]:
    rng = random.Random(seed)
    households = []
    for _ in range(n):
        enrolled = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
        case = HouseholdEvidence(
            None,
            enrolled,
            agreements=[enrolled + timedelta(days=rng.randrange(0, 300))],
            visits=[
                Visit(
                    enrolled + timedelta(days=rng.randrange(0, 900)),
                    rng.choice([Decimal("0"), Decimal("0"), Decimal("0.4")]),
                    rng.choice([Decimal("0.5"), Decimal("1.5")]),
                )
                for _ in range(rng.randrange(0, 4))
            ],
        )
        households.append(make_household(program, case))
    return households


def _replayed(household_id: Any) -> str:
    stage = "enrolled"
    for from_stage, to_stage in StageChange.objects.filter(household_id=household_id).values_list(
        "from_stage", "to_stage"
    ):
        assert from_stage == stage
        stage = to_stage
    return stage


def test_the_ledger_replayed_gives_the_stored_stage_for_every_household(program: Program) -> None:
    """Randomized (fixed seed): the engine run on successive days, then every household's
    ledger replayed ends at its stored stage, and no row precedes enrolment."""
    households = _random_population(program, 25, seed=15)
    ids = [h.pk for h in households]
    for today in (date(2024, 6, 1), date(2025, 3, 1), date(2026, 1, 1), TODAY, date(2028, 6, 1)):
        engine.recompute_households(ids, today=today)
    for stored in Household.objects.filter(pk__in=ids):
        assert _replayed(stored.pk) == stored.stage
        assert all(on >= stored.milestones["enrolled"] for on in stored.milestones.values())
        first = StageChange.objects.filter(household=stored).order_by("effective_on").first()
        enrolled = date.fromisoformat(stored.milestones["enrolled"])
        assert first is None or first.effective_on >= enrolled


# --- rebuild_transition_ledger --------------------------------------------------------------


def test_rebuild_command_rebuilds_per_rung_and_is_idempotent(program: Program) -> None:
    households = _random_population(program, 12, seed=7)
    ids = [h.pk for h in households]
    engine.recompute_households(ids, today=TODAY)
    # Data as it was before issue 15: one net-jump row, no enrolment date.
    StageChange.objects.all().delete()
    Household.objects.update(enrolled_on=None)
    for h in Household.objects.exclude(stage="enrolled"):
        StageChange.objects.create(
            household=h,
            from_stage="enrolled",
            to_stage=h.stage,
            effective_on=h.stage_since,
            reason="old",
            district_id=h.district_id,
            program_id=h.program_id,
        )
    out = io.StringIO()
    call_command(
        "rebuild_transition_ledger", "--today", TODAY.isoformat(), "--chunk-size", "5", stdout=out
    )
    assert "12/12 households" in out.getvalue() and "households/s" in out.getvalue()
    assert not StageChange.objects.filter(reason="old").exists()
    for stored in Household.objects.all():
        assert stored.enrolled_on is not None  # from the consent
        assert _replayed(stored.pk) == stored.stage
        rows = list(StageChange.objects.filter(household=stored).order_by("id"))
        for row in rows:
            if row.to_stage in RANK and row.from_stage in RANK:
                assert RANK[row.to_stage] == RANK[row.from_stage] + 1 or (
                    RANK[row.to_stage] < RANK[row.from_stage]
                )
    # The nightly engine agrees with the rebuilt state: nothing to write.
    assert engine.recompute_households(ids, today=TODAY) == 0
    before = list(StageChange.objects.order_by("id").values_list("id", flat=True))
    again = io.StringIO()
    call_command("rebuild_transition_ledger", "--today", TODAY.isoformat(), stdout=again)
    assert "0 rewritten, 0 ledger rows written" in again.getvalue()
    assert list(StageChange.objects.order_by("id").values_list("id", flat=True)) == before


def test_rebuild_of_an_empty_registry_is_a_no_op(db: Any) -> None:
    out = io.StringIO()
    call_command("rebuild_transition_ledger", stdout=out)
    assert "Done: 0 households" in out.getvalue()


@pytest.mark.django_db
def test_after_seed_demo_no_milestone_goes_back_in_time(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--force", stdout=io.StringIO())
    households = list(Household.objects.all())
    assert households
    for stored in households:
        milestones = stored.milestones
        enrolled = milestones["enrolled"]
        assert all(on >= enrolled for on in milestones.values()), stored.code
        rungs = [milestones[r] for r in LADDER if r in milestones]
        assert rungs == sorted(rungs), stored.code
        assert _replayed(stored.pk) == stored.stage, stored.code
