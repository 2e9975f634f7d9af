"""The head of household's profile kept on the household (issue 17): ``Household.head_sex`` and
``head_birth_date`` are copies of the active head member's ``sex`` and ``birth_date``, so that the
annual report groups households (and their records) by the head's sex and age band without
joining the ~4 members of every household.

Every service that writes members keeps the copy in the same transaction: registration and
``household_update`` (members added, changed, deactivated, a new head; rectifications go
through it) set it with the head's name (:func:`set_head`, no query); anonymisation and merges
call :func:`refresh_head_profile` (one set-based ``UPDATE``); the import pipeline and the
seeders write it with the household. :func:`head_profile_mismatches` counts households whose
copy differs from their head (a test checks it is zero after every path).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import Household, Member

__all__ = ["head_profile_mismatches", "refresh_head_profile", "set_head"]


def set_head(household: Household, sex: str, birth_date: Any) -> None:
    """Copy the head's ``sex`` and ``birth_date`` onto ``household`` (unsaved; the caller saves
    it with the head's name)."""
    household.head_sex = sex or ""
    household.head_birth_date = birth_date


def _heads() -> Any:
    return Member.objects.filter(household_id=OuterRef("pk"), is_head=True, is_active=True)


def refresh_head_profile(household_ids: Collection[Any] | None = None) -> int:
    """Copy each household's active head's sex and birth date onto it (empty when it has no
    active head): ``household_ids``, or every household (the migration's backfill). One
    ``UPDATE``; returns the rows updated."""
    if household_ids is not None and not household_ids:
        return 0
    if connection.vendor == "postgresql" and household_ids is None:
        # The backfill of a large table: one hash join rather than a subquery per household.
        table = Household._meta.db_table
        members = Member._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} h SET head_sex = m.sex, head_birth_date = m.birth_date "  # noqa: S608
                f"FROM {members} m WHERE m.household_id = h.id AND m.is_head AND m.is_active "
                "AND (h.head_sex IS DISTINCT FROM m.sex "
                "OR h.head_birth_date IS DISTINCT FROM m.birth_date)"
            )
            updated = cursor.rowcount
        headless = Household.objects.filter(~Exists(_heads())).exclude(
            head_sex="", head_birth_date__isnull=True
        )
        return updated + headless.update(head_sex="", head_birth_date=None)
    households = Household.objects.all()
    if household_ids is not None:
        households = households.filter(pk__in=list(household_ids))
    return households.update(
        head_sex=Coalesce(Subquery(_heads().values("sex")[:1]), Value("")),
        head_birth_date=Subquery(_heads().values("birth_date")[:1]),
    )


def head_profile_mismatches(household_ids: Collection[Any] | None = None) -> int:
    """The households whose ``head_sex`` / ``head_birth_date`` differ from their active head's
    (zero when every writer kept them)."""
    households = Household.objects.all()
    if household_ids is not None:
        households = households.filter(pk__in=list(household_ids))
    heads = _heads()
    same = Exists(heads.filter(sex=OuterRef("head_sex"), birth_date=OuterRef("head_birth_date")))
    headless = ~Exists(heads) & Q(head_sex="", head_birth_date__isnull=True)
    return households.exclude(Q(same) | headless).count()
