"""The stage rules (DESIGN.md §6) as a pure function: table-driven cases for every stage and
every way out of it, and hypothesis properties (order, future evidence, new coca findings)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from farmers.choices import Stage
from farmers.transition.evidence import (
    DELIVERY_ACCEPTED,
    EXCLUSION_CONFIRMED,
    EXCLUSION_DISMISSED,
    RELAPSE_OVERTURNED,
    TENURE_ACCEPTED,
    TITLE_APPLIED,
    TITLE_REGISTERED,
    Fact,
)
from farmers.transition.rules import (
    RANK,
    TENURE,
    HouseholdEvidence,
    Reason,
    Thresholds,
    Visit,
    add_months,
    compute,
)

HID = uuid.UUID(int=7)
TODAY = date(2026, 11, 28)
TH = Thresholds()


def d(text: str) -> date:
    return date.fromisoformat(text)


def visit(on: str, coca: str = "0", licit: str = "0", ref: str = "") -> Visit:
    return Visit(d(on), Decimal(coca), Decimal(licit), ref or on)


def title(on: str) -> Fact:
    return Fact(HID, TITLE_REGISTERED, d(on), ref="t1")


def tenure(on: str) -> Fact:
    """Other secure tenure the programme accepts (the extension point of the tenure track)."""
    return Fact(HID, TENURE_ACCEPTED, d(on), ref="c1")


def delivery(on: str, value: str = "1000", status: str = "active") -> Fact:
    return Fact(HID, DELIVERY_ACCEPTED, d(on), ref=on, status=status, value_pen=Decimal(value))


def evidence(**kwargs: object) -> HouseholdEvidence:
    base: dict[str, object] = {"household_id": HID, "registered_on": d("2023-01-10")}
    base.update(kwargs)
    return HouseholdEvidence(**base)  # type: ignore[arg-type]


def licit(*facts: Fact) -> HouseholdEvidence:
    """An agreement and a coca-free visit with 1.2 ha of licit crops (licit_production), plus
    ``facts``."""
    return evidence(
        agreements=[d("2026-01-01")], visits=[visit("2026-03-01", licit="1.2")], facts=list(facts)
    )


def decision(kind: str, on: str, relapse_on: str) -> Fact:
    """Programme staff's decision (on ``on``) on the exclusion proposed at ``relapse_on``."""
    return Fact(HID, kind, d(on), ref=relapse_on)


TWO_RELAPSES_AGREEMENTS = [d("2024-01-01"), d("2024-09-01")]
TWO_RELAPSES = [
    visit("2024-03-01"),
    visit("2024-08-01", coca="0.3"),
    visit("2025-01-01"),
    visit("2025-06-01", coca="1"),
]

GRADUATE_VISITS = [visit("2024-03-01", licit="1.5"), visit("2025-06-01", licit="2")]
GRADUATE: dict[str, object] = {
    "agreements": [d("2023-02-01")],
    "visits": GRADUATE_VISITS,
    "facts": [
        title("2024-05-01"),
        delivery("2025-12-01", "4000"),
        delivery("2026-06-01", "3000"),
    ],
}

GRADUATE_FACTS_NO_TITLE = [f for f in GRADUATE["facts"] if f.kind != TITLE_REGISTERED]  # type: ignore[attr-defined]

