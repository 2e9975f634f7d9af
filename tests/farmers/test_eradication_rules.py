"""Evidence that holds up, in the stage rules (issue 15, point 6): only crops on the
programme's licit-crop list count, a forced eradication after ``coca_free`` is a relapse, and a
verified voluntary eradication counts toward the agreement (never a relapse)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from farmers.choices import Stage
from farmers.transition.rules import (
    Eradication,
    HouseholdEvidence,
    Reason,
    Thresholds,
    agreement_progress,
    compute,
    licit_hectares,
)
from registry.choices import LICIT_CROPS_DEFAULT
from tests.farmers.test_transition_rules import HID, TH, TODAY, d, visit

# --- licit crops --------------------------------------------------------------------------

CACAO_ONLY = frozenset({"cacao"})


@pytest.mark.parametrize(
    ("crops", "listed", "expected"),
    [
        ([{"crop": "cacao", "ha": "1.2"}, {"crop": "coffee", "ha": "0.8"}], None, "2.0"),
        ([{"crop": "cacao", "ha": "1.2"}, {"crop": "other", "ha": "5"}], None, "1.2"),
        ([{"crop": "other", "ha": "40"}], None, "0"),
        ([{"crop": "cacao", "ha": "1.2"}, {"crop": "coffee", "ha": "0.8"}], CACAO_ONLY, "1.2"),
        ([{"crop": "other", "ha": "2"}], frozenset({"other"}), "2"),
        ([{"crop": "cacao", "ha": "2"}], frozenset(), "0"),
        ('[{"crop": "coffee", "ha": "1.5"}]', CACAO_ONLY, "0"),  # jsonb read as text
        ([{"ha": "3"}], None, "0"),  # no crop named: not on any list
    ],
)
def test_only_listed_crops_count(crops: Any, listed: Any, expected: str) -> None:
    assert licit_hectares(crops, LICIT_CROPS_SET if listed is None else listed) == Decimal(expected)


LICIT_CROPS_SET = frozenset(LICIT_CROPS_DEFAULT)


def test_the_default_list_is_every_crop_but_other() -> None:
    assert TH.licit_crops == LICIT_CROPS_SET
    assert "other" not in TH.licit_crops and {"cacao", "coffee"} <= TH.licit_crops


@pytest.mark.parametrize(
    ("crops", "listed", "stage"),
    [
        ([{"crop": "cacao", "ha": "1.5"}], None, Stage.LICIT_PRODUCTION),
        ([{"crop": "other", "ha": "1.5"}], None, Stage.COCA_FREE),
        ([{"crop": "other", "ha": "1.5"}], frozenset({"other"}), Stage.LICIT_PRODUCTION),
        ([{"crop": "coffee", "ha": "0.6"}, {"crop": "cacao", "ha": "0.6"}], None, "lp"),
        ([{"crop": "coffee", "ha": "0.6"}, {"crop": "cacao", "ha": "0.6"}], CACAO_ONLY, "cf"),
    ],
)
def test_the_programme_s_list_decides_licit_production(crops: Any, listed: Any, stage: str) -> None:
    """The thresholds carry the list; the engine turns a visit's crops into licit hectares with
    ``Thresholds.licit_ha``; the rules compare them with the minimum."""
    thresholds = Thresholds() if listed is None else Thresholds(licit_crops=listed)
    case = HouseholdEvidence(
        HID,
        d("2025-01-01"),
        agreements=[d("2026-01-01")],
        visits=[visit("2026-03-01", licit=str(thresholds.licit_ha(crops)))],
    )
    expected = {"lp": Stage.LICIT_PRODUCTION, "cf": Stage.COCA_FREE}.get(stage, stage)
    assert compute(case, TODAY, thresholds).stage == expected


# --- eradications -------------------------------------------------------------------------


def forced(on: str, ha: str = "0.5") -> Eradication:
    return Eradication(d(on), Decimal(ha), True, ref=f"f-{on}")


def voluntary(on: str, ha: str = "0.5") -> Eradication:
    return Eradication(d(on), Decimal(ha), False, ref=f"v-{on}")


def case(**kwargs: Any) -> HouseholdEvidence:
    base: dict[str, Any] = {
        "agreements": [d("2026-01-01")],
        "commitments": [(d("2026-01-01"), Decimal("1.0"))],
    }
    base.update(kwargs)
    return HouseholdEvidence(HID, d("2025-01-01"), **base)


COCA_FREE = [visit("2026-03-01", licit="0.5")]
ERADICATION_CASES = [
    # name, evidence, stage, reason
    ("forced after coca_free: relapse", case(visits=COCA_FREE, eradications=[forced("2026-05-01")]),
     Stage.RELAPSED, Reason.FORCED_ERADICATION),
    ("forced before any coca-free visit: nothing", case(eradications=[forced("2026-02-01")]),
     Stage.COMMITTED, Reason.AGREEMENT_SIGNED),
    ("forced then coca-free visit: coca_free", case(
        visits=COCA_FREE, eradications=[forced("2026-02-01")]),
     Stage.COCA_FREE, Reason.COCA_FREE_VISIT),
    ("forced on the coca-free visit's day: not after", case(
        visits=COCA_FREE, eradications=[forced("2026-03-01")]),
     Stage.COCA_FREE, Reason.COCA_FREE_VISIT),
    ("forced dated after today: ignored", case(
        visits=COCA_FREE, eradications=[forced("2027-01-01")]),
     Stage.COCA_FREE, Reason.COCA_FREE_VISIT),
    ("voluntary after coca_free: never a relapse", case(
        visits=COCA_FREE, eradications=[voluntary("2026-05-01", "1.0")]),
     Stage.COCA_FREE, Reason.COCA_FREE_VISIT),
    ("voluntary alone does not move the stage", case(eradications=[voluntary("2026-02-01")]),
     Stage.COMMITTED, Reason.AGREEMENT_SIGNED),
    ("forced relapse, readmitted by a new agreement and visit", case(
        agreements=[d("2026-01-01"), d("2026-06-01")],
        visits=[*COCA_FREE, visit("2026-07-01")],
        eradications=[forced("2026-05-01")]),
     Stage.COCA_FREE, Reason.COCA_FREE_VISIT),
    ("a coca visit and a forced eradication the same day: the visit's reason", case(
        visits=[*COCA_FREE, visit("2026-05-01", coca="0.3")],
        eradications=[forced("2026-05-01")]),
     Stage.RELAPSED, Reason.RELAPSE),
    # People decide about people (issue 15, point 7): the limit proposes an exclusion.
    ("second relapse by force: exclusion proposed", case(
        agreements=[d("2026-01-01"), d("2026-06-01")],
        visits=[*COCA_FREE, visit("2026-07-01")],
        eradications=[forced("2026-05-01"), forced("2026-09-01")]),
     Stage.RELAPSED, Reason.FORCED_ERADICATION),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "evidence", "stage", "reason"),
    ERADICATION_CASES,
    ids=[c[0] for c in ERADICATION_CASES],
)
def test_eradication_table(name: str, evidence: HouseholdEvidence, stage: str, reason: str) -> None:
    result = compute(evidence, TODAY, TH)
    assert (result.stage, result.reason) == (stage, reason)


def test_a_second_forced_relapse_proposes_the_exclusion() -> None:
    """The engine opens the proposal from ``held_back``: a forced eradication must keep it."""
    result = compute(
        case(
            agreements=[d("2026-01-01"), d("2026-06-01")],
            visits=[*COCA_FREE, visit("2026-07-01")],
            eradications=[forced("2026-05-01"), forced("2026-09-01")],
        ),
        TODAY,
        TH,
    )
    assert (result.stage, result.held_back) == (Stage.RELAPSED, Reason.EXCLUSION_PROPOSED)


def test_a_forced_relapse_is_dated_and_alerted_like_a_visit_s() -> None:
    result = compute(case(visits=COCA_FREE, eradications=[forced("2026-05-01")]), TODAY, TH)
    assert result.since == d("2026-05-01")
    assert result.milestones[Stage.RELAPSED] == "2026-05-01"
    assert result.change_reason(Stage.COCA_FREE) == Reason.FORCED_ERADICATION
    assert [(a.kind, a.severity) for a in result.alerts_wanted] == [("relapse", "critical")]
    # The summary counts real visits only; the eradication is under coca.
    assert result.evidence_summary["visits"] == 1
    assert result.evidence_summary["last_visit_on"] == "2026-03-01"
    assert result.evidence_summary["coca"]["forced_eradications"] == 1
    assert result.evidence_summary["coca"]["relapses"] == 1


def test_eradications_in_any_order_give_the_same_result() -> None:
    evidence = case(
        visits=COCA_FREE,
        eradications=[voluntary("2026-02-01"), forced("2026-05-01"), voluntary("2026-04-01")],
    )
    shuffled = case(
        visits=COCA_FREE,
        eradications=[forced("2026-05-01"), voluntary("2026-04-01"), voluntary("2026-02-01")],
    )
    assert compute(evidence, TODAY, TH) == compute(shuffled, TODAY, TH)


@pytest.mark.parametrize(
    ("eradications", "commitments", "expected"),
    [
        ([voluntary("2026-02-01", "0.4")], [(d("2026-01-01"), Decimal("1"))], ("0.4", False)),
        (
            [voluntary("2026-02-01", "0.4"), voluntary("2026-03-01", "0.6")],
            [(d("2026-01-01"), Decimal("1"))],
            ("1.0", True),
        ),
        # Before the agreement in force: does not count toward it.
        ([voluntary("2025-12-01", "2")], [(d("2026-01-01"), Decimal("1"))], ("0", False)),
        # Forced eradications never count toward the agreement.
        ([forced("2026-02-01", "2")], [(d("2026-01-01"), Decimal("1"))], ("0", False)),
        # The latest agreement is the one in force.
        (
            [voluntary("2026-02-01", "1"), voluntary("2026-07-01", "0.5")],
            [(d("2026-01-01"), Decimal("1")), (d("2026-06-01"), Decimal("0.5"))],
            ("0.5", True),
        ),
        # Dated after today: not yet.
        ([voluntary("2027-02-01", "5")], [(d("2026-01-01"), Decimal("1"))], ("0", False)),
    ],
)
def test_voluntary_eradications_count_toward_the_agreement(
    eradications: list[Eradication], commitments: list[Any], expected: tuple[str, bool]
) -> None:
    progress = agreement_progress(eradications, commitments, TODAY)
    assert progress is not None
    assert (Decimal(progress["eradicated_ha"]), progress["met"]) == (
        Decimal(expected[0]),
        expected[1],
    )


def test_no_agreement_no_progress_and_progress_in_the_summary() -> None:
    assert agreement_progress([voluntary("2026-02-01")], [], TODAY) is None
    result = compute(case(eradications=[voluntary("2026-02-01", "1.0")]), TODAY, TH)
    assert result.evidence_summary["coca"]["agreement"] == {
        "signed_on": "2026-01-01",
        "committed_ha": "1.0",
        "eradicated_ha": "1.0",
        "met": True,
    }


def test_no_eradication_leaves_the_rules_as_they_were() -> None:
    plain = case(visits=COCA_FREE)
    assert compute(plain, TODAY, TH) == compute(
        HouseholdEvidence(HID, d("2025-01-01"), agreements=[d("2026-01-01")], visits=COCA_FREE),
        TODAY,
        TH,
    )
