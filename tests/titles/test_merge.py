"""Title files follow a family into the surviving household when two registrations merge
(the titles merge handler registered with ``farmers.merging``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from farmers import merging
from farmers import services as farmers_services
from farmers.models import Household
from farmers.transition import engine
from registry.models import ChangeRecord, Organization, Program
from titles.models import TitleApplication
from titles.services import title_files_merge

from .conftest import SYSTEM, S, file_in_state, make_household

pytestmark = pytest.mark.django_db


def test_the_handler_is_registered(db: Any) -> None:
    assert merging.merge_handlers()["titles"] is title_files_merge


def test_title_files_move_with_their_history_and_give_the_survivor_tenure(
    program: Program, authority: Organization
) -> None:
    target, _plot = make_household(program)
    source, plot = make_household(program, "080907", lon=-73.90)  # Kimbiri
    application = file_in_state(source, plot, authority, S.REGISTERED)
    changes = application.status_changes.count()
    farmers_services.household_merge(actor=SYSTEM, source=source, target=target)
    moved = TitleApplication.objects.get(pk=application.pk)
    assert moved.household_id == target.pk
    assert moved.plot.household_id == target.pk
    assert (moved.district_id, moved.program_id) == (target.district_id, target.program_id)
    assert moved.version == application.version + 1  # a new ETag
    assert moved.status_changes.count() == changes  # its history came along
    record = ChangeRecord.objects.get(object_id=str(application.pk), changes__has_key="merged_from")
    assert record.changes["household"] == [source.code, target.code]
    assert not TitleApplication.objects.filter(household=source).exists()
    engine.recompute_households([target.pk], today=timezone.localdate())
    assert "tenure" in Household.objects.get(pk=target.pk).milestones
