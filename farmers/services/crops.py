"""Crop installations (issue 16): what the family planted on a plot and how it fares
(``workflow.INSTALLATION_MACHINE`` through ``registry.workflow``).

An installation's crop is on the programme's licit-crop list, its variety on the crop's list,
its area at most what the plot has left beside its other live installations, and its planting
date a sane past day. The stage engine counts live installations on plots a confirmed visit saw
as licit hectares, so a create or a move queues the household's recompute."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.api.fields import EARLIEST_PLANTING
from registry.choices import ChangeAction, Scope
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import NotFound, PermissionDenied
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.models import Program
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import LIVE_INSTALLATION_STATUSES, VARIETIES, Crop, InstallationStatus, Variety
from ..models import CropInstallation, Plot, Support
from ..transition import recompute_on_commit
from ..workflow import INSTALLATION_MACHINE
from .common import _household_for_write, _may_write, _need_review_reason, _plot_for_write

MAX_PLANTS = 10_000_000


def _errors_of(errors: dict[str, list[ValidationError]], check: Any) -> Any:
    """Run ``check()``; a field error it raises joins ``errors`` (the value is then ``None``)."""
    try:
        return check()
    except ValidationError as exc:
        errors.update(exc.error_dict)
        return None


def _clean_crop(crop: Any, variety: Any, program: Program) -> tuple[str, str]:
    """A crop of the programme's licit list and a variety of the crop's list ("" for a crop with
    no list)."""
    crop = clean_choice(crop, Crop, "crop")
    if crop not in (program.licit_crops or ()):
        raise field_error(
            "crop", _("This crop is not on the programme's licit-crop list."), "crop_not_licit"
        )
    variety = str(variety or "").strip()
    listed = VARIETIES.get(crop, ())
    if not listed and not variety:
        return crop, ""
    if not variety:
        raise field_error("variety", _("Choose the variety."), "required")
    if variety not in listed:
        raise field_error(
            "variety",
            _("Unknown variety “%(value)s” for this crop. Use one of: %(valid)s.")
            % {"value": variety, "valid": ", ".join(listed) or "—"},
            "unknown_variety",
        )
    return crop, Variety(variety).value


def _clean_area(plot: Plot, area_ha: Any) -> Decimal:
    """Above zero and at most the plot's area minus its other live installations' area."""
    area = clean_decimal(area_ha, "area_ha", max_value=Decimal("1000"))
    if area <= 0:
        raise field_error("area_ha", _("Enter a number above zero."), "min_value")
    taken = CropInstallation.objects.filter(
        plot=plot, status__in=LIVE_INSTALLATION_STATUSES
    ).aggregate(total=Sum("area_ha"))["total"] or Decimal("0")
    free = max(plot.area_ha - taken, Decimal("0"))
    if area > free:
        raise field_error(
            "area_ha",
            _(
                "The installation's area (%(ha)s ha) exceeds what the plot has left "
                "(%(free)s ha of %(area)s ha)."
            )
            % {
                "ha": f"{area.normalize():f}",
                "free": f"{free.normalize():f}",
                "area": f"{plot.area_ha.normalize():f}",
            },
            "installation_exceeds_plot_area",
        )
    return area


def _clean_plants(plants: Any) -> int:
    """A whole number of plants above zero."""
    try:
        number = int(str(plants).strip())
    except (TypeError, ValueError) as exc:
        raise field_error("plants", _("Enter a whole number."), "invalid") from exc
    if number <= 0:
        raise field_error("plants", _("Enter a number above zero."), "min_value")
    if number > MAX_PLANTS:
        raise field_error("plants", _("Enter at most %(max)s.") % {"max": MAX_PLANTS}, "max_value")
    return number


def _clean_planting_date(planted_on: Any, today: date) -> date:
    """A day from 1950-01-01 to today."""
    if not isinstance(planted_on, date):
        raise field_error("planting_date", _("Enter a date as YYYY-MM-DD."), "invalid")
    if planted_on > today:
        raise field_error("planting_date", _("The date cannot be in the future."), "future_date")
    if planted_on < EARLIEST_PLANTING:
        raise field_error(
            "planting_date",
            _("Use a date from %(earliest)s to %(latest)s.")
            % {"earliest": EARLIEST_PLANTING.isoformat(), "latest": today.isoformat()},
            "date_out_of_range",
        )
    return planted_on


def _clean_support(support: Any, household_id: Any) -> Support | None:
    """The household's support item that paid for the installation, if given."""
    if support in (None, ""):
        return None
    try:
        found = Support.objects.filter(pk=int(support), household_id=household_id).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise field_error(
            "support",
            _("This support item was not given to the household."),
            "support_not_in_household",
        )
    return found


