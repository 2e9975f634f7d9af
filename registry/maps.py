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

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import shapely
import shapely.geometry
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .boundaries import DATA_DIR, atlas, outline_geojson, outline_ubigeo

__all__ = ["MapShape", "Region", "boundary_svg", "district_choropleth", "projection"]

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


Projector = Callable[[float, float], tuple[float, float]]


def projection(
    points: Sequence[tuple[float, float]],
    width: int,
    height: int,
    *,
    pad: float,
    bottom: float,
    centre: bool = False,
) -> tuple[Projector, float, float]:
    """An equirectangular projection around the points' mean latitude, fitted into the picture
    (``pad`` on three sides, ``bottom`` below): ``(project, pixels per metre, span in metres
    east–west)``. The plot maps and the dashboard's district map share it."""
    mean_lat = sum(lat for _lon, lat in points) / len(points)
    x_scale = EARTH_M_PER_DEGREE * math.cos(math.radians(mean_lat))
    xs = [lon * x_scale for lon, _lat in points]
    ys = [lat * EARTH_M_PER_DEGREE for _lon, lat in points]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = max(max_x - min_x, 1.0), max(max_y - min_y, 1.0)
    scale = min((width - 2 * pad) / span_x, (height - pad - bottom) / span_y)
    # Centred in the room left over (``centre``), or against the left and bottom edges.
    off_x = (width - 2 * pad - span_x * scale) / 2 if centre else 0.0
    off_y = (height - pad - bottom - span_y * scale) / 2 if centre else 0.0

    def project(lon: float, lat: float) -> tuple[float, float]:
        x = pad + off_x + (lon * x_scale - min_x) * scale
        y = height - bottom - off_y - (lat * EARTH_M_PER_DEGREE - min_y) * scale
        return round(x, 1), round(y, 1)

    return project, scale, span_x


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
    pad = 24
    project, scale, span_x = projection(points, width, height, pad=pad, bottom=pad + 20)

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


# --- the dashboard's choropleth map of districts ---------------------------------------------

DEPARTMENTS_GEOJSON = DATA_DIR / "peru_departamental_simple.geojson"
# Light to dark blue (ColorBrewer "Blues"), readable in greyscale too.
SHADES = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
DISTRICT_TOLERANCE = 0.004  # degrees (~400 m): invisible at the dashboard's scale
DEPARTMENT_TOLERANCE = 0.02


@dataclass(frozen=True)
class Region:
    """A district on the map: its ubigeo and name, the value that shades it, the text that says
    it, and the page listing what it counts."""

    ubigeo: str
    name: str
    value: int
    shown: str
    href: str = ""


@cache
def _district_rings(code: str) -> tuple[list[tuple[float, float]], ...]:
    outline = atlas().outlines.get(code)
    if outline is None:
        return ()
    simple = shapely.simplify(outline, DISTRICT_TOLERANCE, preserve_topology=True)
    return tuple(_rings(shapely.geometry.mapping(simple)))


@cache
def _departments() -> tuple[tuple[str, tuple[list[tuple[float, float]], ...]], ...]:
    with DEPARTMENTS_GEOJSON.open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    result = []
    for feature in features:
        geometry = shapely.geometry.shape(feature["geometry"])
        simple = shapely.simplify(geometry, DEPARTMENT_TOLERANCE, preserve_topology=True)
        result.append(
            (feature["properties"]["FIRST_IDDP"], tuple(_rings(shapely.geometry.mapping(simple))))
        )
    return tuple(result)


