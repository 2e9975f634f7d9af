"""The data migration that removes the ``formalized`` rung (farmers 0010): households at it go to
``licit_production`` until the next recompute, the milestone becomes ``tenure``, ledger rows are
remapped and annotated (on SQLite and, with DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from farmers.choices import Stage
from farmers.models import Household, StageChange
from farmers.transition import engine
from registry.models import Program
from tests.farmers.ledger import PICHARI, change, household

pytestmark = pytest.mark.django_db

migration = importlib.import_module("farmers.migrations.0010_remove_formalized_stage")


class _Editor:
    """What the migration's function uses of a schema editor (no DDL, so no new transaction)."""

    connection = connection

    def execute(self, sql: str, params: Any = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_formalized_households_move_to_licit_production_and_keep_their_title_as_tenure(
    program: Program,
) -> None:
    formal = household(program, PICHARI, stage="formalized")
    above = household(program, PICHARI, stage=Stage.MARKET_LINKED)
    other = household(program, PICHARI, stage=Stage.COMMITTED)
    old = {"enrolled": "2026-01-10", "licit_production": "2026-03-01", "formalized": "2026-04-01"}
    Household.objects.filter(pk=formal.pk).update(milestones=old)
    Household.objects.filter(pk=above.pk).update(milestones={**old, "market_linked": "2026-05-01"})
    Household.objects.filter(pk=other.pk).update(milestones={"enrolled": "2026-01-10"})
    change(formal, Stage.LICIT_PRODUCTION, "formalized", date(2026, 4, 1))
    change(above, "formalized", Stage.MARKET_LINKED, date(2026, 5, 1))
    change(other, Stage.ENROLLED, Stage.COMMITTED, date(2026, 2, 1))
    before = Household.objects.get(pk=other.pk).updated_at

    migration.forwards(apps, _Editor())

    rows = {h.pk: h for h in Household.objects.all()}
    assert rows[formal.pk].stage == Stage.LICIT_PRODUCTION
    assert rows[formal.pk].milestones == {
        "enrolled": "2026-01-10",
        "licit_production": "2026-03-01",
        "tenure": "2026-04-01",
    }
    assert rows[above.pk].stage == Stage.MARKET_LINKED
    assert rows[above.pk].milestones["tenure"] == "2026-04-01"
    assert "formalized" not in rows[above.pk].milestones
    assert rows[other.pk].milestones == {"enrolled": "2026-01-10"}
    assert rows[other.pk].updated_at == before
    ledger = {
        c.household_id: (c.from_stage, c.to_stage, c.evidence) for c in StageChange.objects.all()
    }
    assert ledger[formal.pk] == (
        Stage.LICIT_PRODUCTION,
        Stage.LICIT_PRODUCTION,
        {"replaced_stage": {"to_stage": "formalized"}},
    )
    assert ledger[above.pk] == (
        Stage.LICIT_PRODUCTION,
        Stage.MARKET_LINKED,
        {"replaced_stage": {"from_stage": "formalized"}},
    )
    assert ledger[other.pk] == (Stage.ENROLLED, Stage.COMMITTED, {})
    assert not StageChange.objects.filter(to_stage="formalized").exists()
    assert not StageChange.objects.filter(from_stage="formalized").exists()
    # Rerunning changes nothing (idempotent).
    migration.forwards(apps, _Editor())
    assert Household.objects.get(pk=formal.pk).milestones == rows[formal.pk].milestones


def test_the_next_recompute_sets_the_true_stage(program: Program) -> None:
    """A migrated household is recomputed like any other: the engine reads its evidence (here
    none, so it goes back to enrolled, with a ledger row)."""
    formal = household(program, PICHARI, stage="formalized")
    migration.forwards(apps, _Editor())
    engine.recompute_households([formal.pk], today=date(2026, 11, 28))
    row = Household.objects.get(pk=formal.pk)
    assert row.stage == Stage.ENROLLED
    assert StageChange.objects.filter(household=formal, from_stage=Stage.LICIT_PRODUCTION).exists()
