"""District outlines: is a GPS fix where the household is?

The outlines ship inside the project (``registry/data/boundaries/``: INEI 2007 district limits,
simplified, MPL-2.0, with their README and licence); nothing is fetched at run time. They are
read lazily, once per process, and kept as prepared geometries keyed by ubigeo.

- A district created after 2007 uses its **parent's** outline (``contenedor_2007`` in
  ``ubigeo-changes-2007-2026.csv``); a re-coded district (Putumayo, 160109 → 160801) uses the
  outline of its 2007 code; 130112 (Alto Trujillo, 2021, in neither file) uses 130102.
- Eight 2007 features carry no geometry: for them (and for any unknown ubigeo) no outline is
  known and :func:`district_contains` answers ``None``.
- Distances (:func:`distance_to_m`) are metres on the WGS84 ellipsoid: the nearest point of the
  geometry is found in a local equirectangular projection centred on the fix (metres per degree
  of latitude and longitude taken from the ellipsoid's radii of curvature at the fix's
  latitude), then the distance to it is the geodesic one (``pyproj.Geod``). Within the few
  kilometres that matter here the nearest point is exact to well under a metre.

The kernel imports no project app (and needs no Django): ``farmers`` calls
:func:`gps_fix_plausible` when a supervisor confirms a visit.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

DATA_DIR = Path(__file__).resolve().parent / "data" / "boundaries"
DISTRICTS_GEOJSON = DATA_DIR / "peru_distrital_simple.geojson"
CHANGES_CSV = DATA_DIR / "ubigeo-changes-2007-2026.csv"
# Created after 2007 but in neither file (README of the boundaries): child → parent.
EXTRA_PARENTS = {"130112": "130102"}  # Alto Trujillo (2021) ← El Porvenir
GPS_PLOT_TOLERANCE_M = 500

_WGS84 = Geod(ellps="WGS84")
_A = 6_378_137.0  # WGS84 semi-major axis (m)
_E2 = 0.006_694_379_990_14  # WGS84 first eccentricity squared


@dataclass(frozen=True)
class Atlas:
    """The outlines loaded once: prepared geometry by 2007 ubigeo, the outline each later code
    borrows, and a spatial index over them."""

    outlines: Mapping[str, BaseGeometry]
    parents: Mapping[str, str]
    codes: tuple[str, ...]
    tree: shapely.STRtree


@cache
def atlas() -> Atlas:
    """Read the shipped outlines and the 2007→2026 changes (once per process)."""
    with DISTRICTS_GEOJSON.open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    outlines: dict[str, BaseGeometry] = {}
    for feature in features:
        if feature.get("geometry"):
            geometry = shape(feature["geometry"])
            shapely.prepare(geometry)
            outlines[feature["properties"]["IDDIST"]] = geometry
    parents = dict(EXTRA_PARENTS)
    with CHANGES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["nivel"] != "distrito":
                continue
            if row["tipo"] == "creado" and row["contenedor_2007"]:
                parents[row["ubigeo_2026"]] = row["contenedor_2007"]
            elif row["tipo"] == "reasignado" and row["ubigeo_2007"] != row["ubigeo_2026"]:
                parents[row["ubigeo_2026"]] = row["ubigeo_2007"]
    codes = tuple(outlines)
    return Atlas(outlines, parents, codes, shapely.STRtree([outlines[c] for c in codes]))


def outline_ubigeo(ubigeo: str) -> str | None:
    """The ubigeo whose outline stands for ``ubigeo`` (itself, or the 2007 district it was
    carved from); ``None`` when no outline is known."""
    data = atlas()
    code = ubigeo if ubigeo in data.outlines else data.parents.get(ubigeo)
    return code if code in data.outlines else None


def outline(ubigeo: str) -> BaseGeometry | None:
    """The (prepared) outline used for ``ubigeo``, or ``None`` when none is known."""
    code = outline_ubigeo(ubigeo)
    return atlas().outlines[code] if code is not None else None


@cache
def district_centroid(ubigeo: str) -> tuple[float, float] | None:
    """A point standing for the district (longitude, latitude, WGS84, 5 decimals): the centroid
    of its outline (of the 2007 district it was carved from, for a later one), or a point
    inside the outline where the centroid falls outside it (a crescent-shaped district);
    ``None`` when no outline is known."""
    geometry = outline(ubigeo)
    if geometry is None or geometry.is_empty:
        return None
    point = geometry.centroid
    if not shapely.intersects_xy(geometry, point.x, point.y):
        point = geometry.representative_point()
    return round(float(point.x), 5), round(float(point.y), 5)


OUTLINE_SIMPLIFY_DEG = 0.001  # about 100 m: a base layer, not a survey
OUTLINE_GRID_DEG = 0.00001  # coordinates rounded to about a metre


@cache
def outline_geojson(ubigeo: str) -> dict[str, Any] | None:
    """The district's outline for drawing under its plots (the field app's map, the admin's
    SVG maps): simplified to about 100 m, coordinates rounded to about a metre, as a GeoJSON
    geometry; ``None`` when no outline is known. One district, a few kilobytes at most."""
    geometry = outline(ubigeo)
    if geometry is None:
        return None
    simple = shapely.set_precision(
        geometry.simplify(OUTLINE_SIMPLIFY_DEG, preserve_topology=True), OUTLINE_GRID_DEG
    )
    drawn: dict[str, Any] = json.loads(shapely.to_geojson(simple))
    return drawn


def district_contains(ubigeo: str, lon: float, lat: float) -> bool | None:
    """Is the point (WGS84) in the district's outline (its border included)? ``None`` when no
    outline is known for the district."""
    geometry = outline(ubigeo)
    if geometry is None:
        return None
    return bool(shapely.intersects_xy(geometry, float(lon), float(lat)))


def districts_at(lon: float, lat: float) -> list[str]:
    """The 2007 districts whose outline holds the point (usually one; none at sea or abroad)."""
    data = atlas()
    hits = data.tree.query(Point(float(lon), float(lat)), predicate="intersects")
    return sorted(data.codes[i] for i in hits)


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at ``lat`` on the WGS84 ellipsoid."""
    phi = math.radians(lat)
    w = 1 - _E2 * math.sin(phi) ** 2
    meridian = _A * (1 - _E2) / w**1.5
    normal = _A / math.sqrt(w)
    return math.radians(normal * math.cos(phi)), math.radians(meridian)