def _breaks(values: Sequence[int]) -> list[int]:
    """Upper bounds of up to five classes holding about as many districts each (quantiles)."""
    ordered = sorted(v for v in values if v > 0)
    if not ordered:
        return []
    bounds: list[int] = []
    for k in range(1, len(SHADES) + 1):
        bound = ordered[min(len(ordered) - 1, math.ceil(k * len(ordered) / len(SHADES)) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def district_choropleth(
    regions: Sequence[Region],
    *,
    title: str,
    legend_title: str,
    empty_message: str,
    width: int = 440,
) -> SafeString:
    """Districts shaded by value over the department outlines, as an accessible inline SVG:
    each district a link with its name and value as a tooltip (``<title>``), a legend of the
    classes, and a note naming the districts drawn with the outline of the 2007 district they
    were carved from (created later) and those with no outline at all.

    Districts sharing one outline (a parent and the districts carved from it) are drawn once,
    with their values added and every name in the tooltip."""
    by_outline: dict[str, list[Region]] = {}
    borrowed: list[Region] = []
    missing: list[Region] = []
    for region in regions:
        code = outline_ubigeo(region.ubigeo)
        if code is None:
            missing.append(region)
            continue
        if code != region.ubigeo:
            borrowed.append(region)
        by_outline.setdefault(code, []).append(region)
    if not by_outline:
        return format_html('<p class="dash-note">{}</p>', empty_message)
    drawn = [(code, _district_rings(code), group) for code, group in by_outline.items()]
    drawn = [(code, rings, group) for code, rings, group in drawn if rings]
    points = [p for _c, rings, _g in drawn for ring in rings for p in ring]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    # Height from the area's shape (between 240 and 520 px at 440 px wide).
    mean_lat = sum(lats) / len(lats)
    aspect = (max(lats) - min(lats) + 0.2) / (
        (max(lons) - min(lons) + 0.2) * math.cos(math.radians(mean_lat))
    )
    legend_h = 64
    height = int(min(max(width * aspect, 240), 520)) + legend_h
    project, _scale, _span = projection(
        points, width, height, pad=12, bottom=legend_h + 12, centre=True
    )

    def path(rings: Iterable[list[tuple[float, float]]]) -> str:
        parts = []
        for ring in rings:
            xy = [project(lon, lat) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x} {y}" for x, y in xy) + "Z")
        return "".join(parts)

    west, east = min(lons) - 1, max(lons) + 1
    south, north = min(lats) - 1, max(lats) + 1
    background = [
        path(rings)
        for _code, rings in _departments()
        if any(west <= lon <= east and south <= lat <= north for ring in rings for lon, lat in ring)
    ]
    totals = [sum(r.value for r in group) for _c, _r, group in drawn]
    breaks = _breaks(totals)

    def shade(value: int) -> str:
        for k, bound in enumerate(breaks):
            if value <= bound:
                return SHADES[k + len(SHADES) - len(breaks)]
        return "#f6f8fa"

    districts = []
    for (_code, rings, group), total in zip(drawn, totals, strict=True):
        label = "; ".join(f"{r.name}: {r.shown}" for r in group)
        href = group[0].href if len(group) == 1 else ""
        shape_html = format_html(
            '<path d="{}" fill="{}" stroke="#1f2328" stroke-width="0.6" stroke-opacity="0.6" '
            'fill-rule="evenodd"><title>{}</title></path>',
            path(rings),
            shade(total),
            label,
        )
        if href:
            shape_html = format_html('<a href="{}" aria-label="{}">{}</a>', href, label, shape_html)
        districts.append(shape_html)
    legend_y = height - legend_h + 8
    step = min(64, (width - 24) // max(len(breaks), 1))
    legend = [
        format_html(
            '<text x="12" y="{}" font-size="12" fill="#57606a">{}</text>', legend_y, legend_title
        )
    ]
    low = 1
    for k, bound in enumerate(breaks):
        x = 12 + k * step
        legend.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="12" fill="{}" stroke="#1f2328" '
                'stroke-opacity="0.3"/><text x="{}" y="{}" font-size="11" fill="#1f2328">{}</text>',
                x,
                legend_y + 8,
                step - 4,
                SHADES[k + len(SHADES) - len(breaks)],
                x,
                legend_y + 34,
                f"{low:,}–{bound:,}" if bound > low else f"{bound:,}",
            )
        )
        low = bound + 1
    desc = "; ".join(f"{r.name}: {r.shown}" for group in by_outline.values() for r in group)
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart district-map" role="group" '
        'aria-label="{}" viewBox="0 0 {} {}" preserveAspectRatio="xMidYMin meet">'
        "<title>{}</title><desc>{}</desc>"
        '<g fill="#f4f1e8" stroke="#8c959f" stroke-width="0.8">{}</g><g>{}</g>{}</svg>',
        title,
        width,
        height,
        title,
        desc,
        format_html_join("", '<path d="{}"/>', ((d,) for d in background)),
        format_html_join("", "{}", ((d,) for d in districts)),
        format_html_join("", "{}", ((item,) for item in legend)),
    )
    notes = []
    if borrowed:
        names = ", ".join(sorted(r.name for r in borrowed))
        notes.append(
            _(
                "Created after 2007, drawn with the outline of the district they were carved "
                "from: %(names)s."
            )
            % {"names": names}
        )
    if missing:
        names = ", ".join(sorted(r.name for r in missing))
        notes.append(_("No outline known (not drawn): %(names)s.") % {"names": names})
    notes.append(
        _(
            "Outlines: INEI 2007 limits via juaneladio/peru-geojson (MPL-2.0); ubigeo "
            "changes: INEI, IDE-INEI 2023 via lincolneulogio/peru-geojson (CC BY 4.0)."
        )
    )
    return format_html(
        "{}{}", svg, format_html_join("", '<p class="dash-note">{}</p>', ((n,) for n in notes))
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
