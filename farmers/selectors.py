"""Reads of the farmers app, always narrowed to the actor's area (404 outside it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from registry.actors import Actor
from registry.exceptions import NotFound

from .choices import DuplicateStatus
from .models import (
    Agreement,
    Household,
    Member,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    StageChange,
    Verification,
)


def _household_area(actor: Actor, prefix: str = "") -> Any:
    return actor.area_q(district_path=f"{prefix}district_id", program_path=f"{prefix}program_id")


def household_list(*, actor: Actor) -> QuerySet[Household]:
    """Households in the actor's area with programme and active members (three queries a page)."""
    return (
        Household.objects.filter(_household_area(actor))
        .select_related("program")
        .prefetch_related(
            Prefetch(
                "members", queryset=Member.objects.filter(is_active=True), to_attr="live_members"
            )
        )
    )


def household_get(*, actor: Actor, household_id: Any) -> Household:
    """One household in the actor's area, or 404."""
    household = household_list(actor=actor).filter(pk=household_id).first()
    if household is None:
        raise NotFound()
    return household


def possible_duplicates_for(*, actor: Actor, household: Household) -> list[PossibleDuplicate]:
    """Open near matches of a household, naming only candidates the actor may see."""
    rows = (
        PossibleDuplicate.objects.filter(household=household, status=DuplicateStatus.OPEN)
        .select_related("candidate")
        .order_by("-score")[:20]
    )
    return [
        row
        for row in rows
        if actor.covers(district=row.candidate.district_id, program=row.candidate.program_id)
    ]


def plot_list(*, actor: Actor) -> QuerySet[Plot]:
    """Plots of households in the actor's area, with their overlaps."""
    return (
        Plot.objects.filter(_household_area(actor, "household__"))
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "overlaps",
                queryset=PlotOverlap.objects.select_related("other__household"),
            )
        )
    )


def agreement_list(*, actor: Actor) -> QuerySet[Agreement]:
    """Agreements of households in the actor's area."""
    return Agreement.objects.filter(_household_area(actor, "household__")).select_related(
        "household"
    )


def verification_list(*, actor: Actor) -> QuerySet[Verification]:
    """Verification visits of households in the actor's area."""
    return Verification.objects.filter(_household_area(actor, "household__")).select_related(
        "household"
    )


def stage_change_list(*, actor: Actor) -> QuerySet[StageChange]:
    """The transition ledger in the actor's area (by the district and programme recorded with
    each change), oldest first."""
    return (
        StageChange.objects.filter(_household_area(actor))
        .select_related("household", "program")
        .order_by("id")
    )


def stage_history(*, actor: Actor, household: Household) -> QuerySet[StageChange]:
    """One household's stage ledger, oldest first (the household is already in scope)."""
    return (
        StageChange.objects.filter(household=household)
        .select_related("household", "program")
        .order_by("id")
    )
