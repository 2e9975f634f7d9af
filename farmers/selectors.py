"""Reads of the farmers app, always narrowed to the actor's area (404 outside it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from registry import policies as registry_policies
from registry.actors import Actor
from registry.choices import LIVE_ALERT_STATUSES, Scope
from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.exceptions import NotFound
from registry.models import Alert

from . import consent, policies
from .choices import (
    LIVE_STATUSES,
    DuplicateStatus,
    HouseholdStatus,
    Sex,
    VerificationStatus,
)
from .evidence import plot_ids_subquery
from .identity import blocking_keys, name_similarity, name_tokens, search_keys
from .models import (
    Agreement,
    Appeal,
    Consent,
    CropInstallation,
    DedupKey,
    Eradication,
    ExclusionProposal,
    Household,
    Member,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    PracticeAdoption,
    StageChange,
    Support,
    TrainingAttendance,
    TrainingEvent,
    Verification,
    VisitCorrection,
)


def live_members() -> QuerySet[Member]:
    """Members still in their household, in the household's order (head first)."""
    return Member.objects.filter(is_active=True)


def household_list(*, actor: Actor) -> QuerySet[Household]:
    """Households in the actor's area with programme, active members and the current consent's
    purposes (``farmers.consent``: annotated, no extra query). Two queries a page: the
    households with their programme, the members of the page."""
    return (
        consent.with_consent(Household.objects.filter(policies.household_q(actor)))
        .select_related("program")
        .prefetch_related(Prefetch("members", queryset=live_members(), to_attr="live_members"))
    )


def household_get(*, actor: Actor, household_id: Any) -> Household:
    """One household in the actor's area, or 404."""
    household = household_list(actor=actor).filter(pk=household_id).first()
    if household is None:
        raise NotFound()
    return household


def household_lookup(
    *, actor: Actor, document_type: str, document_number: str, limit: int = 10
) -> list[Household]:
    """Households in the actor's area with an active member holding this (normalised) ID
    document; nothing outside the area, so the answer never reveals enrolment elsewhere, and
    nothing whose family's consent does not cover the caller (``farmers.consent``: a
    pseudonymised answer to an ID would still tie the ID to the household)."""
    matching = Member.objects.filter(
        document_type=document_type,
        document_index=blind_index(PURPOSE_DOCUMENT, document_number),
        is_active=True,
    ).values("household_id")
    found = household_list(actor=actor).filter(pk__in=matching).order_by("created_at", "id")
    return [h for h in found[:limit] if consent.personal_visible(actor, h)]


def possible_duplicates_for(*, actor: Actor, household: Household) -> list[PossibleDuplicate]:
    """Open near matches of a household, naming only candidates the actor may see."""
    rows = (
        PossibleDuplicate.objects.filter(household=household, status=DuplicateStatus.OPEN)
        .select_related("candidate")
        .order_by("-score")[:20]
    )
    return [row for row in rows if policies.household_can(actor, row.candidate, "view")]


def plot_list(*, actor: Actor) -> QuerySet[Plot]:
    """Plots of households in the actor's area, with their overlaps and their household's
    current consent (annotated)."""
    return (
        consent.with_consent(Plot.objects.filter(policies.plot_q(actor)), "household_id")
        .select_related("household")
        .prefetch_related(
            Prefetch("overlaps", queryset=plot_overlaps().select_related("other__household"))
        )
    )


def plot_overlaps() -> QuerySet[PlotOverlap]:
    """Plot overlaps in the order a plot lists them (the order they were found)."""
    return PlotOverlap.objects.order_by("pk")


def agreement_list(*, actor: Actor) -> QuerySet[Agreement]:
    """Agreements of households in the actor's area."""
    return Agreement.objects.filter(policies.agreement_q(actor)).select_related("household")


def verification_list(*, actor: Actor) -> QuerySet[Verification]:
    """Verification visits of households in the actor's area (their household's current
    consent annotated)."""
    return (
        consent.with_consent(
            Verification.objects.filter(policies.verification_q(actor)), "household_id"
        )
        .select_related("household")
        .annotate(plot_ids=plot_ids_subquery())
    )


def eradication_list(*, actor: Actor) -> QuerySet[Eradication]:
    """Eradication records of households in the actor's area (their households joined: the
    coca check reads each one's district and programme)."""
    return Eradication.objects.filter(policies.eradication_q(actor)).select_related("household")


def installation_list(*, actor: Actor) -> QuerySet[CropInstallation]:
    """Crop installations of households in the actor's area (households joined: the scope
    check reads each one's district and programme)."""
    return CropInstallation.objects.filter(policies.installation_q(actor)).select_related(
        "household"
    )