def as_geometry(geometry: BaseGeometry | Mapping[str, Any]) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry (dict) or a shapely one."""
    return geometry if isinstance(geometry, BaseGeometry) else shape(geometry)


def distance_to_m(lon: float, lat: float, geometry: BaseGeometry | Mapping[str, Any]) -> float:
    """Metres from the point to the nearest point of ``geometry`` (0 inside it; ``inf`` for an
    empty geometry). See the module docstring for the method."""
    geom = as_geometry(geometry)
    if geom.is_empty:
        return math.inf
    lon, lat = float(lon), float(lat)
    kx, ky = _metres_per_degree(lat)
    local = shapely.transform(geom, lambda xy: (xy - (lon, lat)) * (kx, ky))
    origin = Point(0.0, 0.0)
    if local.intersects(origin):
        return 0.0
    nearest = nearest_points(local, origin)[0]
    _fwd, _back, metres = _WGS84.inv(lon, lat, lon + nearest.x / kx, lat + nearest.y / ky)
    return float(metres)


def _bounds(geometry: BaseGeometry | Mapping[str, Any]) -> tuple[float, float, float, float]:
    """The bounding box of a shapely geometry or of a GeoJSON one (read from its coordinates,
    without building the geometry)."""
    if isinstance(geometry, BaseGeometry):
        return geometry.bounds
    xs: list[float] = []
    ys: list[float] = []
    stack: list[Any] = [geometry.get("coordinates") or []]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], (int, float)):
            xs.append(item[0])
            ys.append(item[1])
        else:
            stack.extend(item)
    if not xs:
        return (math.inf, math.inf, -math.inf, -math.inf)
    return min(xs), min(ys), max(xs), max(ys)


def _near_box(
    geometry: BaseGeometry | Mapping[str, Any],
    lon: float,
    lat: float,
    within_m: float,
    k: tuple[float, float],
) -> bool:
    """Could ``geometry`` be within ``within_m`` of the point? (bounding box, with margin)."""
    min_x, min_y, max_x, max_y = _bounds(geometry)
    dx, dy = 1.01 * within_m / k[0], 1.01 * within_m / k[1]
    return min_x - dx <= lon <= max_x + dx and min_y - dy <= lat <= max_y + dy


def gps_fix_plausible(
    ubigeo: str,
    lon: float,
    lat: float,
    plot_geometries: Iterable[BaseGeometry | Mapping[str, Any]],
    within_m: float = GPS_PLOT_TOLERANCE_M,
) -> bool:
    """Is a visit's GPS fix where the household is: inside its district's outline (a post-2007
    district: its parent's), or within ``within_m`` metres of one of its plots? A district with
    no known outline is judged by its plots alone."""
    lon, lat = float(lon), float(lat)
    if district_contains(ubigeo, lon, lat):
        return True
    k = _metres_per_degree(lat)
    return any(
        _near_box(plot, lon, lat, within_m, k) and distance_to_m(lon, lat, plot) <= within_m
        for plot in plot_geometries
    )
