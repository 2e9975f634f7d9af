"""Plot geometry: GeoJSON/KML/GPX parsing, validation, geodesic areas, overlaps and bboxes."""

from __future__ import annotations

import json
import math
import re
import warnings
from decimal import Decimal
from typing import Any

import pytest
import shapely
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from farmers.geometry import (
    MAX_UPLOAD_BYTES,
    MAX_VERTICES,
    OVERLAP_TOLERANCE_M,
    bbox,
    clean_plot_geometry,
    geodesic_area_ha,
    overlap_area_ha,
    parse_boundary_file,
    parse_geojson,
    to_geojson,
    validate_plot_geometry,
    vertex_count,
)

GEOD = Geod(ellps="WGS84")
PICHARI = (-73.98, -12.52)  # lon, lat
KIMBIRI = (-73.65, -12.62)
MANAUS = (-60.02, -3.10)  # Brazil

Ring = list[list[float]]


# --- Builders ---------------------------------------------------------------------------------


def corners(lon: float, lat: float, width_m: float, height_m: float) -> tuple[float, ...]:
    """(west, south, east, north) of a rectangle whose south-west corner is (lon, lat)."""
    east, _lat, _az = GEOD.fwd(lon, lat, 90, width_m)
    _lon, north, _az = GEOD.fwd(lon, lat, 0, height_m)
    return (lon, lat, east, north)