# (case, evidence, expected stage, expected reason / held_back)
CASES = [
    ("enrolled: just registered", evidence(), Stage.ENROLLED, Reason.NO_AGREEMENT),
    (
        "enrolled: pending review despite an agreement",
        evidence(active=False, agreements=[d("2024-01-01")]),
        Stage.ENROLLED,
        Reason.NOT_ACTIVE,
    ),
    (
        "enrolled: no consent",
        evidence(consent=False, agreements=[d("2024-01-01")]),
        Stage.ENROLLED,
        Reason.NO_CONSENT,
    ),
    (
        "committed: agreement, no visit yet",
        evidence(agreements=[d("2026-01-01")]),
        Stage.COMMITTED,
        Reason.NO_VISIT,
    ),
    (
        "committed: coca seen before ever being coca-free (no relapse)",
        evidence(agreements=[d("2026-01-01")], visits=[visit("2026-03-01", coca="0.5")]),
        Stage.COMMITTED,
        Reason.COCA_FOUND,
    ),
    (
        "committed: the only coca-free visit predates the agreement",
        evidence(agreements=[d("2026-05-01")], visits=[visit("2026-03-01")]),
        Stage.COMMITTED,
        Reason.NO_VISIT,
    ),
    (
        "coca_free: recent coca-free visit after the agreement",
        evidence(agreements=[d("2026-01-01")], visits=[visit("2026-03-01", licit="0.5")]),
        Stage.COCA_FREE,
        Reason.LICIT_BELOW_MINIMUM,
    ),
    (
        "way out of coca_free: visit expired (18 months)",
        evidence(agreements=[d("2024-01-01")], visits=[visit("2024-03-01", licit="3")]),
        Stage.COMMITTED,
        Reason.VISIT_EXPIRED,
    ),
    (
        "licit_production: 1 ha of licit crops confirmed",
        evidence(agreements=[d("2026-01-01")], visits=[visit("2026-03-01", licit="1.0")]),
        Stage.LICIT_PRODUCTION,
        Reason.NO_DELIVERY,
    ),
    (
        "way out of licit_production: licit crops fell below the minimum",
        evidence(
            agreements=[d("2025-01-01")],
            visits=[visit("2025-03-01", licit="2"), visit("2026-03-01", licit="0.4")],
        ),
        Stage.COCA_FREE,
        Reason.LICIT_BELOW_MINIMUM,
    ),
    (
        "a registered title is not a rung: licit production with a title, no delivery",
        licit(title("2026-04-01")),
        Stage.LICIT_PRODUCTION,
        Reason.NO_DELIVERY,
    ),
    (
        "a title does not lift a family without licit production (stages are cumulative)",
        evidence(
            agreements=[d("2026-01-01")], visits=[visit("2026-03-01")], facts=[title("2026-04-01")]
        ),
        Stage.COCA_FREE,
        Reason.LICIT_BELOW_MINIMUM,
    ),
    (
        "market_linked: an accepted delivery in the last 12 months",
        licit(title("2026-04-01"), delivery("2026-06-01")),
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
    ),
    (
        "market_linked: a family selling with accepted deliveries and no title",
        licit(delivery("2026-06-01"), delivery("2026-09-01", "2111.90")),
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
    ),
    (
        "market_linked: a delivery of a completed contract counts (no title)",
        licit(delivery("2026-06-01", status="completed")),
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
    ),
    (
        "not market_linked without licit production, deliveries or not",
        evidence(
            agreements=[d("2026-01-01")],
            visits=[visit("2026-03-01", licit="0.5")],
            facts=[delivery("2026-06-01")],
        ),
        Stage.COCA_FREE,
        Reason.LICIT_BELOW_MINIMUM,
    ),
    (
        "way out of market_linked: no delivery for 12 months (lapse of market link)",
        licit(title("2026-04-01"), delivery("2025-10-01")),
        Stage.LICIT_PRODUCTION,
        Reason.MARKET_LINK_LAPSED,
    ),
    (
        "a delivery accepted before its contract was terminated still counts (issue 16)",
        licit(title("2026-04-01"), delivery("2026-06-01", status="terminated")),
        Stage.MARKET_LINKED,
        Reason.DELIVERY_ACCEPTED,
    ),
    (
        "a delivery accepted before its contract was suspended still counts (issue 16)",
        licit(title("2026-04-01"), delivery("2026-06-01", status="suspended")),
        Stage.MARKET_LINKED,
        Reason.DELIVERY_ACCEPTED,
    ),
    ("graduated: 24 months coca-free and income", evidence(**GRADUATE), Stage.GRADUATED, ""),
    (
        "graduated without a title (the programme does not require tenure by default)",
        evidence(**{**GRADUATE, "facts": GRADUATE_FACTS_NO_TITLE}),
        Stage.GRADUATED,
        "",
    ),
    (
        "not graduated: income below the threshold",
        evidence(**{**GRADUATE, "facts": [title("2024-05-01"), delivery("2026-06-01", "500")]}),
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
    ),
    (
        "not graduated: the two visits are less than 12 months apart",
        evidence(
            **{
                **GRADUATE,
                "visits": [visit("2024-11-01", licit="2"), visit("2025-06-01", licit="2")],
            }
        ),
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
    ),
    (
        "way out of graduated: visit expired",
        evidence(
            **{
                **GRADUATE,
                "visits": [visit("2023-03-01", licit="2"), visit("2024-05-01", licit="2")],
            }
        ),
        Stage.COMMITTED,
        Reason.VISIT_EXPIRED,
    ),
    (
        "way out of graduated: relapse",
        evidence(**{**GRADUATE, "visits": [*GRADUATE_VISITS, visit("2026-09-01", coca="0.2")]}),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "relapsed: coca found after coca_free",
        evidence(
            agreements=[d("2025-01-01")],
            visits=[visit("2025-03-01"), visit("2026-02-01", coca="0.3")],
        ),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "still relapsed: a coca-free visit without a new agreement",
        evidence(
            agreements=[d("2025-01-01")],
            visits=[visit("2025-03-01"), visit("2025-08-01", coca="0.3"), visit("2026-02-01")],
        ),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "way out of relapsed: a new agreement and then a coca-free visit",
        evidence(
            agreements=[d("2025-01-01"), d("2025-09-01")],
            visits=[visit("2025-03-01"), visit("2025-08-01", coca="0.3"), visit("2026-02-01")],
        ),
        Stage.COCA_FREE,
        Reason.LICIT_BELOW_MINIMUM,
    ),
    (
        "the second relapse proposes an exclusion: still relapsed until staff decide",
        evidence(agreements=TWO_RELAPSES_AGREEMENTS, visits=TWO_RELAPSES),
        Stage.RELAPSED,
        Reason.EXCLUSION_PROPOSED,
    ),
    (
        "excluded: the second relapse, once programme staff confirm the proposal",
        evidence(
            agreements=TWO_RELAPSES_AGREEMENTS,
            visits=TWO_RELAPSES,
            facts=[decision(EXCLUSION_CONFIRMED, "2025-07-01", "2025-06-01")],
        ),
        Stage.EXCLUDED,
        Reason.EXCLUDED,
    ),
    (
        "a dismissed proposal is an ordinary relapse",
        evidence(
            agreements=TWO_RELAPSES_AGREEMENTS,
            visits=TWO_RELAPSES,
            facts=[decision(EXCLUSION_DISMISSED, "2025-07-01", "2025-06-01")],
        ),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "a dismissed proposal: the way out of relapsed is open again",
        evidence(
            agreements=[*TWO_RELAPSES_AGREEMENTS, d("2025-08-01")],
            visits=[*TWO_RELAPSES, visit("2025-10-01")],
            facts=[decision(EXCLUSION_DISMISSED, "2025-07-01", "2025-06-01")],
        ),
        Stage.COCA_FREE,
        "",
    ),
    (
        "a confirmation of another relapse's proposal decides nothing",
        evidence(
            agreements=TWO_RELAPSES_AGREEMENTS,
            visits=TWO_RELAPSES,
            facts=[decision(EXCLUSION_CONFIRMED, "2025-07-01", "2024-08-01")],
        ),
        Stage.RELAPSED,
        Reason.EXCLUSION_PROPOSED,
    ),
    (
        "an upheld appeal of the relapse: the finding does not count, the stage comes back",
        evidence(
            agreements=[d("2025-01-01")],
            visits=[visit("2025-03-01"), visit("2025-08-01", coca="0.3"), visit("2026-02-01")],
            facts=[decision(RELAPSE_OVERTURNED, "2025-09-01", "2025-08-01")],
        ),
        Stage.COCA_FREE,
        "",
    ),
    (
        "an upheld appeal of the first relapse: the second is no longer the limit",
        evidence(
            agreements=TWO_RELAPSES_AGREEMENTS,
            visits=TWO_RELAPSES,
            facts=[decision(RELAPSE_OVERTURNED, "2024-09-15", "2024-08-01")],
        ),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "an upheld appeal of a confirmed exclusion: back to relapsed",
        evidence(
            agreements=TWO_RELAPSES_AGREEMENTS,
            visits=TWO_RELAPSES,
            facts=[
                decision(EXCLUSION_CONFIRMED, "2025-07-01", "2025-06-01"),
                decision(EXCLUSION_DISMISSED, "2025-08-01", "2025-06-01"),
            ],
        ),
        Stage.RELAPSED,
        Reason.RELAPSE,
    ),
    (
        "excluded is final: a later agreement and coca-free visit change nothing",
        evidence(
            agreements=[*TWO_RELAPSES_AGREEMENTS, d("2025-08-01")],
            visits=[*TWO_RELAPSES, visit("2025-10-01")],
            facts=[decision(EXCLUSION_CONFIRMED, "2025-07-01", "2025-06-01")],
        ),
        Stage.EXCLUDED,
        Reason.EXCLUDED,
    ),
    (
        "way out of any stage: the household is no longer active",
        evidence(active=False, **GRADUATE),
        Stage.ENROLLED,
        Reason.NOT_ACTIVE,
    ),
]


