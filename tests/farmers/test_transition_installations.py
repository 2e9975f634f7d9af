"""The engine's licit hectares from crop installations (issue 16, point 2): a household with
installations counts, per confirmed visit, the area of the installations standing on the plots
the visit saw (licit crops only); one without installations, or a visit that named no plots,
keeps the hectares the visit recorded. Read set-based: the queries do not grow with the batch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.choices import Stage
from farmers.models import CropInstallation, Household, Plot, Verification
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.models import Program
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.test_transition_rules import TODAY
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
VISIT_ON = date(2026, 3, 1)


def household_with_visit(program: Program, recorded_ha: str) -> tuple[Household, Plot, Plot]:
    """An active household with an agreement and one coca-free confirmed visit (recording
    ``recorded_ha`` of cacao) that saw the first of its two plots."""
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2025, 1, 10),
            agreements=[date(2026, 1, 1)],
            visits=[Visit(VISIT_ON, Decimal("0"), Decimal(recorded_ha))],
        ),
    )
    seen, unseen = give_plot(household.pk), give_plot(household.pk, lon=-73.82)
    Verification.objects.get(household=household).plots.add(seen)
    return household, seen, unseen


def install(household: Household, plot: Plot, ha: str, **extra: Any) -> CropInstallation:
    values: dict[str, Any] = {
        "crop": "cacao",
        "variety": "ccn51",
        "plants": 100,
        "planted_on": date(2019, 1, 1),
        **extra,
    }
    return CropInstallation.objects.create(
        household=household, plot=plot, area_ha=Decimal(ha), **values
    )


def stage(household: Household) -> str:
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    return household.stage


CASES = [
    # (recorded ha on the visit, installations: (plot, ha, extra), expected stage)
    pytest.param("0", [("seen", "1.5", {})], Stage.LICIT_PRODUCTION, id="installations-count"),
    pytest.param("2", [("seen", "0.5", {})], Stage.COCA_FREE, id="installations-win"),
    pytest.param("0", [("unseen", "1.5", {})], Stage.COCA_FREE, id="plot-not-seen"),
    pytest.param(
        "0",
        [("seen", "0.6", {}), ("seen", "0.6", {"crop": "coffee", "variety": "typica"})],
        Stage.LICIT_PRODUCTION,
        id="crops-add-up",
    ),
    pytest.param(
        "0",
        [("seen", "1.5", {"planted_on": date(2026, 4, 1)})],
        Stage.COCA_FREE,
        id="planted-after-the-visit",
    ),
    pytest.param(
        "0",
        [("seen", "1.5", {"status": "lost", "lost_on": date(2026, 2, 1)})],
        Stage.COCA_FREE,
        id="lost-before-the-visit",
    ),
    pytest.param(
        "0",
        [("seen", "1.5", {"status": "lost", "lost_on": date(2026, 6, 1)})],
        Stage.LICIT_PRODUCTION,
        id="lost-after-the-visit",
    ),
    pytest.param(
        "0",
        [("seen", "1.5", {"crop": "timber", "variety": ""})],
        Stage.COCA_FREE,
        id="crop-not-on-the-list",
    ),
    pytest.param("1.5", [], Stage.LICIT_PRODUCTION, id="no-installations-recorded-ha"),
]


@pytest.mark.parametrize(("recorded", "stands", "expected"), CASES)
def test_licit_hectares_from_installations(
    program: Program, recorded: str, stands: list[Any], expected: str
) -> None:
    Program.objects.filter(pk=program.pk).update(licit_crops=["cacao", "coffee"])
    household, seen, unseen = household_with_visit(program, recorded)
    for which, ha, extra in stands:
        install(household, seen if which == "seen" else unseen, ha, **extra)
    assert stage(household) == expected


def test_a_visit_that_named_no_plots_keeps_its_recorded_hectares(program: Program) -> None:
    household, seen, _unseen = household_with_visit(program, "1.5")
    Verification.objects.get(household=household).plots.clear()
    install(household, seen, "0.2")
    assert stage(household) == Stage.LICIT_PRODUCTION
    Verification.objects.get(household=household).plots.add(seen)
    assert stage(household) == Stage.COCA_FREE


def test_installations_are_read_set_based(program: Program) -> None:
    """The batch's reads do not grow with the households that have installations."""

    def queries(n: int) -> int:
        ids = []
        for _ in range(n):
            household, seen, _unseen = household_with_visit(program, "0")
            install(household, seen, "1.5")
            ids.append(household.pk)
        engine.recompute_households(ids, today=TODAY)
        with CaptureQueriesContext(connection) as captured:
            engine.recompute_households(ids, today=TODAY)
        assert set(Household.objects.filter(pk__in=ids).values_list("stage", flat=True)) == {
            Stage.LICIT_PRODUCTION
        }
        return len(captured.captured_queries)

    assert queries(1) == queries(6)


def test_the_benchmark_seeder_adds_installations_and_links_visits(program: Program) -> None:
    """``seed_transition_evidence`` (raw SQL on PostgreSQL, ``bulk_create`` elsewhere): half the
    households it gives an agreement get an installation on their plot, within its area, and
    their visits saw that plot."""
    from farmers.devtools.transition_seeding import seed_evidence

    for n in range(40):
        give_plot(make_household(program).pk, lon=-73.83 + n * 0.01)
    agreements, _visits, installations = seed_evidence(TODAY)
    assert agreements > 10 and 0 < installations < agreements
    assert CropInstallation.objects.count() == installations
    for record in CropInstallation.objects.select_related("plot"):
        assert 0 < record.area_ha <= record.plot.area_ha and record.plants > 0
        assert record.crop in ("cacao", "coffee") and record.planted_on < TODAY
    planted = set(CropInstallation.objects.values_list("household_id", flat=True))
    linked = Verification.plots.through.objects.values_list("verification__household_id", flat=True)
    assert set(linked) <= planted
    assert set(linked) == set(
        Verification.objects.filter(household_id__in=planted).values_list("household_id", flat=True)
    )
