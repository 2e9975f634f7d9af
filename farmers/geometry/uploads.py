"""Uploaded boundary files: KML (Google Earth), GPX (a GPS track or route walked around the plot)
and GeoJSON, each read into a plot geometry (``parse_boundary_file``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .base import (
    MAX_VERTICES,
    PlotGeometry,
    Position,
    _fail,
    _invalid_coordinates,
    _polygon,
    _position,
    _too_many_vertices,
    _VertexBudget,
)
from .geojson import _load_json, parse_geojson

MAX_UPLOAD_BYTES = 2 * 1024 * 1024

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
