"""Measurement: geodesic areas on the WGS84 ellipsoid (hectares, 4 decimals), bounding boxes,
and the overlap of two plots with a tolerance for boundaries digitised twice."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from .base import _polygons

# Two plots digitised along the same boundary (e.g. walked separately with a GPS) overlap in
# thin slivers. An intersection that vanishes when shrunk inwards by this distance (i.e. it is
# nowhere wider than twice this) counts as a shared boundary, not an overlap.
OVERLAP_TOLERANCE_M = 1.0

M2_PER_HA = 10_000
_HA_QUANTUM = Decimal("0.0001")
ZERO_HA = Decimal("0.0000")
_GEOD = Geod(ellps="WGS84")


def _geodesic_area_m2(geom: BaseGeometry) -> float:
    """Geodesic area on the WGS84 ellipsoid, in m².

    ``Geod.geometry_area_perimeter`` adds the signed areas of the rings, so it is only right
    for shells counter-clockwise and holes clockwise: orient first (input may wind either way).
    """
    polygons = list(_polygons(geom))
    if not polygons:
        return 0.0
    oriented = shapely.orient_polygons(MultiPolygon(polygons), exterior_cw=False)
    area, _perimeter = _GEOD.geometry_area_perimeter(oriented)
    return abs(float(area))


def _to_hectares(area_m2: float) -> Decimal:
    return Decimal(repr(area_m2 / M2_PER_HA)).quantize(_HA_QUANTUM, rounding=ROUND_HALF_UP)


def geodesic_area_ha(geom: BaseGeometry) -> Decimal:
    """Area on the WGS84 ellipsoid in hectares, rounded to 4 decimals (1 m²).

    Holes are subtracted; the rings may wind either way. Non-polygonal parts count as 0.
    """
    return _to_hectares(_geodesic_area_m2(geom))


def bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)``: store it to prefilter overlap candidates in
    SQL (two plots can only overlap if their boxes intersect)."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return (float(min_lon), float(min_lat), float(max_lon), float(max_lat))


def _to_local_metres(geom: BaseGeometry) -> BaseGeometry:
    """Geometry in metres on a plane tangent at its centre (scale from the ellipsoid).

    Accurate to well under 1 % over a few kilometres: enough to apply a tolerance in metres.
    """
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    lon0, lat0 = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    step = 0.001
    _az, _back, dx = _GEOD.inv(lon0 - step / 2, lat0, lon0 + step / 2, lat0)
    _az, _back, dy = _GEOD.inv(lon0, lat0 - step / 2, lon0, lat0 + step / 2)
    origin = np.array([lon0, lat0])
    scale = np.array([dx / step, dy / step])

    def project(coords: np.ndarray) -> np.ndarray:
        return (coords - origin) * scale

    return shapely.transform(geom, project)


def _usable(geom: BaseGeometry) -> BaseGeometry:
    """Stored plots are validated, but repair defensively so GEOS never raises on overlay."""
    return geom if geom.is_valid else shapely.make_valid(geom)


def overlap_area_ha(
    a: BaseGeometry, b: BaseGeometry, tolerance_m: float = OVERLAP_TOLERANCE_M
) -> Decimal:
    """Geodesic area (ha, 4 decimals) of the overlap of two plots; ``0.0000`` if none.

    Plots that only touch (a shared edge or corner) intersect in a line or a point: 0. Plots
    digitised separately along a shared boundary overlap in slivers; an intersection that
    disappears when shrunk inwards by ``tolerance_m`` metres (default ``OVERLAP_TOLERANCE_M``,
    1 m: nowhere wider than 2 m) is such a sliver and counts as 0. Otherwise the whole
    intersection's area is returned. Pass ``tolerance_m=0`` for the exact overlap.
    """
    if not a.intersects(b):
        return ZERO_HA
    parts = list(_polygons(_usable(a).intersection(_usable(b))))
    if not parts:
        return ZERO_HA
    overlap = MultiPolygon(parts)
    if tolerance_m > 0 and _to_local_metres(overlap).buffer(-tolerance_m).is_empty:
        return ZERO_HA
    return geodesic_area_ha(overlap)