@pytest.mark.parametrize(("name", "case", "stage", "why"), CASES, ids=[c[0] for c in CASES])
def test_stage_table(name: str, case: HouseholdEvidence, stage: str, why: str) -> None:
    result = compute(case, TODAY, TH)
    assert result.stage == stage, name
    if why:
        assert why in (result.reason, result.held_back), (result.reason, result.held_back)
    assert result.since <= TODAY
    assert result.milestones[Stage.ENROLLED] == "2023-01-10"


def test_milestones_give_each_criterion_with_its_date() -> None:
    result = compute(evidence(**GRADUATE), TODAY, TH)
    assert result.milestones == {
        "enrolled": "2023-01-10",
        "committed": "2023-02-01",
        "coca_free": "2024-03-01",
        "licit_production": "2024-03-01",
        "tenure": "2024-05-01",
        "market_linked": "2025-12-01",
        # Income reached 6,000 PEN with the delivery of 2026-06-01 (24 months came earlier).
        "graduated": "2026-06-01",
    }
    assert result.since == d("2026-06-01")
    assert result.reason == Reason.GRADUATION_MET


REQUIRES_TENURE = Thresholds(graduation_requires_tenure=True)

# Graduation and the programme setting ``graduation_requires_tenure``:
# (case, evidence, thresholds, expected stage, held_back, graduated milestone)
GRADUATION_CASES = [
    ("setting off, with title", evidence(**GRADUATE), TH, Stage.GRADUATED, "", "2026-06-01"),
    (
        "setting off, no title",
        evidence(**{**GRADUATE, "facts": GRADUATE_FACTS_NO_TITLE}),
        TH,
        Stage.GRADUATED,
        "",
        "2026-06-01",
    ),
    (
        "setting on, title before the other criteria were met",
        evidence(**GRADUATE),
        REQUIRES_TENURE,
        Stage.GRADUATED,
        "",
        "2026-06-01",
    ),
    (
        "setting on, no title: held back at market_linked for tenure",
        evidence(**{**GRADUATE, "facts": GRADUATE_FACTS_NO_TITLE}),
        REQUIRES_TENURE,
        Stage.MARKET_LINKED,
        Reason.NO_TENURE,
        None,
    ),
    (
        "setting on, title registered last: graduates on the title's date",
        evidence(**{**GRADUATE, "facts": [*GRADUATE_FACTS_NO_TITLE, title("2026-08-15")]}),
        REQUIRES_TENURE,
        Stage.GRADUATED,
        "",
        "2026-08-15",
    ),
    (
        "setting on, other accepted tenure (the extension point) counts like a title",
        evidence(**{**GRADUATE, "facts": [*GRADUATE_FACTS_NO_TITLE, tenure("2025-01-20")]}),
        REQUIRES_TENURE,
        Stage.GRADUATED,
        "",
        "2026-06-01",
    ),
    (
        "setting on, title but income short: still the graduation criteria",
        evidence(**{**GRADUATE, "facts": [title("2024-05-01"), delivery("2026-06-01", "500")]}),
        REQUIRES_TENURE,
        Stage.MARKET_LINKED,
        Reason.GRADUATION_PENDING,
        None,
    ),
    (
        "setting on, title dated after today does not count",
        evidence(**{**GRADUATE, "facts": [*GRADUATE_FACTS_NO_TITLE, title("2026-12-01")]}),
        REQUIRES_TENURE,
        Stage.MARKET_LINKED,
        Reason.NO_TENURE,
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "case", "thresholds", "stage", "held_back", "graduated_on"),
    GRADUATION_CASES,
    ids=[c[0] for c in GRADUATION_CASES],
)
def test_graduation_and_the_tenure_setting(
    name: str,
    case: HouseholdEvidence,
    thresholds: Thresholds,
    stage: str,
    held_back: str,
    graduated_on: str | None,
) -> None:
    result = compute(case, TODAY, thresholds)
    assert result.stage == stage, name
    if held_back:
        assert result.held_back == held_back
    assert result.milestones.get(Stage.GRADUATED) == graduated_on
    assert Stage.MARKET_LINKED in result.milestones  # every case sells: tenure is no gate to it


