"""What every layer of plot geometry shares: the geometry types, the vertex limits, the errors
(each a ``ValidationError`` with a machine ``code``), and positions and rings checked as they are
read."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, NoReturn, TypeAlias

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

PlotGeometry: TypeAlias = Polygon | MultiPolygon
Position: TypeAlias = tuple[float, float]

MAX_VERTICES = 5000  # distinct vertices over all rings (closing positions not counted)
MIN_RING_POSITIONS = 4  # GeoJSON (RFC 7946 §3.1.6): a closed ring has at least 4 positions


def _fail(message: Any, code: str) -> NoReturn:
    """Raise the ``ValidationError`` every function of this package raises."""
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


def _invalid_type(found: str | None) -> NoReturn:
    _fail(
        _("A plot boundary must be a Polygon or a MultiPolygon, not %(type)s.")
        % {"type": (found or "null")[:40]},
        "invalid_type",
    )


def _polygons(geom: BaseGeometry) -> Iterator[Polygon]:
    """The non-empty polygons inside any geometry (collections are flattened)."""
    if isinstance(geom, Polygon):
        if not geom.is_empty:
            yield geom
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _polygons(part)
