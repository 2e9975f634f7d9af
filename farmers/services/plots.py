"""Plots: boundaries (GeoJSON), geodesic areas, overlaps with other households' plots."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import clean_choice
from registry.history import change_record, diff, snapshot
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.services import check_version, field_error

from .. import geometry as geo
from ..choices import LIVE_STATUSES, Tenure
from ..models import Plot, PlotOverlap
from .cleaning import _clean_crops
from .common import _household_for_write, _may_write

# What a plot's edit may change (its boundary sets the area and the bounding box).
PLOT_FIELDS = (
    "name",
    "tenure",
    "crops",
    "geometry",
    "area_ha",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "is_active",
)


def _apply_geometry(plot: Plot, geometry: Any) -> Any:
    try:
        shape = geo.validate_plot_geometry(geo.parse_geojson(geometry))
    except ValidationError as exc:
        raise ValidationError({"geometry": exc.error_list}) from exc
    plot.geometry = geo.to_geojson(shape)
    plot.area_ha = geo.geodesic_area_ha(shape)
    plot.min_lon, plot.min_lat, plot.max_lon, plot.max_lat = geo.bbox(shape)
    return shape


def _refresh_overlaps(plot: Plot, shape: Any) -> None:
    """Recompute overlaps with other households' active plots: bounding box in SQL, exact in
    shapely."""
    PlotOverlap.objects.filter(Q(plot=plot) | Q(other=plot)).delete()
    if not plot.is_active:
        return
    candidates = (
        Plot.objects.filter(
            is_active=True,
            min_lon__lte=plot.max_lon,
            max_lon__gte=plot.min_lon,
            min_lat__lte=plot.max_lat,
            max_lat__gte=plot.min_lat,
        )
        .exclude(household_id=plot.household_id)
        .only("id", "geometry")
    )
    rows = []
    for other in candidates:
        area = geo.overlap_area_ha(shape, geo.parse_geojson(other.geometry))
        if area > 0:
            rows.append(PlotOverlap(plot=plot, other=other, area_ha=area))
            rows.append(PlotOverlap(plot=other, other=plot, area_ha=area))
    PlotOverlap.objects.bulk_create(rows, ignore_conflicts=True)


@replays_lost_race(Plot)
@transaction.atomic
def plot_create(
    *,
    actor: Actor,
    household: Any,
    name: str,
    tenure: str,
    geometry: Any,
    crops: Any = None,
    id: Any = None,
    channel: str = "api",
) -> tuple[Plot, bool]:
    """Record a plot with its boundary; area and overlaps are computed. Idempotent on ``id``."""
    payload = {
        "household": str(household),
        "name": name,
        "tenure": tenure,
        "geometry": geometry,
        "crops": crops,
    }
    digest = request_hash(payload)
    existing = replayed(Plot, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    if owner.status not in LIVE_STATUSES:
        raise field_error(
            "household", _("Plots can only be added to live households."), "inactive_household"
        )
    plot = Plot(
        household=owner,
        name=" ".join(str(name or "").split())[:120],
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    errors: dict[str, list[ValidationError]] = {}
    if not plot.name:
        errors["name"] = [ValidationError(_("This field is required."), code="required")]
    try:
        plot.tenure = clean_choice(tenure, Tenure, "tenure")
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        plot.crops = _clean_crops(crops)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    shape = None
    try:
        shape = _apply_geometry(plot, geometry)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    plot.save(force_insert=True)
    _refresh_overlaps(plot, shape)
    owner.touch()
    change_record(
        instance=plot,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": owner.code, "area_ha": str(plot.area_ha)},
        channel=channel,
    )
    return plot, True


@transaction.atomic
def plot_update(
    *,
    actor: Actor,
    plot: Plot,
    data: dict[str, Any],
    expected_version: int | None,
    channel: str = "api",
) -> Plot:
    """Change a plot's name, tenure, crops, boundary or active flag."""
    locked = Plot.objects.select_for_update().get(pk=plot.pk)
    _household_for_write(actor, locked.household_id)
    check_version(locked, expected_version)
    fields = ["name", "tenure", "crops", "geometry", "area_ha", "is_active"]
    before = snapshot(locked, fields)
    if "name" in data:
        locked.name = " ".join(str(data["name"] or "").split())[:120]
        if not locked.name:
            raise field_error("name", _("This field is required."), "required")
    if "tenure" in data:
        locked.tenure = clean_choice(data["tenure"], Tenure, "tenure")
    if "crops" in data:
        locked.crops = _clean_crops(data["crops"])
    if "is_active" in data:
        locked.is_active = bool(data["is_active"])
    shape = (
        _apply_geometry(locked, data["geometry"])
        if "geometry" in data
        else geo.parse_geojson(locked.geometry)
    )
    changes = diff(before, snapshot(locked, fields))
    if changes:
        locked.touch(*PLOT_FIELDS)
        if {"geometry", "is_active"} & set(changes):
            _refresh_overlaps(locked, shape)
        change_record(
            instance=locked,
            action=ChangeAction.DEACTIVATE
            if changes.get("is_active") == [True, False]
            else ChangeAction.UPDATE,
            actor=actor,
            changes={k: v for k, v in changes.items() if k != "geometry"}
            | ({"geometry": "changed"} if "geometry" in changes else {}),
            channel=channel,
        )
    return locked
