"""A merge carries everything (issue 15): each kind of evidence of the merged-away household
ends on the surviving one, and the survivor's recomputed stage reflects it; a failing merge
handler (``farmers.merging``) rolls the whole merge back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from farmers import merging, services
from farmers.choices import HouseholdStatus, Stage
from farmers.models import (
    Agreement,
    Consent,
    Eradication,
    Household,
    Plot,
    StageChange,
    Support,
    Verification,
)
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.actors import Actor
from registry.choices import AlertKind, AlertStatus
from registry.models import Alert, ChangeRecord, OutboxMessage, Program
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

SYSTEM = Actor(unrestricted=True)
REGISTERED = date(2025, 1, 10)
SIGNED = date(2025, 2, 1)
VISITED = date(2025, 6, 1)
TODAY = date(2025, 7, 1)
KIMBIRI = "080907"


def family(program: Program, **evidence: Any) -> Household:
    """An active household registered on ``REGISTERED`` with the given evidence."""
    return make_household(program, HouseholdEvidence(None, REGISTERED, **evidence))


def merge_and_recompute(source: Household, target: Household) -> Household:
    """Merge, check both are queued for a recompute, recompute both; the stored survivor."""
    services.household_merge(actor=SYSTEM, source=source, target=target)
    queued = OutboxMessage.objects.filter(topic="transition.recompute").last()
    assert queued is not None
    assert set(queued.payload["household_ids"]) == {str(source.pk), str(target.pk)}
    engine.recompute_households([source.pk, target.pk], today=TODAY)
    return Household.objects.get(pk=target.pk)


def coca_free(licit_ha: str = "1.0") -> Visit:
    return Visit(VISITED, Decimal("0"), Decimal(licit_ha))


def test_plots_move_as_new_versions(program: Program) -> None:
    target = family(program, agreements=[SIGNED])
    source = family(program)
    plot = give_plot(source.pk)
    survivor = merge_and_recompute(source, target)
    moved = Plot.objects.get(pk=plot.pk)
    assert moved.household_id == target.pk
    assert moved.version == plot.version + 1  # its ETag changes
    assert survivor.stage == Stage.COMMITTED


def test_consents_move_and_let_the_survivor_climb(program: Program) -> None:
    target = family(program, consent=False, agreements=[SIGNED])
    source = family(program)  # consented
    engine.recompute_households([target.pk], today=TODAY)
    assert Household.objects.get(pk=target.pk).stage == Stage.ENROLLED  # no consent
    survivor = merge_and_recompute(source, target)
    assert Consent.objects.filter(household=target).count() == 1
    assert survivor.stage == Stage.COMMITTED


def test_agreements_move_and_commit_the_survivor(program: Program) -> None:
    target = family(program)
    source = family(program, agreements=[SIGNED])
    survivor = merge_and_recompute(source, target)
    assert Agreement.objects.get().household_id == target.pk
    assert survivor.stage == Stage.COMMITTED
    assert survivor.milestones[Stage.COMMITTED] == SIGNED.isoformat()


def test_visits_move_and_count_for_the_survivor(program: Program) -> None:
    target = family(program, agreements=[SIGNED])
    source = family(program, visits=[coca_free()])
    survivor = merge_and_recompute(source, target)
    assert Verification.objects.get().household_id == target.pk
    assert survivor.stage == Stage.LICIT_PRODUCTION
    assert survivor.milestones[Stage.COCA_FREE] == VISITED.isoformat()


def test_support_moves(program: Program) -> None:
    target = family(program, agreements=[SIGNED])
    source = family(program)
    Support.objects.create(household=source, kind="inputs", cost_pen="850.00", given_on=SIGNED)
    survivor = merge_and_recompute(source, target)
    assert list(Support.objects.values_list("household_id", flat=True)) == [target.pk]
    assert survivor.stage == Stage.COMMITTED  # support is no stage evidence


def test_eradications_move_with_their_plots(program: Program) -> None:
    target = family(program, agreements=[SIGNED])
    source = family(program)
    plot = give_plot(source.pk)
    erased = Eradication.objects.create(
        household=source, plot=plot, eradicated_on=SIGNED, hectares="0.5000", kind="voluntary"
    )
    merge_and_recompute(source, target)
    moved = Eradication.objects.get(pk=erased.pk)
    assert (moved.household_id, moved.plot.household_id) == (target.pk, target.pk)
    assert moved.version == erased.version + 1  # its ETag changes
    assert not Eradication.objects.filter(household=source).exists()


def test_alerts_move_and_the_survivor_owns_the_relapse(program: Program) -> None:
    target = family(program)
    relapse = Visit(date(2025, 6, 20), Decimal("0.5"), Decimal("0"))
    source = family(program, agreements=[SIGNED], visits=[coca_free(), relapse])
    engine.recompute_households([source.pk], today=TODAY)
    alert = Alert.objects.get(kind=AlertKind.RELAPSE)
    assert alert.household_id == source.pk
    survivor = merge_and_recompute(source, target)
    moved = Alert.objects.get(pk=alert.pk)
    assert moved.household_id == target.pk
    # A new version at the merge, another when the survivor's recompute resolved it.
    assert (moved.version, moved.status) == (alert.version + 2, AlertStatus.RESOLVED)
    assert survivor.stage == Stage.RELAPSED
    live = Alert.objects.filter(
        kind=AlertKind.RELAPSE, household_id=target.pk, status=AlertStatus.OPEN
    )
    # The survivor's own relapse alert is live; the merged-away record's one was resolved.
    assert [a.key for a in live] == [f"relapse:{target.pk}:2025-06-20"]
    assert not Alert.objects.filter(household_id=source.pk).exists()


def test_the_ledger_moves_annotated_and_the_survivor_replays_its_own(program: Program) -> None:
    target = family(program)
    source = family(program, agreements=[SIGNED])
    engine.recompute_households([source.pk], today=TODAY)
    (before,) = StageChange.objects.filter(household=source)
    survivor = merge_and_recompute(source, target)
    moved = StageChange.objects.get(pk=before.pk)
    assert moved.household_id == target.pk
    assert moved.evidence["merged_from"] == source.code
    assert {k: moved.evidence[k] for k in before.evidence} == before.evidence  # kept
    # The survivor's own moves replay to its stored stage; the moved row is history only.
    own = list(StageChange.objects.own().filter(household=target).order_by("id"))
    assert [c.pk for c in own] != [] and moved not in own
    assert own[-1].to_stage == survivor.stage == Stage.COMMITTED
    assert StageChange.objects.filter(household=target).count() == len(own) + 1


@pytest.fixture
def failing_handler() -> Iterator[None]:
    saved = merging.merge_handlers()

    def fail(source: Household, target: Household, actor: Actor) -> None:
        Plot.objects.filter(household=target).update(name="half-done")
        raise RuntimeError("handler failed")

    merging.register_merge_handler("failing", fail)
    yield
    merging._handlers.clear()
    merging._handlers.update(saved)


@pytest.mark.usefixtures("failing_handler")
def test_a_failing_handler_rolls_the_whole_merge_back(program: Program) -> None:
    target = family(program)
    source = family(program, agreements=[SIGNED], visits=[coca_free()])
    engine.recompute_households([source.pk], today=TODAY)
    plot = give_plot(source.pk)
    history, ledger = ChangeRecord.objects.count(), StageChange.objects.count()
    with pytest.raises(RuntimeError):
        services.household_merge(actor=SYSTEM, source=source, target=target)
    stored = Household.objects.get(pk=source.pk)
    assert (stored.status, stored.merged_into_id) == (HouseholdStatus.ACTIVE, None)
    assert Plot.objects.get(pk=plot.pk).household_id == source.pk
    assert Plot.objects.get(pk=plot.pk).name != "half-done"
    for model in (Agreement, Verification, Consent):
        assert model.objects.filter(household=source).count() == 1, model
    assert StageChange.objects.filter(household=source).count() == ledger
    assert ChangeRecord.objects.count() == history
    assert not OutboxMessage.objects.filter(topic="transition.recompute").exists()


def test_the_survivor_keeps_the_earlier_enrolment(program: Program) -> None:
    """The family enrolled when its first registration did: a merge keeps the earlier date
    (and keeps the survivor's own when it is the earlier one)."""
    target = family(program, agreements=[SIGNED])
    source = family(program)
    Household.objects.filter(pk=target.pk).update(enrolled_on=date(2025, 1, 10))
    Household.objects.filter(pk=source.pk).update(enrolled_on=date(2024, 11, 5))
    survivor = merge_and_recompute(
        Household.objects.get(pk=source.pk), Household.objects.get(pk=target.pk)
    )
    assert survivor.enrolled_on == date(2024, 11, 5)
    later, first = family(program), family(program)
    Household.objects.filter(pk=later.pk).update(enrolled_on=date(2025, 3, 1))
    Household.objects.filter(pk=first.pk).update(enrolled_on=date(2025, 1, 10))
    services.household_merge(
        actor=SYSTEM,
        source=Household.objects.get(pk=later.pk),
        target=Household.objects.get(pk=first.pk),
    )
    assert Household.objects.get(pk=first.pk).enrolled_on == date(2025, 1, 10)
