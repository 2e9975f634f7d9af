"""Plot boundaries drawn on the server as an inline SVG (no tiles, no script, no internet): the
admin's maps of a household's plots, a title file's plot and a contract's plots.

Longitude and latitude are projected equirectangularly around the shapes' mean latitude (fine
for the few hundred metres of a family's plots) and fitted into the picture; each plot is a
labelled path with its name as a tooltip, and a scale bar gives the distances.

The base layer is the household's district outline shipped with the project
(``registry.boundaries.outline_geojson``, INEI 2007 limits, MPL-2.0): drawn under the plots in
the same projection (the part in view: a plot near the district's edge shows the border), and
whole in a small locator in the corner with a dot where the plots are."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from registry.boundaries import outline_geojson

__all__ = ["MapShape", "boundary_svg"]

EARTH_M_PER_DEGREE = 111_320.0
COLOURS = ["#2e7d32", "#1565c0", "#ad1457", "#ef6c00", "#6a1b9a", "#00838f"]

MapShape = tuple[str, dict[str, Any]]


def _rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The outer and inner rings of a Polygon or MultiPolygon as (lon, lat) points."""
    kind = (geometry or {}).get("type")
    coordinates = (geometry or {}).get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    rings: list[list[tuple[float, float]]] = []
    for polygon in polygons:
        for ring in polygon:
            points = [(float(p[0]), float(p[1])) for p in ring if len(p) >= 2]
            if len(points) >= 3:
                rings.append(points)
    return rings


def _scale_metres(span_m: float) -> int:
    """A round length (1, 2 or 5 × 10ⁿ metres) of about a quarter of ``span_m``."""
    target = max(span_m / 4, 1.0)
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return int(step * power)
    return int(power)


def boundary_svg(
    shapes: Sequence[MapShape],
    *,
    title: str,
    width: int = 480,
    height: int = 300,
    district: str = "",
    district_name: str = "",
) -> SafeString:
    """The ``(name, GeoJSON geometry)`` shapes drawn as an accessible inline SVG over the outline
    of ``district`` (its ubigeo; none when it has no known outline); a short note when no shape
    has a boundary."""
    drawn = [(name, _rings(geometry)) for name, geometry in shapes]
    drawn = [(name, rings) for name, rings in drawn if rings]
    if not drawn:
        return format_html('<p class="story-empty">{}</p>', _("No boundary to draw."))
    points = [p for _name, rings in drawn for ring in rings for p in ring]
    mean_lat = sum(lat for _lon, lat in points) / len(points)
    x_scale = EARTH_M_PER_DEGREE * math.cos(math.radians(mean_lat))
    xs = [lon * x_scale for lon, _lat in points]
    ys = [lat * EARTH_M_PER_DEGREE for _lon, lat in points]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = max(max_x - min_x, 1.0), max(max_y - min_y, 1.0)
    pad = 24
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad - 20) / span_y)

    def project(lon: float, lat: float) -> tuple[float, float]:
        x = pad + (lon * x_scale - min_x) * scale
        y = height - pad - 20 - (lat * EARTH_M_PER_DEGREE - min_y) * scale
        return round(x, 1), round(y, 1)

    def path(rings: Iterable[list[tuple[float, float]]]) -> str:
        parts = []
        for ring in rings:
            xy = [project(lon, lat) for lon, lat in ring]
            parts.append("M" + " L".join(f"{x} {y}" for x, y in xy) + " Z")
        return " ".join(parts)

    def label_at(rings: list[list[tuple[float, float]]]) -> tuple[float, float]:
        outer = rings[0]
        return project(sum(p[0] for p in outer) / len(outer), sum(p[1] for p in outer) / len(outer))

    paths = format_html_join(
        "",
        '<path d="{}" fill="{}" fill-opacity="0.25" stroke="{}" stroke-width="2" '
        'fill-rule="evenodd"><title>{}</title></path>',
        (
            (path(rings), COLOURS[i % len(COLOURS)], COLOURS[i % len(COLOURS)], name)
            for i, (name, rings) in enumerate(drawn)
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#1b1b1b">{}</text>',
        ((*label_at(rings), name) for name, rings in drawn),
    )
    outline = _rings(outline_geojson(district) or {}) if district else []
    base = (
        format_html(
            '<path d="{}" fill="#e8e2cf" stroke="#6b6b6b" stroke-width="2" '
            'stroke-dasharray="6 4" fill-rule="evenodd" data-district-outline><title>{}</title>'
            "</path>",
            path(outline),
            district_name or district,
        )
        if outline
        else ""
    )
    locator = _locator(outline, points, width, district_name or district) if outline else ""
    bar_m = _scale_metres(span_x)
    bar_px = round(bar_m * scale, 1)
    bar_label = f"{bar_m // 1000} km" if bar_m >= 1000 else f"{bar_m} m"
    return format_html(
        '<svg class="plot-map" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<rect width="100%" height="100%" fill="#f4f1e8"/>{}{}{}{}'
        '<g><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#1b1b1b" stroke-width="2"/>'
        '<text x="{}" y="{}" font-size="11" fill="#1b1b1b">{}</text></g></svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        base,
        paths,
        labels,
        locator,
        pad,
        height - 12,
        pad + bar_px,
        height - 12,
        pad + bar_px + 6,
        height - 8,
        bar_label,
    )


def _locator(
    outline: list[list[tuple[float, float]]],
    points: list[tuple[float, float]],
    width: int,
    name: str,
    size: int = 84,
) -> SafeString:
    """The whole district in a small box in the top right corner, a dot where the plots are."""
    lons = [lon for ring in outline for lon, _lat in ring]
    lats = [lat for ring in outline for _lon, lat in ring]
    mean_lat = sum(lats) / len(lats)
    x_scale = math.cos(math.radians(mean_lat))
    span = max((max(lons) - min(lons)) * x_scale, max(lats) - min(lats), 1e-9)
    inner = size - 8
    left, top = width - size - 6, 6

    def project(lon: float, lat: float) -> tuple[float, float]:
        x = left + 4 + ((lon - min(lons)) * x_scale / span) * inner
        y = top + 4 + ((max(lats) - lat) / span) * inner
        return round(x, 1), round(y, 1)

    d = " ".join(
        "M" + " L".join(f"{x} {y}" for x, y in (project(*p) for p in ring)) + " Z"
        for ring in outline
    )
    dot = project(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    return format_html(
        '<g data-locator><rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" '
        'stroke="#6b6b6b"/><path d="{}" fill="#e8e2cf" stroke="#6b6b6b" stroke-width="1" '
        'fill-rule="evenodd"/><circle cx="{}" cy="{}" r="4" fill="#c62828">'
        "<title>{}</title></circle></g>",
        left,
        top,
        size,
        size,
        d,
        dot[0],
        dot[1],
        _("The plots in the district %(name)s") % {"name": name},
    )