def box_ring(west: float, south: float, east: float, north: float) -> Ring:
    """A closed counter-clockwise ring."""
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def rect(
    lon: float = PICHARI[0], lat: float = PICHARI[1], width_m: float = 100, height_m: float = 100
) -> Ring:
    """A closed rectangular ring measured in metres from its south-west corner."""
    return box_ring(*corners(lon, lat, width_m, height_m))


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` metres east and ``north_m`` metres north of (lon, lat)."""
    lon2, lat2, _az = GEOD.fwd(lon, lat, 90, east_m)
    lon3, lat3, _az = GEOD.fwd(lon2, lat2, 0, north_m)
    return (lon3, lat3)


def polygon(*rings: list[Any]) -> dict[str, Any]:
    """A GeoJSON Polygon (rings deliberately untyped: bad input is built with it too)."""
    return {"type": "Polygon", "coordinates": list(rings)}


def multipolygon(*polygons: list[Ring]) -> dict[str, Any]:
    return {"type": "MultiPolygon", "coordinates": list(polygons)}


def feature(geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": "Chacra Alta"}, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def circle_ring(center: tuple[float, float], radius_m: float, vertices: int) -> Ring:
    lon, lat = center
    ring = [list(GEOD.fwd(lon, lat, 360 * i / vertices, radius_m)[:2]) for i in range(vertices)]
    return [*ring, ring[0]]


def error_code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str | None:
    """The machine code of a raised ``ValidationError``."""
    return excinfo.value.code


def message(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.messages)


SQUARE = rect()  # 100 m x 100 m near Pichari: 1 ha
HOLE = rect(*offset(*PICHARI, 40, 40), width_m=20, height_m=20)[::-1]  # 400 m², clockwise
BOWTIE = [
    list(PICHARI),
    list(offset(*PICHARI, 100, 100)),
    list(offset(*PICHARI, 100, 0)),
    list(offset(*PICHARI, 0, 100)),
    list(PICHARI),
]


# --- Parsing and validation: good input -------------------------------------------------------


GOOD = [
    pytest.param(polygon(SQUARE), "Polygon", 1.0, id="square-100m"),
    pytest.param(polygon(SQUARE[::-1]), "Polygon", 1.0, id="clockwise-square"),
    pytest.param(polygon(SQUARE, HOLE), "Polygon", 0.96, id="polygon-with-hole"),
    pytest.param(multipolygon([SQUARE], [rect(*KIMBIRI)]), "MultiPolygon", 2.0, id="multipolygon"),
    pytest.param(
        multipolygon([SQUARE], [rect(*offset(*PICHARI, 100, 100))]),
        "MultiPolygon",
        2.0,
        id="multipolygon-parts-touching-at-a-corner",
    ),
    pytest.param(feature(polygon(SQUARE)), "Polygon", 1.0, id="feature"),
    pytest.param(
        collection(
            feature({"type": "Point", "coordinates": list(PICHARI)}), feature(polygon(SQUARE))
        ),
        "Polygon",
        1.0,
        id="collection-with-a-marker-point",
    ),
    pytest.param(json.dumps(polygon(SQUARE)), "Polygon", 1.0, id="json-text"),
    pytest.param(
        polygon([[*position, 612.5] for position in SQUARE]), "Polygon", 1.0, id="altitude"
    ),
    pytest.param(
        {**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}},
        "Polygon",
        1.0,
        id="legacy-crs-wgs84",
    ),
    pytest.param(polygon(rect(width_m=4, height_m=4)), "Polygon", 0.0016, id="small-16m2"),
    pytest.param(polygon(rect(width_m=7000, height_m=7000)), "Polygon", 4900.0, id="large-4900ha"),
    pytest.param(
        polygon(circle_ring(PICHARI, 60, MAX_VERTICES)), "Polygon", 1.131, id="5000-vertices"
    ),
]


@pytest.mark.parametrize(("data", "geom_type", "area_ha"), GOOD)
def test_good_geometries_parse_and_validate(
    data: dict[str, Any] | str, geom_type: str, area_ha: float
) -> None:
    geom = clean_plot_geometry(data)
    assert geom.geom_type == geom_type
    assert not geom.has_z
    assert float(geodesic_area_ha(geom)) == pytest.approx(area_ha, rel=0.005)


def test_parse_does_not_validate() -> None:
    """Parsing checks structure; a bowtie only fails in ``validate_plot_geometry``."""
    geom = parse_geojson(polygon(BOWTIE))
    assert isinstance(geom, Polygon)
    assert not geom.is_valid


def test_validate_returns_its_argument() -> None:
    geom = parse_geojson(polygon(SQUARE, HOLE))
    assert validate_plot_geometry(geom) is geom
    assert len(geom.interiors) == 1


# --- Parsing and validation: bad input --------------------------------------------------------


def hole_outside() -> dict[str, Any]:
    return polygon(SQUARE, rect(*offset(*PICHARI, 300, 300), width_m=10, height_m=10))


BAD = [
    pytest.param(polygon(BOWTIE), "self_intersection", id="bowtie"),
    pytest.param(polygon(SQUARE[:-1]), "ring_not_closed", id="open-ring"),
    pytest.param(polygon(SQUARE, HOLE[:-1]), "ring_not_closed", id="open-hole"),
    pytest.param({"type": "Point", "coordinates": list(PICHARI)}, "invalid_type", id="point"),
    pytest.param({"type": "LineString", "coordinates": SQUARE}, "invalid_type", id="linestring"),
    pytest.param(
        {"type": "GeometryCollection", "geometries": [polygon(SQUARE)]},
        "invalid_type",
        id="geometry-collection",
    ),
    pytest.param(feature(None), "invalid_type", id="feature-without-geometry"),
    pytest.param(
        collection(feature({"type": "Point", "coordinates": list(PICHARI)})),
        "invalid_type",
        id="collection-without-polygon",
    ),
    pytest.param(collection(), "invalid_type", id="empty-collection"),
    pytest.param(
        collection(feature(polygon(SQUARE)), feature(polygon(rect(*KIMBIRI)))),
        "multiple_features",
        id="collection-with-two-polygons",
    ),
    pytest.param(polygon(rect(*MANAUS)), "outside_peru", id="brazil"),
    pytest.param(polygon(rect(-68.601, -16.5, 200, 200)), "outside_peru", id="straddles-bolivia"),
    pytest.param(
        polygon([[lat, lon] for lon, lat in SQUARE]), "outside_peru", id="lat-lon-swapped"
    ),
    pytest.param(polygon(box_ring(-74.5, -13.5, -73.5, -12.5)), "too_large", id="huge-1-degree"),
    pytest.param(polygon(rect(width_m=8000, height_m=8000)), "too_large", id="6400-ha"),
    pytest.param(polygon(rect(width_m=3, height_m=3)), "too_small", id="tiny-9m2"),
    pytest.param(polygon(SQUARE[:2] + SQUARE[:1]), "ring_too_short", id="three-positions"),
    pytest.param(polygon([list(PICHARI)] * 4), "ring_too_short", id="one-point-repeated"),
    pytest.param(
        polygon([[-73.98, -12.52], [-73.979, -12.52], [-73.978, -12.52], [-73.98, -12.52]]),
        "self_intersection",
        id="collinear-zero-area",
    ),
    pytest.param(
        polygon(
            [
                list(PICHARI),
                list(offset(*PICHARI, 100, 0.05)),
                list(offset(*PICHARI, 200, 0)),
                list(PICHARI),
            ]
        ),
        "too_small",
        id="nearly-collinear-5m2",
    ),
    pytest.param(hole_outside(), "hole_outside_shell", id="hole-outside-shell"),
    pytest.param(
        multipolygon([SQUARE], [rect(*offset(*PICHARI, 20, 20), width_m=10, height_m=10)]),
        "invalid_geometry",
        id="multipolygon-part-inside-another",
    ),
    pytest.param(
        polygon(
            box_ring(-73.98, -12.52, -73.97, -12.51),
            [
                [-73.975, -12.52],
                [-73.97, -12.515],
                [-73.975, -12.51],
                [-73.98, -12.515],
                [-73.975, -12.52],
            ],
        ),
        "invalid_geometry",
        id="hole-cuts-the-plot-in-pieces",
    ),
    pytest.param(
        multipolygon([SQUARE], [rect(*offset(*PICHARI, 50, 50))]),
        "self_intersection",
        id="multipolygon-overlapping-parts",
    ),
    pytest.param(
        polygon(circle_ring(PICHARI, 60, MAX_VERTICES + 1)),
        "too_many_vertices",
        id="too-many-vertices",
    ),
    pytest.param(
        multipolygon(*[[rect(*offset(*PICHARI, 200 * i, 0), 100, 100)] for i in range(1251)]),
        "too_many_vertices",
        id="too-many-vertices-over-parts",
    ),
    pytest.param({"type": "Polygon", "coordinates": []}, "invalid_coordinates", id="no-rings"),
    pytest.param({"type": "Polygon"}, "invalid_coordinates", id="no-coordinates"),
    pytest.param({"type": "MultiPolygon", "coordinates": []}, "invalid_coordinates", id="no-parts"),
    pytest.param({"type": "Polygon", "coordinates": "[]"}, "invalid_coordinates", id="string"),
    pytest.param(
        polygon([[str(lon), str(lat)] for lon, lat in SQUARE]),
        "invalid_coordinates",
        id="strings-for-numbers",
    ),
    pytest.param(polygon([[True, False] for _ in SQUARE]), "invalid_coordinates", id="booleans"),
    pytest.param(polygon([[lon] for lon, _lat in SQUARE]), "invalid_coordinates", id="1-number"),
    pytest.param(
        polygon([[*position, 0, 0] for position in SQUARE]), "invalid_coordinates", id="4-numbers"
    ),
    pytest.param(
        polygon([[math.nan, lat] for _lon, lat in SQUARE]), "invalid_coordinates", id="nan"
    ),
    pytest.param(
        polygon([[math.inf, lat] for _lon, lat in SQUARE]), "invalid_coordinates", id="infinity"
    ),
    pytest.param(polygon([[10**400, 0]] * 4), "invalid_coordinates", id="int-too-big-for-float"),
    pytest.param(
        polygon(box_ring(620000, 8615000, 620100, 8615100)), "invalid_coordinates", id="utm-metres"
    ),
    pytest.param(
        {**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "EPSG:32718"}}},
        "unsupported_crs",
        id="crs-utm-18s",
    ),
    pytest.param([polygon(SQUARE)], "invalid_geojson", id="list"),
    pytest.param({"coordinates": [SQUARE]}, "invalid_geojson", id="no-type"),
    pytest.param(
        {"type": "FeatureCollection", "features": {}}, "invalid_geojson", id="features-not-list"
    ),
    pytest.param("{not json", "invalid_geojson", id="bad-json-text"),
    pytest.param("[" * 100_000, "invalid_geojson", id="deeply-nested-json"),
    pytest.param(
        '{"type": "Polygon", "coordinates": [[[NaN, 0], [0, 0], [0, 1], [NaN, 0]]]}',
        "invalid_coordinates",
        id="nan-in-json-text",
    ),
]


@pytest.mark.parametrize(("data", "code"), BAD)
def test_bad_geometries_are_refused(data: Any, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        clean_plot_geometry(data)
    assert error_code(excinfo) == code


def test_bowtie_message_says_where_the_boundary_crosses() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        clean_plot_geometry(polygon(BOWTIE))
    text = message(excinfo)
    assert "crosses itself" in text
    found = re.search(r"longitude (-?\d+\.\d{6}), latitude (-?\d+\.\d{6})", text)
    assert found is not None, text
    center_lon, center_lat = offset(*PICHARI, 50, 50)
    assert float(found[1]) == pytest.approx(center_lon, abs=1e-5)
    assert float(found[2]) == pytest.approx(center_lat, abs=1e-5)


def test_swapped_coordinates_get_a_hint() -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            clean_plot_geometry(polygon([[lat, lon] for lon, lat in SQUARE]))
        assert "swapped" in message(excinfo)


def test_too_large_message_gives_the_area() -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            clean_plot_geometry(polygon(rect(width_m=8000, height_m=8000)))
        assert re.search(r"measures 64\d\d ha", message(excinfo))


@pytest.mark.parametrize(
    ("geom", "code"),
    [
        (Point(PICHARI), "invalid_type"),
        (LineString(SQUARE), "invalid_type"),
        (Polygon(), "invalid_coordinates"),
        (
            lambda: Polygon([PICHARI, (math.nan, math.nan), KIMBIRI, PICHARI]),
            "invalid_coordinates",
        ),
    ],
    ids=["point", "linestring", "empty", "nan"],
)
def test_validate_refuses_other_shapes(geom: Any, code: str) -> None:
    if callable(geom):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns about the NaN
            geom = geom()
    with pytest.raises(ValidationError) as excinfo:
        validate_plot_geometry(geom)
    assert error_code(excinfo) == code


def test_vertex_count_ignores_closing_positions() -> None:
    assert vertex_count(parse_geojson(polygon(SQUARE, HOLE))) == 8
    assert vertex_count(parse_geojson(multipolygon([SQUARE], [rect(*KIMBIRI)]))) == 8


# --- Areas ------------------------------------------------------------------------------------


def test_area_of_a_100_m_square_near_pichari_is_one_hectare() -> None:
    area = geodesic_area_ha(Polygon(SQUARE))
    assert isinstance(area, Decimal)
    assert area.as_tuple().exponent == -4
    assert abs(area - Decimal(1)) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("geom", "expected_m2"),
    [
        (Polygon(SQUARE), 10_000),
        (Polygon(SQUARE[::-1]), 10_000),  # winding does not matter
        (Polygon(SQUARE, [HOLE]), 9_600),
        (Polygon(SQUARE, [HOLE[::-1]]), 9_600),  # nor the holes' winding
        (MultiPolygon([Polygon(SQUARE), Polygon(rect(*KIMBIRI, 200, 50))]), 20_000),
        (Polygon(rect(width_m=1000, height_m=250)), 250_000),
        (Polygon(rect(-80.5, -4.0, 300, 300)), 90_000),  # Piura, north
        (Polygon(rect(-70.0, -17.9, 300, 300)), 90_000),  # Tacna, south
    ],
)
def test_geodesic_area(geom: Any, expected_m2: float) -> None:
    assert float(geodesic_area_ha(geom)) == pytest.approx(expected_m2 / 10_000, rel=0.005)


def test_area_is_rounded_to_square_metres() -> None:
    assert geodesic_area_ha(Polygon(rect(width_m=10, height_m=10))) == Decimal("0.0100")


@pytest.mark.parametrize(
    "geom", [Point(PICHARI), LineString(SQUARE), Polygon()], ids=["point", "line", "empty"]
)
def test_area_of_non_polygons_is_zero(geom: Any) -> None:
    assert geodesic_area_ha(geom) == Decimal("0.0000")


# --- Overlaps and bounding boxes --------------------------------------------------------------


WEST, SOUTH, EAST, NORTH = corners(*PICHARI, 100, 100)
PLOT = Polygon(box_ring(WEST, SOUTH, EAST, NORTH))


def plot_at(
    east_m: float, north_m: float = 0, width_m: float = 100, height_m: float = 100
) -> Polygon:
    return Polygon(rect(*offset(*PICHARI, east_m, north_m), width_m=width_m, height_m=height_m))


OVERLAPS = [
    pytest.param(plot_at(50), 0.5, id="half-overlap"),
    pytest.param(plot_at(50, 50), 0.25, id="quarter-overlap"),
    pytest.param(PLOT, 1.0, id="same-plot"),
    pytest.param(plot_at(25, 25, width_m=50, height_m=50), 0.25, id="contained"),
    pytest.param(
        Polygon(box_ring(EAST, SOUTH, EAST + (EAST - WEST), NORTH)), 0.0, id="touching-edge"
    ),
    pytest.param(
        Polygon(box_ring(EAST, NORTH, EAST + (EAST - WEST), NORTH + (NORTH - SOUTH))),
        0.0,
        id="touching-corner",
    ),
    pytest.param(plot_at(99.5), 0.0, id="sliver-50cm-wide"),
    pytest.param(plot_at(98.5), 0.0, id="sliver-1.5m-wide"),
    pytest.param(plot_at(95), 0.05, id="strip-5m-wide"),
    pytest.param(plot_at(100.5), 0.0, id="gap-50cm"),
    pytest.param(Polygon(rect(*KIMBIRI)), 0.0, id="disjoint"),
    pytest.param(MultiPolygon([Polygon(rect(*KIMBIRI)), plot_at(50)]), 0.5, id="multipolygon-part"),
]


@pytest.mark.parametrize(("other", "expected_ha"), OVERLAPS)
def test_overlap_area(other: Polygon | MultiPolygon, expected_ha: float) -> None:
    area = overlap_area_ha(PLOT, other)
    assert isinstance(area, Decimal)
    assert float(area) == pytest.approx(expected_ha, rel=0.005)
    assert overlap_area_ha(other, PLOT) == area
    if area > 0:
        ax0, ay0, ax1, ay1 = bbox(PLOT)
        bx0, by0, bx1, by1 = bbox(other)
        assert ax0 <= bx1 and bx0 <= ax1 and ay0 <= by1 and by0 <= ay1


def test_overlap_tolerance_can_be_switched_off() -> None:
    sliver = plot_at(99.5)
    assert overlap_area_ha(PLOT, sliver) == 0
    assert float(overlap_area_ha(PLOT, sliver, tolerance_m=0)) == pytest.approx(0.005, rel=0.01)
    assert overlap_area_ha(PLOT, plot_at(98.5), tolerance_m=0.5) > 0
    assert OVERLAP_TOLERANCE_M == 1.0


def test_overlap_with_an_invalid_stored_plot_does_not_raise() -> None:
    assert float(overlap_area_ha(PLOT, Polygon(BOWTIE))) == pytest.approx(0.5, rel=0.005)


def test_bbox() -> None:
    assert bbox(PLOT) == (WEST, SOUTH, EAST, NORTH)
    both = MultiPolygon([PLOT, Polygon(rect(*KIMBIRI))])
    min_lon, min_lat, max_lon, max_lat = bbox(both)
    assert (min_lon, max_lat) == (WEST, NORTH)
    assert max_lon > KIMBIRI[0] and min_lat == KIMBIRI[1]
    assert all(type(value) is float for value in bbox(both))


# --- GeoJSON output ---------------------------------------------------------------------------


def only_lists(value: Any) -> bool:
    if isinstance(value, tuple):
        return False
    if isinstance(value, list):
        return all(only_lists(item) for item in value)
    return True


def test_to_geojson_uses_lists_rounded_and_rfc7946_winding() -> None:
    ring = [[-73.123456789, -12.5], [-73.1, -12.5], [-73.1, -12.4], [-73.123456789, -12.5]]
    out = to_geojson(Polygon(ring[::-1]))  # clockwise in
    assert out["type"] == "Polygon"
    assert only_lists(out["coordinates"])
    shell = out["coordinates"][0]
    assert shell[0] == [-73.1234568, -12.5]
    assert Polygon(shell).exterior.is_ccw
    json.dumps(out)


def test_to_geojson_multipolygon_with_hole() -> None:
    geom = parse_geojson(multipolygon([SQUARE, HOLE[::-1]], [rect(*KIMBIRI)]))
    out = to_geojson(geom)
    assert out["type"] == "MultiPolygon"
    assert only_lists(out["coordinates"])
    assert len(out["coordinates"]) == 2 and len(out["coordinates"][0]) == 2
    assert not Polygon(out["coordinates"][0][1]).exterior.is_ccw  # holes clockwise
    assert geodesic_area_ha(parse_geojson(out)) == geodesic_area_ha(geom)


def test_to_geojson_drops_altitude() -> None:
    out = to_geojson(Polygon([[*position, 600.0] for position in SQUARE]))
    assert all(len(position) == 2 for position in out["coordinates"][0])


# --- Uploaded files ---------------------------------------------------------------------------


def kml_coordinates(ring: Ring, altitude: bool = True) -> str:
    return "\n          ".join(
        f"{lon:.9f},{lat:.9f}" + (",0" if altitude else "") for lon, lat in ring
    )


def kml(body: str, namespace: str = "http://www.opengis.net/kml/2.2") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{namespace}">\n'
        f"<Document><name>Parcelas</name>{body}</Document>\n</kml>\n"
    ).encode()


def kml_polygon(outer: Ring, *inner: Ring) -> str:
    holes = "".join(
        f"<innerBoundaryIs><LinearRing><coordinates>{kml_coordinates(ring)}"
        f"</coordinates></LinearRing></innerBoundaryIs>"
        for ring in inner
    )
    return (
        "<Polygon><extrude>0</extrude><altitudeMode>clampToGround</altitudeMode>"
        f"<outerBoundaryIs><LinearRing><coordinates>\n          {kml_coordinates(outer)}\n"
        f"        </coordinates></LinearRing></outerBoundaryIs>{holes}</Polygon>"
    )


def placemark(geometry: str, name: str = "Chacra Alta") -> str:
    return f"<Placemark><name>{name}</name>{geometry}</Placemark>"


def gpx(body: str, namespace: str = "http://www.topografix.com/GPX/1/1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator="Garmin eTrex 10" xmlns="{namespace}">{body}</gpx>'
    ).encode()


def trkpts(points: Ring, element: str = "trkpt") -> str:
    return "".join(
        f'<{element} lat="{lat:.7f}" lon="{lon:.7f}"><ele>612.4</ele></{element}>'
        for lon, lat in points
    )


def track(*segments: Ring) -> str:
    body = "".join(f"<trkseg>{trkpts(segment)}</trkseg>" for segment in segments)
    return f"<trk><name>Linderos</name>{body}</trk>"


WALK = SQUARE[:-1]  # four corners walked, not back to the start
GOOD_FILES = [
    pytest.param(
        "chacra.geojson", json.dumps(feature(polygon(SQUARE))).encode(), 1.0, 0, id="geojson"
    ),
    pytest.param(
        "CHACRA.JSON", json.dumps(polygon(SQUARE, HOLE)).encode(), 0.96, 1, id="json-upper"
    ),
    pytest.param(
        "chacra.geojson",
        b"\xef\xbb\xbf" + json.dumps(collection(feature(polygon(SQUARE)))).encode(),
        1.0,
        0,
        id="geojson-with-bom",
    ),
    pytest.param("chacra.kml", kml(placemark(kml_polygon(SQUARE))), 1.0, 0, id="kml"),
    pytest.param("chacra.kml", kml(placemark(kml_polygon(SQUARE, HOLE))), 0.96, 1, id="kml-hole"),
    pytest.param(
        "chacra.kml",
        kml(placemark(kml_polygon(SQUARE)), namespace="http://earth.google.com/kml/2.1"),
        1.0,
        0,
        id="kml-google-2.1",
    ),
    pytest.param(
        "chacra.kml",
        kml(
            placemark("<Point><coordinates>-73.98,-12.52,0</coordinates></Point>", "Casa")
            + placemark(
                f"<MultiGeometry>{kml_polygon(SQUARE)}{kml_polygon(rect(*KIMBIRI))}</MultiGeometry>"
            )
        ),
        1.0,
        0,
        id="kml-first-polygon",
    ),
    pytest.param(
        "chacra.kml",
        (
            '<?xml version="1.0" encoding="UTF-16"?>'
            '<kml xmlns="http://www.opengis.net/kml/2.2">'
            f"{placemark(kml_polygon(SQUARE), 'Chacra Ñaupa')}</kml>"
        ).encode("utf-16"),
        1.0,
        0,
        id="kml-utf16-with-bom",
    ),
    pytest.param(
        r"C:\Users\tecnico\Desktop\chacra.kml", kml(kml_polygon(SQUARE)), 1.0, 0, id="windows-path"
    ),
    pytest.param("ruta.gpx", gpx(track(WALK)), 1.0, 0, id="gpx-track-open"),
    pytest.param("ruta.gpx", gpx(track(SQUARE)), 1.0, 0, id="gpx-track-closed"),
    pytest.param(
        "ruta.gpx",
        gpx(track([WALK[0], WALK[0], WALK[1], WALK[1], WALK[1], WALK[2], WALK[3]])),
        1.0,
        0,
        id="gpx-repeated-points",
    ),
    pytest.param("ruta.gpx", gpx(track(WALK[:2], WALK[2:])), 1.0, 0, id="gpx-two-segments"),
    pytest.param(
        "ruta.gpx",
        gpx(f"<rte><name>Linderos</name>{trkpts(WALK, 'rtept')}</rte>"),
        1.0,
        0,
        id="gpx-route",
    ),
    pytest.param(
        "ruta.gpx",
        gpx(track(WALK), namespace="http://www.topografix.com/GPX/1/0"),
        1.0,
        0,
        id="gpx-1.0",
    ),
    pytest.param(
        "ruta.gpx",
        gpx(trkpts(WALK[:1], "wpt") + "<trk><trkseg/></trk>" + track(WALK)),
        1.0,
        0,
        id="gpx-skips-waypoints-and-empty-track",
    ),
]


@pytest.mark.parametrize(("filename", "content", "area_ha", "holes"), GOOD_FILES)
def test_boundary_files_are_parsed(
    filename: str, content: bytes, area_ha: float, holes: int
) -> None:
    geom = validate_plot_geometry(parse_boundary_file(filename, content))
    assert isinstance(geom, Polygon)
    assert len(geom.interiors) == holes
    assert float(geodesic_area_ha(geom)) == pytest.approx(area_ha, rel=0.005)


def test_gpx_walk_is_closed_into_a_polygon() -> None:
    geom = parse_boundary_file("ruta.gpx", gpx(track(WALK)))
    coords = list(geom.exterior.coords)
    assert len(coords) == 5 and coords[0] == coords[-1]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE kml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&lol3;</name></Document></kml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!doctype gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&xxe;</name></trk></gpx>"""
# The declared encoding would make expat read the DTD that follows from EBCDIC bytes.
EBCDIC_DOCTYPE = b'<?xml version="1.0" encoding="cp037"?>' + (
    '<!DOCTYPE kml [<!ENTITY a "b">]><kml xmlns="http://www.opengis.net/kml/2.2"/>'
).encode("cp037")

BAD_FILES = [
    pytest.param("chacra.shp", b"\x00\x00\x27\x0a", "unsupported_format", id="shapefile"),
    pytest.param("chacra.kmz", b"PK\x03\x04", "unsupported_format", id="kmz"),
    pytest.param("chacra", json.dumps(polygon(SQUARE)).encode(), "unsupported_format", id="no-ext"),
    pytest.param("", b"", "unsupported_format", id="no-name"),
    pytest.param("chacra.geojson", b"{", "invalid_file", id="geojson-truncated"),
    pytest.param("chacra.geojson", b"", "invalid_file", id="geojson-empty"),
    pytest.param("chacra.geojson", b"\xff\xd8\xff\xe0JFIF", "invalid_file", id="jpeg-renamed"),
    pytest.param(
        "chacra.geojson",
        json.dumps({"type": "Point", "coordinates": list(PICHARI)}).encode(),
        "invalid_type",
        id="geojson-point",
    ),
    pytest.param("chacra.json", json.dumps(polygon(BOWTIE)).encode(), None, id="bowtie-parses"),
    pytest.param("chacra.kml", BILLION_LAUGHS, "invalid_file", id="kml-billion-laughs"),
    pytest.param("ruta.gpx", EXTERNAL_ENTITY, "invalid_file", id="gpx-external-entity"),
    pytest.param("chacra.kml", EBCDIC_DOCTYPE, "invalid_file", id="kml-encoding-trick"),
    pytest.param("chacra.kml", b"<kml><Polygon>", "invalid_file", id="kml-not-well-formed"),
    pytest.param("chacra.kml", "<kml>ñ</kml>".encode("latin-1"), "invalid_file", id="latin-1"),
    pytest.param("chacra.kml", gpx(track(WALK)), "invalid_file", id="gpx-named-kml"),
    pytest.param(
        "chacra.kml",
        kml(placemark(kml_polygon(SQUARE)), namespace="urn:other"),
        "invalid_file",
        id="kml-foreign-ns",
    ),
    pytest.param(
        "chacra.kml",
        kml(placemark("<Point><coordinates>-73.98,-12.52,0</coordinates></Point>")),
        "invalid_type",
        id="kml-point-only",
    ),
    pytest.param(
        "chacra.kml",
        kml(placemark("<Polygon><innerBoundaryIs/></Polygon>")),
        "invalid_file",
        id="kml-polygon-without-outer",
    ),
    pytest.param(
        "chacra.kml", kml(placemark(kml_polygon(SQUARE[:-1]))), "ring_not_closed", id="kml-open"
    ),
    pytest.param(
        "chacra.kml",
        kml(placemark(kml_polygon(SQUARE)).replace(",0\n", ",0,0,0\n", 1)),
        "invalid_coordinates",
        id="kml-4-numbers",
    ),
    pytest.param(
        "chacra.kml",
        kml(placemark(kml_polygon(SQUARE)).replace("-73.98", "abc", 1)),
        "invalid_coordinates",
        id="kml-letters",
    ),
    pytest.param(
        "chacra.kml",
        kml(placemark(kml_polygon(SQUARE)).replace("-73.98", "nan", 1)),
        "invalid_coordinates",
        id="kml-nan",
    ),
    pytest.param("chacra.kml", kml(placemark(kml_polygon([]))), "ring_too_short", id="kml-empty"),
    pytest.param("ruta.gpx", gpx(trkpts(WALK, "wpt")), "invalid_type", id="gpx-waypoints-only"),
    pytest.param("ruta.gpx", gpx(track(WALK[:2])), "ring_too_short", id="gpx-two-points"),
    pytest.param(
        "ruta.gpx",
        gpx('<trk><trkseg><trkpt lon="-73.98"/></trkseg></trk>'),
        "invalid_coordinates",
        id="gpx-no-lat",
    ),
    pytest.param(
        "ruta.gpx",
        gpx('<trk><trkseg><trkpt lat="x" lon="-73.98"/></trkseg></trk>'),
        "invalid_coordinates",
        id="gpx-bad-lat",
    ),
    pytest.param(
        "ruta.gpx",
        gpx(track(circle_ring(PICHARI, 60, MAX_VERTICES + 1))),
        "too_many_vertices",
        id="gpx-too-many-points",
    ),
    pytest.param("chacra.geojson", b" " * (MAX_UPLOAD_BYTES + 1), "file_too_large", id="too-large"),
    pytest.param("chacra.shp", b" " * (MAX_UPLOAD_BYTES + 1), "file_too_large", id="large-first"),
]


@pytest.mark.parametrize(("filename", "content", "code"), BAD_FILES)
def test_bad_boundary_files_are_refused(filename: str, content: bytes, code: str | None) -> None:
    """``None``: the file parses but the shape is refused by ``validate_plot_geometry``."""
    with pytest.raises(ValidationError) as excinfo:
        validate_plot_geometry(parse_boundary_file(filename, content))
    if code is not None:
        assert error_code(excinfo) == code


def test_file_of_exactly_the_size_limit_is_accepted() -> None:
    data = json.dumps(polygon(SQUARE)).encode()
    padded = data + b" " * (MAX_UPLOAD_BYTES - len(data))
    assert parse_boundary_file("chacra.geojson", padded).equals(Polygon(SQUARE))


def test_dtd_is_refused_with_a_clear_message() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        parse_boundary_file("chacra.kml", BILLION_LAUGHS)
    assert "DTD" in message(excinfo)


# --- Properties -------------------------------------------------------------------------------


@st.composite
def rectangles_in_peru(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a rectangle of about 50 m to 5.5 km a side in Peru."""
    dlon = draw(st.floats(0.0005, 0.05))
    dlat = draw(st.floats(0.0005, 0.05))
    west = draw(st.floats(-81.4, -68.6 - dlon))
    south = draw(st.floats(-18.4, 0.1 - dlat))
    return (west, south, west + dlon, south + dlat)


@settings(max_examples=200, deadline=None)
@given(rectangles_in_peru())
def test_rectangle_area_matches_its_side_lengths(box: tuple[float, float, float, float]) -> None:
    west, south, east, north = box
    geom = validate_plot_geometry(parse_geojson(polygon(box_ring(*box))))
    middle = (south + north) / 2
    width_m = GEOD.inv(west, middle, east, middle)[2]
    height_m = GEOD.inv(west, south, west, north)[2]
    expected_ha = width_m * height_m / 10_000
    area = float(geodesic_area_ha(geom))
    assert area > 0
    assert area == pytest.approx(expected_ha, rel=0.01)


@settings(max_examples=200, deadline=None)
@given(rectangles_in_peru(), st.booleans(), st.booleans())
def test_geojson_round_trip(
    box: tuple[float, float, float, float], clockwise: bool, with_hole: bool
) -> None:
    west, south, east, north = box
    shell = box_ring(*box)
    rings = [shell[::-1] if clockwise else shell]
    if with_hole:
        dx, dy = (east - west) / 4, (north - south) / 4
        rings.append(box_ring(west + dx, south + dy, east - dx, north - dy))
    geom = parse_geojson(polygon(*rings))
    out = to_geojson(geom)
    again = parse_geojson(out)
    assert to_geojson(again) == out
    assert shapely.equals_exact(shapely.normalize(again), shapely.normalize(geom), 1e-7)
    assert parse_geojson(json.dumps(out)).equals(again)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["type", "coordinates", "geometry", "features", "crs", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=40,
)
geojson_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["Polygon", "MultiPolygon", "Feature", "FeatureCollection", "Point", "x"]
        ),
        "coordinates": json_values,
    },
    optional={"geometry": json_values, "features": json_values, "crs": json_values},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(geojson_like, json_values, json_values.map(json.dumps), st.text(max_size=50)))
def test_arbitrary_geojson_only_raises_validation_error(data: Any) -> None:
    try:
        geom = clean_plot_geometry(data)
    except ValidationError as exc:
        assert exc.code
    else:
        assert isinstance(geom, Polygon | MultiPolygon)


xml_fragments = st.lists(
    st.sampled_from(
        [
            '<kml xmlns="http://www.opengis.net/kml/2.2">',
            "</kml>",
            "<gpx>",
            "</gpx>",
            "<Polygon>",
            "</Polygon>",
            "<outerBoundaryIs><LinearRing><coordinates>",
            "</coordinates></LinearRing></outerBoundaryIs>",
            "<trk><trkseg>",
            "</trkseg></trk>",
            '<trkpt lat="-12.52" lon="-73.98"/>',
            '<trkpt lat="-12.51" lon="-73.97"/>',
            '<trkpt lat="-12.52" lon="-73.97"/>',
            "-73.98,-12.52 -73.97,-12.52 -73.97,-12.51 -73.98,-12.52",
            "1,2,3,4",
            "&amp;",
            "<!-- c -->",
            "<?pi x?>",
            "]]>",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["a.geojson", "a.json", "a.kml", "a.gpx", "a.txt"]),
    st.one_of(st.binary(max_size=200), xml_fragments.map(str.encode)),
)
def test_arbitrary_files_only_raise_validation_error(filename: str, content: bytes) -> None:
    try:
        geom = parse_boundary_file(filename, content)
    except ValidationError as exc:
        assert exc.code
    else:
        assert isinstance(geom, Polygon | MultiPolygon)
