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

Modules: ``base`` (types, limits, errors, rings), ``geojson`` (GeoJSON in and out), ``uploads``
(KML, GPX and GeoJSON files), ``validation``, ``measurement``; import from the package.

``clean_plot_geometry`` chains parsing and validation for an API payload. Every error is a
``django.core.exceptions.ValidationError`` with a machine ``code`` (lowercase slug) and an
English source message wrapped for translation.
"""

from .base import MAX_VERTICES, MIN_RING_POSITIONS, PlotGeometry, Position
from .geojson import COORDINATE_DECIMALS, POLYGONAL_TYPES, parse_geojson, to_geojson
from .measurement import (
    M2_PER_HA,
    OVERLAP_TOLERANCE_M,
    ZERO_HA,
    bbox,
    geodesic_area_ha,
    overlap_area_ha,
)
from .uploads import GPX_NAMESPACES, KML_NAMESPACES, MAX_UPLOAD_BYTES, parse_boundary_file
from .validation import (
    MAX_AREA_HA,
    MIN_AREA_M2,
    PERU_MAX_LAT,
    PERU_MAX_LON,
    PERU_MIN_LAT,
    PERU_MIN_LON,
    clean_plot_geometry,
    validate_plot_geometry,
    vertex_count,
)

__all__ = [
    "COORDINATE_DECIMALS",
    "GPX_NAMESPACES",
    "KML_NAMESPACES",
    "M2_PER_HA",
    "MAX_AREA_HA",
    "MAX_UPLOAD_BYTES",
    "MAX_VERTICES",
    "MIN_AREA_M2",
    "MIN_RING_POSITIONS",
    "OVERLAP_TOLERANCE_M",
    "PERU_MAX_LAT",
    "PERU_MAX_LON",
    "PERU_MIN_LAT",
    "PERU_MIN_LON",
    "POLYGONAL_TYPES",
    "ZERO_HA",
    "PlotGeometry",
    "Position",
    "bbox",
    "clean_plot_geometry",
    "geodesic_area_ha",
    "overlap_area_ha",
    "parse_boundary_file",
    "parse_geojson",
    "to_geojson",
    "validate_plot_geometry",
    "vertex_count",
]