# The tenure milestone: (case, evidence, expected ``milestones["tenure"]``, expected stage)
TENURE_CASES = [
    ("no tenure evidence", evidence(**{**GRADUATE, "facts": []}), None, Stage.LICIT_PRODUCTION),
    ("a registered title: its date", evidence(facts=[title("2024-05-01")]), "2024-05-01", None),
    (
        "the earliest of several titles",
        evidence(facts=[title("2025-07-01"), title("2024-05-01")]),
        "2024-05-01",
        None,
    ),
    (
        "other secure tenure the programme accepts (tenure_accepted fact)",
        evidence(facts=[tenure("2024-02-01"), title("2024-05-01")]),
        "2024-02-01",
        None,
    ),
    (
        "a title registered before enrolment: held since enrolment",
        evidence(facts=[title("2020-03-01")]),
        "2023-01-10",
        None,
    ),
    ("a title dated after today: not yet", evidence(facts=[title("2026-12-01")]), None, None),
    (
        "tenure is tracked on any rung: enrolled with no agreement",
        evidence(facts=[title("2024-05-01")]),
        "2024-05-01",
        Stage.ENROLLED,
    ),
    (
        "tenure is tracked while relapsed",
        evidence(
            agreements=[d("2025-01-01")],
            visits=[visit("2025-03-01"), visit("2026-02-01", coca="0.3")],
            facts=[title("2025-05-01")],
        ),
        "2025-05-01",
        Stage.RELAPSED,
    ),
    (
        "not while the household is not active (unreviewed evidence)",
        evidence(active=False, facts=[title("2024-05-01")]),
        None,
        Stage.ENROLLED,
    ),
    (
        "a title application is not tenure",
        evidence(facts=[Fact(HID, TITLE_APPLIED, d("2024-05-01"), ref="a1")]),
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "case", "tenure_on", "stage"), TENURE_CASES, ids=[c[0] for c in TENURE_CASES]
)
def test_tenure_milestone(
    name: str, case: HouseholdEvidence, tenure_on: str | None, stage: str | None
) -> None:
    result = compute(case, TODAY, TH)
    assert result.milestones.get(TENURE) == tenure_on, name
    if stage is not None:
        assert result.stage == stage


