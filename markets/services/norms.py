"""Yield norms: the expected harvest per hectare behind the side-selling check."""

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
from ..models import YieldNorm
from .amounts import CENTIMO


@transaction.atomic
def yield_norm_save(
    *,
    actor: Actor | None,
    crop: str,
    product_form: str,
    kg_per_ha_per_season: Any,
    source: str = "",
    channel: str = "admin",
) -> YieldNorm:
    """Set the expected yield of a crop in a product form (programme agencies' staff or platform
    administrators, in the admin: the norms hold for every programme)."""
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
    norm = (
        YieldNorm.objects.select_for_update().filter(crop=crop, product_form=product_form).first()
    )
    created = norm is None
    before = {} if norm is None else snapshot(norm)
    if norm is None:
        norm = YieldNorm(crop=crop, product_form=product_form)
    norm.kg_per_ha_per_season = value
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
