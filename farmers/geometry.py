"""Plot geometry: parse, validate and measure plot boundaries (GeoJSON, KML, GPX uploads).

Pure Python: no queries and no models. Plots are stored as GeoJSON ``Polygon`` or
``MultiPolygon`` in WGS84 longitude/latitude (API.md, ``plots/``); everything here works on
shapely geometries in those coordinates and measures on the WGS84 ellipsoid with
``pyproj.Geod``, so areas are true ground areas, not planar degrees².

The layers, each usable on its own:

- *parsing* (``parse_geojson``, ``parse_boundary_file``) turns untrusted input into a shapely
  geometry and checks its structure (types, numbers, closed rings). It never raises anything
  but ``ValidationError`` for bad input;
- *validation* (``validate_plot_geometry``) checks that the shape can be a plot: valid
  topology, inside Peru, a sane area, not too many vertices;
- *measurement* (``geodesic_area_ha``, ``bbox``, ``overlap_area_ha``) and *output*
  (``to_geojson``).

``clean_plot_geometry`` chains parsing and validation for an API payload. Every error is a
``django.core.exceptions.ValidationError`` with a machine ``code`` (lowercase slug) and an
English source message wrapped for translation.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePath
from typing import Any, NoReturn, TypeAlias

import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

PlotGeometry: TypeAlias = Polygon | MultiPolygon
Position: TypeAlias = tuple[float, float]

POLYGONAL_TYPES = ("Polygon", "MultiPolygon")

# Peru's bounding box (a coarse sanity check, not a border test: the box also covers bits of
# Ecuador, Colombia, Brazil, Bolivia and Chile).
PERU_MIN_LON, PERU_MAX_LON = -81.4, -68.6
PERU_MIN_LAT, PERU_MAX_LAT = -18.4, 0.1

MIN_AREA_M2 = 10.0  # a plot must be larger than this (m²)
MAX_AREA_HA = 5000  # ... and smaller than this (ha)
MAX_VERTICES = 5000  # distinct vertices over all rings (closing positions not counted)
MIN_RING_POSITIONS = 4  # GeoJSON (RFC 7946 §3.1.6): a closed ring has at least 4 positions

# Two plots digitised along the same boundary (e.g. walked separately with a GPS) overlap in
# thin slivers. An intersection that vanishes when shrunk inwards by this distance (i.e. it is
# nowhere wider than twice this) counts as a shared boundary, not an overlap.
OVERLAP_TOLERANCE_M = 1.0

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
COORDINATE_DECIMALS = 7  # ~1 cm on the ground

M2_PER_HA = 10_000
_HA_QUANTUM = Decimal("0.0001")
ZERO_HA = Decimal("0.0000")

# GeoJSON files written before RFC 7946 may name their CRS; only WGS84 lon/lat is accepted.
_WGS84_CRS_NAMES = frozenset(
    {
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "urn:ogc:def:crs:epsg::4326",
        "urn:ogc:def:crs:epsg:6.6:4326",
        "epsg:4326",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
        "http://www.opengis.net/def/crs/epsg/0/4326",
    }
)
KML_NAMESPACES = frozenset(
    {
        "http://www.opengis.net/kml/2.2",
        "http://earth.google.com/kml/2.0",
        "http://earth.google.com/kml/2.1",
        "http://earth.google.com/kml/2.2",
        "",
    }
)
GPX_NAMESPACES = frozenset(
    {"http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0", ""}
)
_VALIDITY_RE = re.compile(r"^(?P<reason>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]")
_GEOD = Geod(ellps="WGS84")


# --- Errors -----------------------------------------------------------------------------------


def _fail(message: Any, code: str) -> NoReturn:
    """Raise the ``ValidationError`` every function of this module raises."""
    raise ValidationError(message, code=code)


def _invalid_coordinates() -> NoReturn:
    _fail(
        _(
            "Coordinates must be [longitude, latitude] pairs of numbers in decimal degrees "
            "(WGS84), e.g. [-73.98, -12.52]."
        ),
        "invalid_coordinates",
    )


def _too_many_vertices() -> NoReturn:
    _fail(
        _("The boundary has more than %(max)s vertices: simplify it before uploading.")
        % {"max": MAX_VERTICES},
        "too_many_vertices",
    )


# --- Rings and positions ----------------------------------------------------------------------


def _number(value: Any) -> float:
    """A finite float from a JSON number (``bool`` is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        _invalid_coordinates()
    try:
        number = float(value)
    except (OverflowError, ValueError):  # an int too large for a float; Decimal("sNaN")
        _invalid_coordinates()
    if not math.isfinite(number):
        _invalid_coordinates()
    return number


def _position(lon: float, lat: float) -> Position:
    """Check that a position lies on the globe (longitude first)."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        _invalid_coordinates()
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        _fail(
            _(
                "Coordinates must be longitude and latitude in decimal degrees (WGS84); "
                "projected coordinates such as UTM metres are not accepted."
            ),
            "invalid_coordinates",
        )
    return (lon, lat)


def _geojson_position(value: Any) -> Position:
    """``[lon, lat]`` or ``[lon, lat, altitude]`` (the altitude is dropped)."""
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        _invalid_coordinates()
    numbers = [_number(item) for item in value]
    return _position(numbers[0], numbers[1])


def _check_ring(ring: Sequence[Position]) -> list[Position]:
    """A closed ring of at least 4 positions (the last repeats the first)."""
    if len(ring) < MIN_RING_POSITIONS:
        _fail(
            _("A boundary ring needs at least 3 distinct corners and the first one repeated."),
            "ring_too_short",
        )
    if ring[0] != ring[-1]:
        _fail(
            _("A boundary ring must be closed: its last position must repeat its first."),
            "ring_not_closed",
        )
    return list(ring)


class _VertexBudget:
    """Counts vertices while parsing so that huge inputs stop early."""

    def __init__(self) -> None:
        self.used = 0

    def spend(self, ring: Sequence[Position]) -> None:
        self.used += max(len(ring) - 1, 0)
        if self.used > MAX_VERTICES:
            _too_many_vertices()


def _polygon(rings: Sequence[Sequence[Position]], budget: _VertexBudget) -> Polygon:
    """Build a polygon from a shell and holes, checking every ring."""
    if not rings:
        _invalid_coordinates()
    checked = []
    for ring in rings:
        budget.spend(ring)
        checked.append(_check_ring(ring))
    return Polygon(checked[0], checked[1:])


def _geojson_rings(value: Any, budget: _VertexBudget) -> Polygon:
    """A polygon from GeoJSON ``Polygon`` coordinates (a list of rings)."""
    if not isinstance(value, list | tuple):
        _invalid_coordinates()
    rings = []
    for ring in value:
        if not isinstance(ring, list | tuple):
            _invalid_coordinates()
        if len(ring) > MAX_VERTICES + 1:
            _too_many_vertices()
        rings.append([_geojson_position(position) for position in ring])
    return _polygon(rings, budget)


# --- GeoJSON ----------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    """``json.loads`` hook: NaN and Infinity are not JSON numbers."""
    _invalid_coordinates()


def _load_json(text: str, code: str) -> Any:
    """Decode JSON text; syntax errors (and absurd nesting) raise with ``code``."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ValidationError(_("The content is not valid JSON."), code=code) from exc


def _check_crs(obj: dict[str, Any]) -> None:
    """Refuse a (pre-RFC 7946) ``crs`` member naming anything but WGS84 lon/lat."""
    crs = obj.get("crs")
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or name.strip().lower() not in _WGS84_CRS_NAMES:
        _fail(
            _(
                "Only WGS84 longitude/latitude coordinates (EPSG:4326) are accepted: "
                "export the boundary in that coordinate system."
            ),
            "unsupported_crs",
        )


def _geometry_type(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("type"), str):
        return str(obj["type"])
    return None


def _invalid_type(found: str | None) -> NoReturn:
    _fail(
        _("A plot boundary must be a Polygon or a MultiPolygon, not %(type)s.")
        % {"type": (found or "null")[:40]},
        "invalid_type",
    )


def _single_geometry(obj: Any) -> dict[str, Any]:
    """The geometry of a GeoJSON geometry, Feature or one-polygon FeatureCollection."""
    kind = _geometry_type(obj)
    if kind is None:
        _fail(_("Expected a GeoJSON object with a “type”."), "invalid_geojson")
    _check_crs(obj)
    if kind == "Feature":
        geometry = obj.get("geometry")
        if _geometry_type(geometry) is None:
            _invalid_type(None)
        _check_crs(geometry)
        return dict(geometry)
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            _fail(_("A FeatureCollection needs a list of “features”."), "invalid_geojson")
        polygonal = [
            feature["geometry"]
            for feature in features
            if isinstance(feature, dict)
            and _geometry_type(feature.get("geometry")) in POLYGONAL_TYPES
        ]
        if not polygonal:
            _fail(
                _("The FeatureCollection holds no Polygon or MultiPolygon feature."),
                "invalid_type",
            )
        if len(polygonal) > 1:
            _fail(
                _(
                    "The FeatureCollection holds %(n)s polygon features; upload one plot at a "
                    "time, or merge its parts into one MultiPolygon."
                )
                % {"n": len(polygonal)},
                "multiple_features",
            )
        _check_crs(polygonal[0])
        return dict(polygonal[0])
    return dict(obj)


def _geometry_from_geojson(geometry: dict[str, Any]) -> PlotGeometry:
    """Build a shapely polygon or multipolygon from a GeoJSON geometry object."""
    kind = _geometry_type(geometry)
    if kind not in POLYGONAL_TYPES:
        _invalid_type(kind)
    coordinates = geometry.get("coordinates")
    budget = _VertexBudget()
    if kind == "Polygon":
        return _geojson_rings(coordinates, budget)
    if not isinstance(coordinates, list | tuple) or not coordinates:
        _invalid_coordinates()
    return MultiPolygon([_geojson_rings(part, budget) for part in coordinates])


def parse_geojson(data: dict[str, Any] | str) -> PlotGeometry:
    """Parse a GeoJSON plot boundary into a shapely ``Polygon`` or ``MultiPolygon``.

    ``data`` is a decoded object or JSON text: a geometry, a ``Feature``, or a
    ``FeatureCollection`` with exactly one polygonal feature (features of other types, e.g. a
    marker ``Point``, are ignored). Positions are ``[lon, lat]`` numbers in WGS84, optionally
    with an altitude, which is dropped. Rings must be closed and have at least 4 positions.

    Checks structure only; call ``validate_plot_geometry`` (or use ``clean_plot_geometry``) to
    check that the shape can be a plot. Codes: ``invalid_geojson``, ``invalid_type``,
    ``multiple_features``, ``unsupported_crs``, ``invalid_coordinates``, ``ring_too_short``,
    ``ring_not_closed``, ``too_many_vertices``.
    """
    obj = _load_json(data, "invalid_geojson") if isinstance(data, str) else data
    return _geometry_from_geojson(_single_geometry(obj))


# --- Validation -------------------------------------------------------------------------------


def _rings(geom: PlotGeometry) -> Iterator[Any]:
    for polygon in _polygons(geom):
        yield polygon.exterior
        yield from polygon.interiors


def _polygons(geom: BaseGeometry) -> Iterator[Polygon]:
    """The non-empty polygons inside any geometry (collections are flattened)."""
    if isinstance(geom, Polygon):
        if not geom.is_empty:
            yield geom
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _polygons(part)


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


# --- Measurement ------------------------------------------------------------------------------


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


# --- Output -----------------------------------------------------------------------------------


def _listify(value: Any) -> Any:
    """Nested tuples of coordinates → nested lists, each number rounded."""
    if isinstance(value, list | tuple):
        if value and not isinstance(value[0], list | tuple):
            return [round(float(number), COORDINATE_DECIMALS) for number in value[:2]]
        return [_listify(item) for item in value]
    return value


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry dict (lists, not tuples) with coordinates rounded to 7 decimals.

    Rings are wound as RFC 7946 asks (shells counter-clockwise, holes clockwise) and any
    altitude is dropped, so the output is the same however the input was wound.
    """
    oriented = shapely.orient_polygons(shapely.force_2d(geom), exterior_cw=False)
    return {key: _listify(value) for key, value in mapping(oriented).items()}


# --- Uploaded boundary files ------------------------------------------------------------------


def _invalid_file(message: Any = None) -> NoReturn:
    _fail(message or _("The file could not be read: check that it is not damaged."), "invalid_file")


def _decode_text(content: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM), or UTF-16 with a BOM."""
    encoding = "utf-16" if content[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text: export it again as GeoJSON, KML or GPX."),
            code="invalid_file",
        ) from exc


def _parse_xml(content: bytes) -> ET.Element:
    """Parse XML safely with the standard library.

    Any document type declaration is refused (no DTD, hence no entity expansion and no
    external entities). The check runs on text decoded here, and the parser is fed that same
    ``str``, which makes expat ignore the declared encoding: what is checked is what is parsed.
    """
    text = _decode_text(content)
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        _invalid_file(_("Files with a document type declaration (DTD) are not accepted."))
    try:
        return ET.fromstring(text)  # noqa: S314 - DTDs refused above; str input, see docstring
    except (ET.ParseError, ValueError) as exc:
        raise ValidationError(_("The file is not well-formed XML."), code="invalid_file") from exc


def _split_tag(tag: Any) -> tuple[str, str]:
    """``{namespace}local`` → ``(namespace, local)``; comments and PIs have no string tag."""
    if not isinstance(tag, str):
        return ("", "")
    if tag.startswith("{") and "}" in tag:
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return "", tag


def _root(content: bytes, name: str, namespaces: frozenset[str]) -> tuple[ET.Element, str]:
    root = _parse_xml(content)
    namespace, local = _split_tag(root.tag)
    if local != name or namespace not in namespaces:
        _invalid_file(_("The file is not a %(format)s document.") % {"format": name.upper()})
    return root, namespace


def _kml_coordinates(text: str | None) -> list[Position]:
    """KML ``<coordinates>``: whitespace-separated ``lon,lat[,alt]`` tuples."""
    positions = []
    for token in (text or "").split():
        parts = token.split(",")
        if len(parts) not in (2, 3):
            _invalid_coordinates()
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            _invalid_coordinates()
        positions.append(_position(lon, lat))
    return positions


def _parse_kml(content: bytes) -> PlotGeometry:
    """The first ``Polygon`` of a KML document (its outer and inner boundaries)."""
    root, namespace = _root(content, "kml", KML_NAMESPACES)

    def tag(local: str) -> str:
        return f"{{{namespace}}}{local}" if namespace else local

    polygon = next(root.iter(tag("Polygon")), None)
    if polygon is None:
        _fail(_("The KML file holds no Polygon."), "invalid_type")
    ring_path = "{}/{}/{}"
    outer = polygon.find(
        ring_path.format(tag("outerBoundaryIs"), tag("LinearRing"), tag("coordinates"))
    )
    if outer is None:
        _invalid_file(_("The KML Polygon has no outer boundary."))
    inner = polygon.findall(
        ring_path.format(tag("innerBoundaryIs"), tag("LinearRing"), tag("coordinates"))
    )
    rings = [_kml_coordinates(element.text) for element in [outer, *inner]]
    for ring in rings:
        if len(ring) > MAX_VERTICES + 1:
            _too_many_vertices()
    return _polygon(rings, _VertexBudget())


def _gpx_point(element: ET.Element) -> Position:
    try:
        lon, lat = float(element.attrib["lon"]), float(element.attrib["lat"])
    except (KeyError, ValueError):
        _invalid_coordinates()
    return _position(lon, lat)


def _gpx_points(root: ET.Element, namespace: str) -> list[ET.Element]:
    """The points of the first track that has any (all its segments, in order), else those
    of the first route that has any."""

    def tag(local: str) -> str:
        return f"{{{namespace}}}{local}" if namespace else local

    for track in root.iter(tag("trk")):
        points = track.findall(f"{tag('trkseg')}/{tag('trkpt')}")
        if points:
            return points
    for route in root.iter(tag("rte")):
        points = route.findall(tag("rtept"))
        if points:
            return points
    _fail(_("The GPX file holds no track or route."), "invalid_type")


def _parse_gpx(content: bytes) -> PlotGeometry:
    """A polygon from a track or route walked around the plot, closed if it is open."""
    root, namespace = _root(content, "gpx", GPX_NAMESPACES)
    ring: list[Position] = []
    for element in _gpx_points(root, namespace):
        point = _gpx_point(element)
        if not ring or ring[-1] != point:  # a receiver standing still logs repeated points
            ring.append(point)
    if len(ring) > 1 and ring[0] != ring[-1]:
        ring.append(ring[0])
    return _polygon([ring], _VertexBudget())


def _parse_geojson_file(content: bytes) -> PlotGeometry:
    return parse_geojson(_load_json(_decode_text(content), "invalid_file"))


_FILE_PARSERS: dict[str, Callable[[bytes], PlotGeometry]] = {
    ".geojson": _parse_geojson_file,
    ".json": _parse_geojson_file,
    ".kml": _parse_kml,
    ".gpx": _parse_gpx,
}


def parse_boundary_file(filename: str, content: bytes) -> PlotGeometry:
    """Parse an uploaded plot boundary, choosing the format by the file's extension.

    - ``.geojson`` / ``.json``: as ``parse_geojson``;
    - ``.kml``: the first ``Polygon`` (KML 2.2, also the older Google namespaces): its
      ``outerBoundaryIs`` and ``innerBoundaryIs`` ``LinearRing`` coordinates, ``lon,lat[,alt]``
      tuples; rings must be closed, as KML requires;
    - ``.gpx``: the first track (its segments joined) or else the first route, walked around
      the plot; repeated consecutive points are dropped and the ring is closed if the walk
      did not end where it started.

    Checks structure only, like ``parse_geojson``; call ``validate_plot_geometry`` next.
    Codes: ``file_too_large`` (over 2 MB), ``unsupported_format``, ``invalid_file`` (not
    decodable, not well-formed, a DTD, not the announced format), plus the structural codes
    of ``parse_geojson``. Bad input never raises anything but ``ValidationError``.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        _fail(
            _("The file is larger than %(max)s MB.") % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)},
            "file_too_large",
        )
    parser = _FILE_PARSERS.get(PurePath(filename or "").suffix.lower())
    if parser is None:
        _fail(
            _("Upload the boundary as a GeoJSON (.geojson, .json), KML (.kml) or GPX (.gpx) file."),
            "unsupported_format",
        )
    return parser(content)