def test_formalized_is_no_rung_any_more() -> None:
    assert "formalized" not in Stage.values
    assert list(RANK) == [
        "enrolled",
        "committed",
        "coca_free",
        "licit_production",
        "market_linked",
        "graduated",
    ]


def test_change_reason_names_the_expiry_when_a_stage_drops() -> None:
    expired = compute(
        evidence(agreements=[d("2024-01-01")], visits=[visit("2024-03-01", licit="3")]),
        TODAY,
        TH,
    )
    assert expired.change_reason(Stage.LICIT_PRODUCTION) == Reason.VISIT_EXPIRED
    assert expired.change_reason(Stage.ENROLLED) == Reason.AGREEMENT_SIGNED
    assert expired.since == add_months(d("2024-03-01"), 18)
    assert [a.kind for a in expired.alerts_wanted] == ["visit_due", "evidence_expiry"]


def test_thresholds_are_the_programme_s() -> None:
    strict = Thresholds(licit_min_ha=Decimal("2.5"), coca_free_max_age_months=6)
    case = evidence(agreements=[d("2026-01-01")], visits=[visit("2026-03-01", licit="2")])
    assert compute(case, TODAY, TH).stage == Stage.LICIT_PRODUCTION
    assert compute(case, TODAY, strict).stage == Stage.COMMITTED  # visit older than 6 months
    lenient = Thresholds(relapses_before_exclusion=3)
    two = evidence(
        agreements=[d("2024-01-01"), d("2024-09-01")],
        visits=[
            visit("2024-03-01"),
            visit("2024-08-01", coca="0.3"),
            visit("2025-01-01"),
            visit("2025-06-01", coca="1"),
        ],
    )
    assert compute(two, TODAY, lenient).stage == Stage.RELAPSED