def plot_planting_dates(
    plot_ids: Iterable[Any], *, crop: str | None = None
) -> dict[Any, tuple[str, date]]:
    """``{plot_id: (crop, planting_date)}``: the earliest planting date recorded on each plot
    (any status: a lost stand still shows the land was farmed then), and its crop; only
    ``crop``'s installations when given. Plots with no installation are absent. One query; no
    actor scoping (callers, e.g. an EUDR exporter, pass plots they already may read)."""
    ids = list(plot_ids)
    if not ids:
        return {}
    rows = CropInstallation.objects.filter(plot_id__in=ids)
    if crop:
        rows = rows.filter(crop=crop)
    earliest: dict[Any, tuple[str, date]] = {}
    for plot_id, crop_name, planted_on in rows.order_by(
        "plot_id", "planted_on", "crop"
    ).values_list("plot_id", "crop", "planted_on"):
        earliest.setdefault(plot_id, (crop_name, planted_on))
    return earliest


def alerts_due(*, actor: Actor, limit: int = 20) -> list[Alert]:
    """Open or acknowledged alerts in the actor's area (visits due, relapses...), due first;
    relapse and exclusion alerts only where the actor sees stages (``registry.policies``)."""
    return list(
        Alert.objects.filter(
            registry_policies.alert_q(actor, scope=None),
            status__in=LIVE_ALERT_STATUSES,
        ).order_by("due_on", "-raised_at")[:limit]
    )


def observations_to_fix(*, actor: Actor, limit: int = 20) -> dict[str, list[Any]]:
    """What the officer should look at: registrations waiting for review, visits a supervisor
    rejected, and registrations rejected with a reason (all in the actor's area)."""
    area = policies.household_q(actor)
    pending = list(
        Household.objects.filter(area, status=HouseholdStatus.PENDING_REVIEW).order_by(
            "-created_at"
        )[:limit]
    )
    rejected = list(
        Household.objects.filter(area, status=HouseholdStatus.REJECTED).order_by("-updated_at")[
            :limit
        ]
    )
    visits = list(
        verification_list(actor=actor)
        .filter(status=VerificationStatus.REJECTED)
        .order_by("-reviewed_at")[:limit]
    )
    return {"pending": pending, "rejected": rejected, "visits": visits}


@dataclass(frozen=True)
class DuplicateHint:
    """A registered household in the actor's area that a member being typed may belong to."""

    reason: str  # "same_document" or "similar_name"
    code: str
    household_id: str
    head_name: str
    district: str


def duplicate_hints(
    *,
    actor: Actor,
    document_type: str = "",
    document_number: str = "",
    given_names: str = "",
    surnames: str = "",
    birth_date: date | None = None,
    district: str = "",
    limit: int = 5,
) -> list[DuplicateHint]:
    """Live households matching a member being registered, checked as the officer types: the
    same ID (which the registration will refuse) or a similar name with a birth date within a
    year in the same district (which it will queue for review).

    Only households in the actor's area are searched: a household outside it is not reported
    at all, so the answer for an ID registered elsewhere is the answer for an unknown ID (the
    check must not tell who is enrolled where). The registration itself still checks the whole
    registry (``services.household_register``)."""
    hints: list[DuplicateHint] = []
    if document_type and document_number:
        clash = (
            Member.objects.filter(
                policies.member_q(actor),
                document_type=document_type,
                document_index=blind_index(PURPOSE_DOCUMENT, document_number.strip().upper()),
                is_live=True,
            )
            .select_related("household")
            .first()
        )
        if clash is not None:
            hints.append(_hint("same_document", clash.household))
    if given_names.strip() and surnames.strip() and birth_date is not None:
        keys = search_keys(blocking_keys(given_names, surnames, birth_date, district or None, None))
        ranked = (
            DedupKey.objects.filter(policies.member_q(actor), key__in=sorted(keys))
            .values("household_id")
            .annotate(shared=Count("id"))
            .order_by("-shared")[:25]
        )
        ids = [row["household_id"] for row in ranked]
        tokens = name_tokens(given_names, surnames)
        candidates = Household.objects.filter(
            policies.household_q(actor), pk__in=ids, status__in=LIVE_STATUSES
        ).prefetch_related(Prefetch("members", queryset=Member.objects.filter(is_active=True)))
        seen = {hint.household_id for hint in hints}
        for candidate in candidates:
            if str(candidate.pk) in seen:
                continue
            for member in candidate.members.all():
                close = abs((member.birth_date - birth_date).days) <= 366
                similar = name_similarity(tokens, name_tokens(member.given_names, member.surnames))
                if close and similar >= 0.75:
                    hints.append(_hint("similar_name", candidate))
                    break
    return hints[:limit]