@replays_lost_race(CropInstallation)
@transaction.atomic
def installation_create(
    *,
    actor: Actor,
    plot: Any,
    crop: Any,
    area_ha: Any,
    plants: Any,
    planting_date: Any,
    variety: Any = "",
    support: Any = None,
    household: Any = None,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[CropInstallation, bool]:
    """Record a crop installed on one of a household's plots. Idempotent on ``id``. Every field
    error at once (400): ``crop_not_licit``, ``unknown_variety``,
    ``installation_exceeds_plot_area``, ``future_date`` / ``date_out_of_range``,
    ``support_not_in_household``; ``household``, when given, must be the plot's
    (``plot_not_in_household``). Nothing is written on an error."""
    payload = {
        "plot": str(plot),
        "crop": str(crop),
        "variety": str(variety or ""),
        "area_ha": str(area_ha),
        "plants": str(plants),
        "planting_date": str(planting_date),
        "support": str(support or ""),
    }
    digest = request_hash(payload)
    existing = replayed(CropInstallation, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    found = _plot_for_write(actor, plot)
    if household is not None and str(found.household_id) != str(household):
        raise field_error(
            "plot", _("This plot does not belong to the household."), "plot_not_in_household"
        )
    if not found.is_active:
        raise field_error("plot", _("This plot is no longer active."), "plot_inactive")
    owner = found.household
    program = Program.objects.only("pk", "licit_crops").get(pk=owner.program_id)
    errors: dict[str, list[ValidationError]] = {}
    crops = _errors_of(errors, lambda: _clean_crop(crop, variety, program))
    area = _errors_of(errors, lambda: _clean_area(found, area_ha))
    count = _errors_of(errors, lambda: _clean_plants(plants))
    planted_on = _errors_of(
        errors, lambda: _clean_planting_date(planting_date, today or timezone.localdate())
    )
    paid_by = _errors_of(errors, lambda: _clean_support(support, owner.pk))
    if errors:
        raise ValidationError(errors)
    record = CropInstallation(
        household=owner,
        plot=found,
        crop=crops[0],
        variety=crops[1],
        area_ha=area,
        plants=count,
        planted_on=planted_on,
        support=paid_by,
        **actor.stamp(),
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    record.save(force_insert=True)
    recompute_on_commit([owner.pk])
    change_record(
        instance=record,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "household": owner.code,
            "plot": str(found.pk),
            "crop": record.crop,
            "variety": record.variety,
            "area_ha": str(area),
            "plants": count,
            "planting_date": str(planted_on),
            "support": paid_by.pk if paid_by else None,
        },
        channel=channel,
    )
    return record, True


def _installation_lock(actor: Actor, installation: Any) -> CropInstallation:
    """Lock the installation, then its household (404 when the actor cannot see it)."""
    pk = installation.pk if isinstance(installation, CropInstallation) else installation
    locked = CropInstallation.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound()
    locked.household = _household_for_write(actor, locked.household_id, scope=Scope.HOUSEHOLDS_READ)
    return locked


def _installation_apply(step: Step[CropInstallation]) -> None:
    record = step.instance
    reason = (step.data.get("reason") or "").strip()
    if reason:
        record.status_note = reason
        step.changes["reason"] = reason
    if step.to == InstallationStatus.LOST:
        record.lost_on = step.today
        step.changes["lost_on"] = step.today.isoformat()


INSTALLATION_FLOW: Flow[CropInstallation] = Flow(
    machine=INSTALLATION_MACHINE,
    lock=_installation_lock,
    parties=lambda step: policies.installation_parties(
        cast(Actor, step.actor), step.instance.household
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not change crop installations."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    apply=_installation_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
)


def installation_transition(
    *,
    actor: Actor,
    installation: CropInstallation | Any,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> CropInstallation:
    """Mark an installation ``producing`` or ``lost`` (with a reason; ``lost_on`` is the day)
    (``workflow.INSTALLATION_MACHINE``)."""
    return transition(
        INSTALLATION_FLOW,
        actor=actor,
        record=installation,
        to=to,
        data={"reason": reason},
        expected_version=expected_version,
        channel=channel,
        today=today,
    )