def test_alerts_wanted() -> None:
    relapse = compute(
        evidence(
            agreements=[d("2025-01-01")], visits=[visit("2025-03-01"), visit("2026-02-01", "1")]
        ),
        TODAY,
        TH,
    )
    assert [(a.kind, a.severity) for a in relapse.alerts_wanted] == [("relapse", "critical")]
    due = compute(
        evidence(agreements=[d("2025-01-01")], visits=[visit("2025-10-01", licit="1")]), TODAY, TH
    )
    assert [a.kind for a in due.alerts_wanted] == ["visit_due"]
    assert due.alerts_wanted[0].due_on == d("2027-04-01")
    fresh = compute(
        evidence(agreements=[d("2025-01-01")], visits=[visit("2026-10-01", licit="1")]), TODAY, TH
    )
    assert fresh.alerts_wanted == ()


def test_add_months_clamps_the_day() -> None:
    assert add_months(d("2024-01-31"), 1) == d("2024-02-29")
    assert add_months(d("2026-11-28"), -18) == d("2025-05-28")
    assert add_months(d("2026-12-15"), 1) == d("2027-01-15")


# --- properties --------------------------------------------------------------------------------

START = date(2022, 1, 1)
days = st.integers(min_value=0, max_value=(TODAY - START).days + 400).map(
    lambda n: START + timedelta(days=n)
)
hectares = st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("1"), Decimal("2.5")])
visits_st = st.lists(
    st.builds(
        Visit,
        on=days,
        coca_ha=st.sampled_from([Decimal("0"), Decimal("0"), Decimal("0.3")]),
        licit_ha=hectares,
        ref=st.text("abc", min_size=1, max_size=3),
    ),
    max_size=6,
)
facts_st = st.lists(
    st.one_of(
        st.builds(lambda on: Fact(HID, TITLE_REGISTERED, on, ref="t"), days),
        st.builds(
            lambda on, value, status: Fact(
                HID, DELIVERY_ACCEPTED, on, ref=str(on), status=status, value_pen=value
            ),
            days,
            st.sampled_from([Decimal("500"), Decimal("4000")]),
            st.sampled_from(["active", "completed", "terminated"]),
        ),
    ),
    max_size=5,
)
evidence_st = st.builds(
    HouseholdEvidence,
    household_id=st.just(HID),
    registered_on=st.just(START),
    active=st.booleans(),
    consent=st.just(True),
    agreements=st.lists(days, max_size=3),
    visits=visits_st,
    facts=facts_st,
)


# Off the ladder, relapsed and excluded sit below every ladder stage.
ORDER = {**RANK, Stage.RELAPSED: -1, Stage.EXCLUDED: -2}