def _hint(reason: str, household: Household) -> DuplicateHint:
    return DuplicateHint(
        reason=reason,
        code=household.code,
        household_id=str(household.pk),
        head_name=household.head_name,
        district=household.district_id,
    )


def correction_list(*, actor: Actor) -> QuerySet[VisitCorrection]:
    """Corrections of visits the actor may see (coca data: coca:read in the area)."""
    return (
        VisitCorrection.objects.filter(policies.decision_q(actor))
        .select_related("household")
        .order_by("-created_at", "-id")
    )


def appeal_list(*, actor: Actor) -> QuerySet[Appeal]:
    """Appeals the actor may see (coca data: coca:read in the area), newest first."""
    return (
        Appeal.objects.filter(policies.decision_q(actor))
        .select_related("household")
        .order_by("-created_at", "-id")
    )


def exclusion_list(*, actor: Actor) -> QuerySet[ExclusionProposal]:
    """Exclusion proposals the actor may see (coca data: coca:read in the area), newest first."""
    return (
        ExclusionProposal.objects.filter(policies.decision_q(actor))
        .select_related("household")
        .order_by("-created_at", "-id")
    )


def consent_list(*, actor: Actor, household: Household) -> QuerySet[Consent]:
    """Every version of the consent of a household in the actor's area, current first."""
    return Consent.objects.filter(household=household).order_by("-signed_on", "-created_at", "-id")


def stage_change_list(*, actor: Actor) -> QuerySet[StageChange]:
    """The transition ledger in the actor's area (by the district and programme recorded with
    each change) where it may see stages (coca data: ``policies.stage_q``), oldest first."""
    return (
        StageChange.objects.filter(policies.stage_change_q(actor), policies.stage_q(actor))
        .select_related("household", "program")
        .order_by("id")
    )


def stage_history(*, actor: Actor, household: Household) -> QuerySet[StageChange]:
    """One household's stage ledger, oldest first (the household is already in scope, and its
    stage visible to the actor: ``policies.stage_visible``)."""
    return (
        StageChange.objects.filter(household=household)
        .select_related("household", "program")
        .order_by("id")
    )


def household_codes(ids: Iterable[Any]) -> dict[Any, str]:
    """The codes of the households ``ids`` (one query): how exports name a household without
    reading its people."""
    return dict(Household.objects.filter(pk__in=list(ids)).values_list("pk", "code"))


def household_labels(ids: Iterable[Any], actor: Actor | None) -> dict[Any, str]:
    """How the alert pages name the households ``ids`` (one query): the code, and the head's
    name where ``actor`` may see the family's personal data (``farmers.consent``); codes only
    without an actor."""
    households = consent.with_consent(
        Household.objects.filter(pk__in=list(ids)).only(
            "pk", "code", "head_name", "district_id", "program_id"
        )
    )
    return {
        h.pk: f"{h.code} · {h.head_name}"
        if actor is not None and h.head_name and consent.personal_visible(actor, h)
        else h.code
        for h in households
    }


def _training_area(actor: Actor, scope: str = Scope.HOUSEHOLDS_READ) -> Q:
    """Training events held in the actor's area (their district and programme)."""
    return actor.area_q(district_path="district_id", program_path="program_id", scope=scope)


def training_event_list(*, actor: Actor) -> QuerySet[TrainingEvent]:
    """Active training events in the actor's area, with programme, funder and agreement joined
    and their attendance counted by sex (the members' own): one query a page."""
    return (
        TrainingEvent.objects.filter(_training_area(actor), is_active=True)
        .select_related("program", "funding_source", "funding_agreement")
        .annotate(
            attendees_count=Count("attendances"),
            attendees_female=Count("attendances", filter=Q(attendances__member__sex=Sex.FEMALE)),
            attendees_male=Count("attendances", filter=Q(attendances__member__sex=Sex.MALE)),
        )
    )


def training_event_get(*, actor: Actor, event_id: Any) -> TrainingEvent:
    """One visible training event with its attendance (members joined), or 404."""
    event = (
        training_event_list(actor=actor)
        .prefetch_related(
            Prefetch(
                "attendances",
                queryset=TrainingAttendance.objects.select_related("member").order_by(
                    "created_at", "id"
                ),
            )
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise NotFound()
    return event


def practice_list(*, actor: Actor) -> QuerySet[PracticeAdoption]:
    """Practices adopted by households in the actor's area."""
    return PracticeAdoption.objects.filter(
        policies.household_q(actor, prefix="household__")
    ).select_related("household")


def support_list(*, actor: Actor) -> QuerySet[Support]:
    """Active support items of households in the actor's area, funder and agreement joined."""
    return (
        Support.objects.filter(policies.household_q(actor, prefix="household__"), is_active=True)
        .select_related("funding_source", "funding_agreement")
        .order_by()
    )
