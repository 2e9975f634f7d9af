"""Who may see and do what with the farmers app's records: the one door for access.

Every rule is the actor's area (``registry.actors.Actor.area_q`` / ``covers``) around a
household: a person's role counts in its own organization's districts and programmes, a key's
scopes in its organization's. Services, selectors, serializers, the admin, the API views and
the field pages ask here and hold no permission logic of their own.

- ``<entity>_q(actor, scope=...)``: a ``Q`` for the rows the actor may see (``scope=None``) or
  act on with ``scope`` (households, plots, agreements, visits, stage changes, duplicates);
- ``<entity>_can(actor, obj, action)``: whether the actor may make ``action`` on ``obj``
  (actions: ``view``, ``read``, ``write``, ``review``, ``read_coca``);
- ``require_in_area``: the field error a write outside the actor's area raises;
- ``is_maker``: the maker–checker rule (who made a record may not check it);
- ``stage_visible`` / ``stage_q`` / ``may_see_stages``: the stage is coca data (issue 15): a
  household's ``stage``, ``stage_since``, ``milestones`` and stage ledger are shown to callers
  with coca:read in its area and to the programme's own people in theirs
  (``registry.policies.stage_area_q``), to nobody else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from registry import policies as registry_policies
from registry.actors import Actor
from registry.choices import Role, Scope
from registry.exceptions import PermissionDenied
from registry.models import ApiKey, District, Program
from registry.services import field_error

from .choices import EradicationKind
from .models import Household
from .workflow import PROGRAMME_STAFF, REVIEWER

# What each action needs in the household's area (``None``: only that the area covers it).
ACTIONS: dict[str, str | None] = {
    "view": None,
    "read": Scope.HOUSEHOLDS_READ,
    "write": Scope.HOUSEHOLDS_WRITE,
    "review": Scope.HOUSEHOLDS_REVIEW,
    "read_coca": Scope.COCA_READ,
}


def _scope(action: str) -> str | None:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None


# --- households and what hangs from them ---------------------------------------------------


def household_q(actor: Actor, scope: str | None = None, *, prefix: str = "") -> Q:
    """Households in the actor's area (where it holds ``scope``, if given); ``prefix`` reaches
    the household (or its denormalised district and programme) from another model."""
    return actor.area_q(
        district_path=f"{prefix}district_id", program_path=f"{prefix}program_id", scope=scope
    )


def household_can(actor: Actor, household: Household, action: str) -> bool:
    """Whether ``actor`` may make ``action`` on ``household``."""
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=_scope(action)
    )


def may_read_indicators(actor: Actor) -> bool:
    """Whether ``actor`` may read indicators and the dashboard (supervisors, programme staff,
    funders' keys); each figure is still narrowed to its area."""
    return actor.has_scope(Scope.INDICATORS_READ)


def may_register(actor: Actor) -> bool:
    """Whether ``actor`` may register households at all (somewhere in its area)."""
    return actor.has_scope(Scope.HOUSEHOLDS_WRITE)


def require_in_area(actor: Actor, *, district: District, program: Program) -> None:
    """Refuse writes outside the actor's districts and programmes (reported on the field)."""
    if not actor.covers(district=district.ubigeo, program=program.pk, scope=Scope.HOUSEHOLDS_WRITE):
        raise field_error(
            "district",
            _("This district and programme are outside your assigned area."),
            "out_of_area",
        )


def member_q(actor: Actor, scope: str | None = None) -> Q:
    """Members (or dedup keys) of households in the actor's area."""
    return household_q(actor, scope, prefix="household__")


def plot_q(actor: Actor, scope: str | None = None) -> Q:
    """Plots of households in the actor's area."""
    return household_q(actor, scope, prefix="household__")


def agreement_q(actor: Actor, scope: str | None = None) -> Q:
    """Agreements of households in the actor's area."""
    return household_q(actor, scope, prefix="household__")


def verification_q(actor: Actor, scope: str | None = None) -> Q:
    """Verification visits of households in the actor's area."""
    return household_q(actor, scope, prefix="household__")


def eradication_q(actor: Actor, scope: str | None = None) -> Q:
    """Eradication records of households in the actor's area (their coca figures still need
    ``coca_visible``)."""
    return household_q(actor, scope, prefix="household__")


def installation_q(actor: Actor, scope: str | None = None) -> Q:
    """Crop installations of households in the actor's area."""
    return household_q(actor, scope, prefix="household__")


def installation_parties(actor: Actor, household: Household) -> set[str]:
    """The parties ``actor`` holds on a household's crop installations: ``writer`` when it may
    write the household's records (``workflow.INSTALLATION_MACHINE``)."""
    return {"writer"} if household_can(actor, household, "write") else set()


def eradication_verified_on_record(actor: Actor, household: Household, kind: str) -> bool:
    """Whether an eradication counts as soon as ``actor`` records it: a forced one (CORAH)
    recorded by programme people who review the household's records (``households:review`` in
    its area). Anything else waits for a second person's verification."""
    return kind == EradicationKind.FORCED and household_can(actor, household, "review")


def stage_change_q(actor: Actor, scope: str | None = None) -> Q:
    """Stage changes in the actor's area (by the district and programme recorded with each)."""
    return household_q(actor, scope)


def record_can(actor: Actor, record: Any, action: str) -> bool:
    """Whether ``actor`` may make ``action`` on a household's record (plot, agreement, visit,
    support) or on the household itself."""
    household = record if isinstance(record, Household) else record.household
    return household_can(actor, household, action)


def coca_visible(actor: Actor | None, record: Any) -> bool:
    """Coca figures of ``record`` (an agreement, a visit, a stage change, or a household) are
    shown only to callers holding coca:read in the area of its household."""
    return actor is not None and record_can(actor, record, "read_coca")


def may_read_coca(actor: Actor) -> bool:
    """Whether ``actor`` holds coca:read at all (each record still needs ``coca_visible``)."""
    return actor.has_scope(Scope.COCA_READ)


def stage_visible(actor: Actor | None, record: Any) -> bool:
    """Whether the stage data of ``record`` (a household, or a stage change: its district and
    programme) is shown to ``actor``: where its coca figures are (``coca_visible``), or to the
    programme's own people in their area."""
    if actor is None:
        return False
    if actor.unrestricted:
        return True
    household = record if isinstance(record, Household) else None
    district = household.district_id if household is not None else record.district_id
    program = household.program_id if household is not None else record.program_id
    # ``coca_visible`` without reaching through ``record.household`` (no query per row).
    return registry_policies.stage_covers(actor, district=district, program=program)


def stage_q(actor: Actor | None, *, prefix: str = "") -> Q:
    """Households (or, with ``prefix``, rows reaching one's district and programme) whose stage
    data the actor may see."""
    return registry_policies.stage_area_q(
        actor, district_path=f"{prefix}district_id", program_path=f"{prefix}program_id"
    )


def may_see_stages(actor: Actor | None) -> bool:
    """Whether the actor may see stage data anywhere (filter by stage, read the ledger)."""
    return registry_policies.may_see_stages(actor)


def require_stages(actor: Actor | None, record: Any = None) -> None:
    """403 ``missing_scope`` unless the actor may see stage data (of ``record``, if given)."""
    allowed = may_see_stages(actor) if record is None else stage_visible(actor, record)
    registry_policies.require_stages(allowed)


def reviewer_parties(actor: Actor, household: Household, scope: str) -> set[str]:
    """The workflow parties ``actor`` holds on a household's review: ``reviewer`` when its area
    covers the household with ``scope`` (the move's)."""
    covers = actor.covers(district=household.district_id, program=household.program_id, scope=scope)
    return {REVIEWER} if covers else set()


# --- people deciding about people ----------------------------------------------------------


def is_programme_staff(actor: Actor | None, household: Household) -> bool:
    """Whether ``actor`` is programme staff of the agency that runs the household's programme,
    in a membership whose area covers the household (or a superuser). Keys never are: a
    decision about a family (an override of a suspension, an exclusion, an appeal) is a
    person's."""
    if actor is None:
        return False
    if actor.unrestricted:
        return True
    if actor.api_key is not None or actor.user is None:
        return False
    agency = (
        Program.objects.filter(pk=household.program_id).values_list("agency_id", flat=True).first()
    )
    return any(
        area.role == Role.PROGRAM_STAFF and area.organization_id == agency
        for area in actor.covering(district=household.district_id, program=household.program_id)
    )


def decision_q(actor: Actor) -> Q:
    """Exclusion proposals and appeals the actor may see: coca data (a relapse, an exclusion),
    so coca:read in the household's area."""
    return household_q(actor, Scope.COCA_READ, prefix="household__")


def decision_parties(actor: Actor, household: Household) -> set[str]:
    """The workflow parties ``actor`` holds on a decision about ``household`` (an exclusion, an
    appeal): ``programme_staff`` for the programme's agency's staff."""
    return {PROGRAMME_STAFF} if is_programme_staff(actor, household) else set()


def request_q(actor: Actor | None) -> Q:
    """Data-subject requests the actor may see and handle (Law 29733): programme staff of the
    agency running the household's programme, in their membership's area (as
    ``is_programme_staff``); keys never (a person's data rights are handled by people)."""
    if actor is None:
        return Q(pk__in=[])
    if actor.unrestricted:
        return Q()
    if actor.api_key is not None or actor.user is None:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    for area in actor.areas:
        if area.role == Role.PROGRAM_STAFF and area.organization_id is not None:
            condition |= area.q("household__district_id", "household__program_id") & Q(
                household__program__agency_id=area.organization_id
            )
    return condition


def may_handle_requests(actor: Actor | None) -> bool:
    """Whether ``actor`` handles data-subject requests somewhere (programme staff)."""
    if actor is None:
        return False
    if actor.unrestricted:
        return True
    if actor.api_key is not None or actor.user is None:
        return False
    return any(area.role == Role.PROGRAM_STAFF for area in actor.areas)


def require_suspension_override(actor: Actor | None, household: Household) -> None:
    """Only the programme's staff may override a suspension (403 on ``override_reason``)."""
    if not is_programme_staff(actor, household):
        raise PermissionDenied(
            _("Only the programme's staff may override a suspension."),
            code="override_not_allowed",
            attr="override_reason",
        )


# --- the duplicate queue -------------------------------------------------------------------


def duplicate_q(actor: Actor, scope: str | None = None) -> Q:
    """Possible duplicates whose two households are both in the actor's area (the candidate
    may be another programme's family: its name is not shown to who may not see it)."""
    return household_q(actor, scope, prefix="household__") & household_q(
        actor, scope, prefix="candidate__"
    )


def duplicate_can(actor: Actor, duplicate: Any, action: str = "review") -> bool:
    """Whether ``actor`` may make ``action`` on a pair: it must on both households."""
    return all(
        household_can(actor, household, action)
        for household in (duplicate.household, duplicate.candidate)
    )


# --- maker–checker -------------------------------------------------------------------------


def is_maker(actor: Actor, user_id: Any, key_id: Any) -> bool:
    """Maker–checker: whether ``actor`` may not check a record made by the person ``user_id``
    (through a session) or with the key ``key_id``.

    People are compared, not keys: the same person is refused whether they made or check it
    through a session or any key acting for them. A key that acts for nobody (an automation)
    may not check what was made with a key of its own organization (a second key of the same
    organization is not a second person).
    """
    maker_key = (
        ApiKey.objects.filter(pk=key_id).only("organization_id", "acts_for_user_id").first()
        if key_id is not None
        else None
    )
    maker_person = user_id if user_id is not None else getattr(maker_key, "acts_for_user_id", None)
    checker_person = actor.person_id
    if checker_person is not None and checker_person == maker_person:
        return True
    if actor.api_key is None or maker_key is None:
        return False
    if actor.api_key.pk == maker_key.pk:
        return True
    return checker_person is None and actor.api_key.organization_id == maker_key.organization_id


def made_by(actor: Actor, record: Any) -> bool:
    """Whether ``actor`` made ``record`` (its ``created_by`` / ``created_by_key`` pair), in the
    maker–checker sense of ``is_maker``."""
    return is_maker(actor, record.created_by_id, record.created_by_key_id)


__all__ = [
    "ACTIONS",
    "agreement_q",
    "coca_visible",
    "decision_parties",
    "decision_q",
    "duplicate_can",
    "duplicate_q",
    "eradication_q",
    "eradication_verified_on_record",
    "household_can",
    "household_q",
    "is_maker",
    "is_programme_staff",
    "made_by",
    "may_handle_requests",
    "may_read_coca",
    "may_see_stages",
    "member_q",
    "plot_q",
    "record_can",
    "request_q",
    "require_in_area",
    "require_stages",
    "require_suspension_override",
    "reviewer_parties",
    "stage_change_q",
    "stage_q",
    "stage_visible",
    "verification_q",
]