@settings(max_examples=200, deadline=None)
@given(evidence_st, st.randoms(use_true_random=False))
def test_result_is_independent_of_evidence_order(case: HouseholdEvidence, rnd: object) -> None:
    shuffled = HouseholdEvidence(
        household_id=case.household_id,
        registered_on=case.registered_on,
        active=case.active,
        consent=case.consent,
        agreements=rnd.sample(list(case.agreements), len(case.agreements)),  # type: ignore[attr-defined]
        visits=rnd.sample(list(case.visits), len(case.visits)),  # type: ignore[attr-defined]
        facts=rnd.sample(list(case.facts), len(case.facts)),  # type: ignore[attr-defined]
    )
    assert compute(shuffled, TODAY, TH) == compute(case, TODAY, TH)


@settings(max_examples=200, deadline=None)
@given(evidence_st, visits_st, facts_st, st.lists(days, max_size=2))
def test_evidence_dated_in_the_future_changes_nothing(
    case: HouseholdEvidence,
    more_visits: list[Visit],
    more_facts: list[Fact],
    more_agreements: list[date],
) -> None:
    later = TODAY + timedelta(days=1)
    future = HouseholdEvidence(
        household_id=case.household_id,
        registered_on=case.registered_on,
        active=case.active,
        consent=case.consent,
        agreements=[*case.agreements, *(max(a, later) for a in more_agreements)],
        visits=[
            *case.visits,
            *(Visit(max(v.on, later), v.coca_ha, v.licit_ha, v.ref) for v in more_visits),
        ],
        facts=[
            *case.facts,
            *(
                Fact(
                    f.household_id,
                    f.kind,
                    max(f.on, later),
                    f.ref,
                    f.status,
                    None,
                    None,
                    f.value_pen,
                )
                for f in more_facts
            ),
        ],
    )
    assert compute(future, TODAY, TH) == compute(case, TODAY, TH)


@settings(max_examples=300, deadline=None)
@given(evidence_st, st.sampled_from([Decimal("0.1"), Decimal("2")]))
def test_a_new_confirmed_coca_finding_never_raises_the_stage(
    case: HouseholdEvidence, coca: Decimal
) -> None:
    before = compute(case, TODAY, TH)
    after = compute(
        HouseholdEvidence(
            household_id=case.household_id,
            registered_on=case.registered_on,
            active=case.active,
            consent=case.consent,
            agreements=case.agreements,
            visits=[*case.visits, Visit(TODAY, coca, Decimal("3"), "zzz")],
            facts=case.facts,
        ),
        TODAY,
        TH,
    )
    assert ORDER[after.stage] <= ORDER[before.stage]
    if RANK.get(before.stage, -1) >= RANK[Stage.COCA_FREE]:
        assert after.stage in (Stage.RELAPSED, Stage.EXCLUDED)


@settings(max_examples=200, deadline=None)
@given(evidence_st, days)
def test_tenure_never_moves_the_stage_unless_graduation_requires_it(
    case: HouseholdEvidence, titled_on: date
) -> None:
    without = replace(case, facts=[f for f in case.facts if f.kind != TITLE_REGISTERED])
    titled = replace(
        without, facts=[*without.facts, Fact(HID, TITLE_REGISTERED, titled_on, ref="t")]
    )
    plain, with_title = compute(without, TODAY, TH), compute(titled, TODAY, TH)
    assert (with_title.stage, with_title.since) == (plain.stage, plain.since)
    assert TENURE not in plain.milestones
    if case.active and titled_on <= TODAY:
        assert with_title.milestones[TENURE] == max(titled_on, case.registered_on).isoformat()
    # Requiring tenure can only hold graduation back, never lift or drop another stage.
    strict = compute(without, TODAY, REQUIRES_TENURE)
    if plain.stage == Stage.GRADUATED:
        assert strict.stage == Stage.MARKET_LINKED
    else:
        assert strict == plain


@settings(max_examples=200, deadline=None)
@given(evidence_st)
def test_recomputing_the_same_day_gives_the_same_result(case: HouseholdEvidence) -> None:
    assert compute(case, TODAY, TH) == compute(case, TODAY, TH)
