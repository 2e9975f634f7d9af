"""Yield norms (by crop, product form, zone and plantation age) and harvest calendars: the
expected harvest behind the side-selling check (``markets.compliance``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from farmers.choices import Crop
from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import PermissionDenied
from registry.history import change_record, diff, snapshot
from registry.services import field_error

from .. import policies
from ..choices import forms_for_crop
from ..models import HarvestCalendar, YieldNorm
from .amounts import CENTIMO

MAX_AGE_YEARS = 30


def _age(value: Any, attr: str, current: int) -> int:
    """A whole number of years from 0 to ``MAX_AGE_YEARS`` (``current`` when not given)."""
    if value is None or value == "":
        return current
    try:
        years = int(str(value).strip())
    except ValueError as exc:
        raise field_error(attr, _("Enter a whole number."), "invalid") from exc
    if not 0 <= years <= MAX_AGE_YEARS:
        raise field_error(
            attr, _("Enter a number from 0 to %(max)s.") % {"max": MAX_AGE_YEARS}, "max_value"
        )
    return years


def _clean_months(months: Any) -> list[int]:
    """Months 1–12, at least one, each once, in order."""
    try:
        found = sorted({int(m) for m in months or ()})
    except (TypeError, ValueError) as exc:
        raise field_error("months", _("Choose months from 1 to 12."), "invalid") from exc
    if not found:
        raise field_error("months", _("Choose at least one harvest month."), "required")
    if found[0] < 1 or found[-1] > 12:
        raise field_error("months", _("Choose months from 1 to 12."), "invalid")
    return found


@transaction.atomic
def harvest_calendar_save(
    *,
    actor: Actor | None,
    crop: str,
    months: Any,
    department: Any = None,
    source: str = "",
    channel: str = "admin",
) -> HarvestCalendar:
    """Set the harvest months of a crop in a zone (a department; ``None``: every zone), the
    same people as the yield norms."""
    if not policies.yield_norm_can(actor):
        raise PermissionDenied(
            _("Only programme agencies' staff change harvest calendars."),
            code="not_program_agency",
        )
    crop = clean_choice(crop, Crop, "crop")
    chosen = _clean_months(months)
    zone = getattr(department, "pk", department) or None
    calendar = (
        HarvestCalendar.objects.select_for_update()
        .filter(crop=crop, department_id=zone)
        .order_by("pk")  # not the default ordering: it joins the department (nullable)
        .first()
    )
    created = calendar is None
    before = {} if calendar is None else snapshot(calendar)
    if calendar is None:
        calendar = HarvestCalendar(crop=crop, department_id=zone)
    calendar.months = chosen
    calendar.source = source.strip()[:300]
    changes = diff(before, snapshot(calendar))
    if created or changes:
        calendar.save()
        change_record(
            instance=calendar,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return calendar


@transaction.atomic
def yield_norm_save(
    *,
    actor: Actor | None,
    crop: str,
    product_form: str,
    kg_per_ha_per_season: Any,
    source: str = "",
    department: Any = None,
    bearing_from_years: Any = None,
    full_from_years: Any = None,
    channel: str = "admin",
) -> YieldNorm:
    """Set the expected yield of a mature stand of a crop in a product form, in a zone (a
    department; ``None``: every zone), and the ages of its first harvest and full production
    (``None`` keeps them; 0 for a new norm) — programme agencies' staff or platform
    administrators, in the admin: the norms hold for every programme."""
    if not policies.yield_norm_can(actor):
        raise PermissionDenied(
            _("Only programme agencies' staff change yield norms."), code="not_program_agency"
        )
    crop = clean_choice(crop, Crop, "crop")
    if product_form not in forms_for_crop(crop):
        raise field_error(
            "product_form", _("This product form does not suit the crop."), "invalid_product_form"
        )
    value = clean_decimal(kg_per_ha_per_season, "kg_per_ha_per_season").quantize(CENTIMO)
    if value <= 0:
        raise field_error("kg_per_ha_per_season", _("The yield must be above zero."), "min_value")
    zone = getattr(department, "pk", department) or None
    norm = (
        YieldNorm.objects.select_for_update()
        .filter(crop=crop, product_form=product_form, department_id=zone)
        .order_by("pk")  # not the default ordering: it joins the department (nullable)
        .first()
    )
    created = norm is None
    before = {} if norm is None else snapshot(norm)
    if norm is None:
        norm = YieldNorm(crop=crop, product_form=product_form, department_id=zone)
    norm.kg_per_ha_per_season = value
    bearing = _age(bearing_from_years, "bearing_from_years", norm.bearing_from_years)
    full = _age(full_from_years, "full_from_years", norm.full_from_years)
    if full < bearing:
        raise field_error(
            "full_from_years",
            _("Full production cannot come before the first harvest."),
            "ages_out_of_order",
        )
    norm.bearing_from_years, norm.full_from_years = bearing, full
    norm.source = source.strip()[:300]
    norm.full_clean(validate_constraints=False)
    changes = diff(before, snapshot(norm))
    if created or changes:
        norm.save()
        change_record(
            instance=norm,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return norm
