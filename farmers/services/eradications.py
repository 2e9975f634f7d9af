"""Eradication records (issue 15, point 6): coca eradicated on one of the family's plots,
``forced`` (CORAH) or ``voluntary`` (the family's own reduction), and their verification
(``workflow.ERADICATION_MACHINE`` through ``registry.workflow``; maker–checker).

A forced eradication recorded by a reviewer of the household (``policies.
eradication_verified_on_record``) is ``verified`` at once; any other record waits for a second
person. Only verified records feed the stage rules (``farmers.transition.rules``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import PermissionDenied
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import EradicationKind, EradicationStatus
from ..models import Eradication, Plot
from ..transition import recompute_on_commit
from ..workflow import ERADICATION_MACHINE, MAKER_CHECKER
from .common import _household_for_write, _may_write, _need_review_reason, _plot_for_write
from .enrolment import require_not_before_enrolment


def _clean(
    plot: Plot, eradicated_on: date, hectares: Any, kind: str, today: date
) -> tuple[Decimal, str]:
    """The hectares and kind, every field error at once: not in the future, above zero and at
    most the plot's area, a known kind."""
    errors: dict[str, list[ValidationError]] = {}
    if eradicated_on > today:
        errors["date"] = [
            ValidationError(_("The date cannot be in the future."), code="future_date")
        ]
    area = Decimal("0")
    try:
        area = clean_decimal(hectares, "hectares", max_value=Decimal("1000"))
        if area <= 0:
            raise field_error("hectares", _("Enter a number above zero."), "min_value")
        if area > plot.area_ha:
            raise field_error(
                "hectares",
                _("The eradicated area (%(ha)s ha) exceeds the plot's area (%(area)s ha).")
                % {"ha": f"{area.normalize():f}", "area": f"{plot.area_ha.normalize():f}"},
                "eradication_exceeds_plot_area",
            )
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        kind = clean_choice(kind, EradicationKind, "kind")
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return area, kind


@replays_lost_race(Eradication)
@transaction.atomic
def eradication_create(
    *,
    actor: Actor,
    plot: Any,
    eradicated_on: date,
    hectares: Any,
    kind: str,
    household: Any = None,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Eradication, bool]:
    """Record coca eradicated on one of a household's plots. Idempotent on ``id``. A forced
    eradication recorded by a reviewer of the household counts at once (``verified``); any
    other waits for a second person's verification (``eradication_transition``). ``household``,
    when given, must be the plot's (400 ``plot_not_in_household`` on ``plot``)."""
    payload = {
        "plot": str(plot),
        "eradicated_on": eradicated_on,
        "hectares": str(hectares),
        "kind": kind,
    }
    digest = request_hash(payload)
    existing = replayed(Eradication, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    found = _plot_for_write(actor, plot)
    if household is not None and str(found.household_id) != str(household):
        raise field_error(
            "plot", _("This plot does not belong to the household."), "plot_not_in_household"
        )
    household = found.household
    require_not_before_enrolment(household, eradicated_on, "date")
    area, kind = _clean(found, eradicated_on, hectares, kind, today or timezone.localdate())
    record = Eradication(
        household=household,
        plot=found,
        eradicated_on=eradicated_on,
        hectares=area,
        kind=kind,
        **actor.stamp(),
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    if policies.eradication_verified_on_record(actor, household, kind):
        record.status = EradicationStatus.VERIFIED
        record.verified_at = timezone.now()
        record.verified_by, record.verified_by_key = actor.user, actor.api_key
    record.save(force_insert=True)
    if record.status == EradicationStatus.VERIFIED:
        recompute_on_commit([household.pk])
    change_record(
        instance=record,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "household": household.code,
            "plot": str(found.pk),
            "eradicated_on": str(eradicated_on),
            "kind": kind,
            "status": record.status,
        },
        channel=channel,
    )
    return record, True


def _eradication_lock(actor: Actor, eradication: Any) -> Eradication:
    """Lock the record, then its household (404 when the actor cannot see it)."""
    pk = eradication.pk if isinstance(eradication, Eradication) else eradication
    locked = Eradication.objects.select_for_update().get(pk=pk)
    locked.household = _household_for_write(actor, locked.household_id, scope=Scope.HOUSEHOLDS_READ)
    return locked


def _eradication_maker_checker(step: Step[Eradication]) -> None:
    if policies.made_by(cast(Actor, step.actor), step.instance):
        raise PermissionDenied(
            _("You recorded this eradication: another person must verify it."),
            code="maker_checker",
        )


def _eradication_apply(step: Step[Eradication]) -> None:
    record = step.instance
    actor = cast(Actor, step.actor)
    record.verified_by, record.verified_by_key = actor.user, actor.api_key
    record.verified_at = timezone.now()
    record.review_note = (step.data.get("reason") or "").strip()


ERADICATION_FLOW: Flow[Eradication] = Flow(
    machine=ERADICATION_MACHINE,
    lock=_eradication_lock,
    parties=lambda step: policies.reviewer_parties(
        cast(Actor, step.actor), step.instance.household, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not verify eradications."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _eradication_maker_checker},
    apply=_eradication_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
)


def eradication_transition(
    *,
    actor: Actor,
    eradication: Eradication,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    channel: str = "api",
) -> Eradication:
    """A second person verifies (``verified``) or rejects (with a reason) an eradication
    record (``workflow.ERADICATION_MACHINE``); who recorded it cannot."""
    return transition(
        ERADICATION_FLOW,
        actor=actor,
        record=eradication,
        to=to,
        data={"reason": reason},
        expected_version=expected_version,
        channel=channel,
    )
