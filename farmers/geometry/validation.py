"""Validation: whether a parsed geometry can be a plot (valid topology, inside Peru, a sane area,
not too many vertices), with errors that say where the boundary goes wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np
import shapely
from django.utils.translation import gettext_lazy as _
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .base import (
    MAX_VERTICES,
    PlotGeometry,
    _fail,
    _invalid_coordinates,
    _invalid_type,
    _polygons,
    _too_many_vertices,
)
from .geojson import parse_geojson
from .measurement import M2_PER_HA, _geodesic_area_m2

# Peru's bounding box (a coarse sanity check, not a border test: the box also covers bits of
# Ecuador, Colombia, Brazil, Bolivia and Chile).
PERU_MIN_LON, PERU_MAX_LON = -81.4, -68.6
PERU_MIN_LAT, PERU_MAX_LAT = -18.4, 0.1

MIN_AREA_M2 = 10.0  # a plot must be larger than this (m²)
MAX_AREA_HA = 5000  # ... and smaller than this (ha)

_VALIDITY_RE = re.compile(r"^(?P<reason>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]")


def _rings(geom: PlotGeometry) -> Iterator[Any]:
    for polygon in _polygons(geom):
        yield polygon.exterior
        yield from polygon.interiors


def vertex_count(geom: PlotGeometry) -> int:
    """Distinct vertices over all rings (each ring's closing position is not counted)."""
    return sum(max(len(ring.coords) - 1, 0) for ring in _rings(geom))


def _inside_box(bounds: tuple[float, float, float, float]) -> bool:
    min_lon, min_lat, max_lon, max_lat = bounds
    # Chained comparisons are False for NaN, so a NaN coordinate is never "inside".
    return (
        PERU_MIN_LON <= min_lon <= max_lon <= PERU_MAX_LON
        and PERU_MIN_LAT <= min_lat <= max_lat <= PERU_MAX_LAT
    )


def _check_inside_peru(geom: PlotGeometry) -> None:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if _inside_box((min_lon, min_lat, max_lon, max_lat)):
        return
    if _inside_box((min_lat, min_lon, max_lat, max_lon)):
        _fail(
            _(
                "The plot lies outside Peru; its longitude and latitude look swapped "
                "(GeoJSON lists longitude first)."
            ),
            "outside_peru",
        )
    _fail(_("The plot lies outside Peru."), "outside_peru")


def _coordinate(text: str) -> str:
    """A coordinate from GEOS's explanation, to 6 decimals (about 10 cm)."""
    try:
        return f"{float(text):.6f}"
    except ValueError:
        return text


def _raise_invalid(geom: PlotGeometry) -> NoReturn:
    """Explain why GEOS finds the geometry invalid, with the place where it happens."""
    explanation = explain_validity(geom)
    match = _VALIDITY_RE.match(explanation)
    reason = (match.group("reason") if match else explanation).strip()
    where = (
        {"lon": _coordinate(match.group("x")), "lat": _coordinate(match.group("y"))}
        if match
        else {}
    )
    if "Self-intersection" in reason:
        message = (
            _(
                "The boundary crosses itself (or two of its parts overlap) near longitude "
                "%(lon)s, latitude %(lat)s: trace it in one direction without crossing."
            )
            % where
            if where
            else _("The boundary crosses itself (or two of its parts overlap).")
        )
        _fail(message, "self_intersection")
    if reason.startswith("Hole lies outside shell"):
        _fail(
            (
                _(
                    "A hole of the plot lies outside its boundary, near longitude %(lon)s, "
                    "latitude %(lat)s."
                )
                % where
                if where
                else _("A hole of the plot lies outside its boundary.")
            ),
            "hole_outside_shell",
        )
    if reason.startswith("Too few points"):
        _fail(
            _("A boundary ring needs at least 3 distinct corners and the first one repeated."),
            "ring_too_short",
        )
    _fail(
        _("The plot geometry is not valid: %(reason)s.") % {"reason": explanation},
        "invalid_geometry",
    )


def validate_plot_geometry(geom: BaseGeometry) -> PlotGeometry:
    """Check that a parsed geometry can be a plot, and return it.

    In order (cheap checks first): a non-empty ``Polygon`` or ``MultiPolygon`` with finite
    coordinates (``invalid_type``, ``invalid_coordinates``); at most ``MAX_VERTICES`` vertices
    (``too_many_vertices``); inside Peru's bounding box (``outside_peru``, with a hint when
    longitude and latitude look swapped); valid topology per GEOS, worded with
    ``explain_validity`` (``self_intersection`` for a crossing boundary or overlapping parts,
    ``hole_outside_shell``, ``ring_too_short``, else ``invalid_geometry``); a geodesic area
    above ``MIN_AREA_M2`` and below ``MAX_AREA_HA`` (``too_small``, ``too_large``).
    """
    if not isinstance(geom, Polygon | MultiPolygon):
        _invalid_type(getattr(geom, "geom_type", type(geom).__name__))
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        _invalid_coordinates()
    if vertex_count(geom) > MAX_VERTICES:
        _too_many_vertices()
    _check_inside_peru(geom)
    if not geom.is_valid:
        _raise_invalid(geom)
    area_m2 = _geodesic_area_m2(geom)
    if area_m2 <= MIN_AREA_M2:
        _fail(
            _("The plot measures %(area)s m²; a plot must be larger than %(min)s m².")
            % {"area": f"{area_m2:.1f}", "min": f"{MIN_AREA_M2:g}"},
            "too_small",
        )
    if area_m2 >= MAX_AREA_HA * M2_PER_HA:
        _fail(
            _("The plot measures %(area)s ha; a plot must be smaller than %(max)s ha.")
            % {"area": f"{area_m2 / M2_PER_HA:.0f}", "max": MAX_AREA_HA},
            "too_large",
        )
    return geom


def clean_plot_geometry(data: dict[str, Any] | str) -> PlotGeometry:
    """``parse_geojson`` then ``validate_plot_geometry``: the whole check of an API payload."""
    return validate_plot_geometry(parse_geojson(data))
