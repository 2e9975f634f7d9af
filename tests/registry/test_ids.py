"""Time-ordered ids for the large tables (``registry.ids``): households and members get UUID
version 7 ids, which follow the order they were made in."""

from __future__ import annotations

import uuid
from typing import Any

from farmers.models import Household, Member
from registry.ids import new_id


def test_new_ids_are_version_7_and_follow_the_order_they_were_made_in() -> None:
    ids = [new_id() for _i in range(2000)]
    assert all(type(value) is uuid.UUID and value.version == 7 for value in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_households_and_members_get_time_ordered_ids_by_default(db: Any) -> None:
    household, member = Household(), Member()
    assert household.pk.version == 7 and member.pk.version == 7
    assert household.pk < member.pk
