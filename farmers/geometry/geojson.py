"""GeoJSON in and out: ``parse_geojson`` turns an untrusted GeoJSON object (or its text) into a
shapely geometry, checking its structure; ``to_geojson`` writes a geometry back as RFC 7946
GeoJSON with rounded coordinates."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from shapely.geometry import MultiPolygon, mapping
from shapely.geometry.base import BaseGeometry

from .base import (
    PlotGeometry,
    _fail,
    _geojson_rings,
    _invalid_coordinates,
    _invalid_type,
    _VertexBudget,
)

POLYGONAL_TYPES = ("Polygon", "MultiPolygon")
COORDINATE_DECIMALS = 7  # ~1 cm on the ground

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
