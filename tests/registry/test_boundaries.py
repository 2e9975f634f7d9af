"""District outlines shipped with the registry (``registry.boundaries``): containment, the
parent outline of districts created after 2007, distances and the GPS plausibility rule."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from registry import boundaries
from registry.boundaries import distance_to_m, district_contains, gps_fix_plausible
from registry.devtools.boundaries_bench import square_plot

KIMBIRI = "080907"  # Kimbiri (La Convención, Cusco) in the 2007 outlines
VILLA_KINTIARINA = "080913"  # created after 2007 out of Kimbiri
CANAYRE = "050409"  # created after 2007 out of Llochegua (050408)
IN_KIMBIRI = (-73.7875, -12.6197)  # the town of Kimbiri
IN_PIURA = (-80.63, -5.19)
WGS84 = Geod(ellps="WGS84")


def test_the_outlines_ship_with_their_licence_and_attribution() -> None:
    names = {p.name for p in boundaries.DATA_DIR.iterdir()}
    assert {
        "peru_distrital_simple.geojson",
        "ubigeo-changes-2007-2026.csv",
        "LICENSE",
        "README.md",
    } <= names
    assert "Mozilla Public License Version 2.0" in (boundaries.DATA_DIR / "LICENSE").read_text()
    readme = (boundaries.DATA_DIR / "README.md").read_text()
    assert "juaneladio/peru-geojson" in readme and "CC BY 4.0" in readme


def test_a_point_in_kimbiri_is_inside_kimbiri_and_not_in_pichari() -> None:
    assert district_contains(KIMBIRI, *IN_KIMBIRI) is True
    assert district_contains("080910", *IN_KIMBIRI) is False
    assert boundaries.districts_at(*IN_KIMBIRI) == [KIMBIRI]


def test_a_point_in_piura_is_outside_kimbiri() -> None:
    assert district_contains(KIMBIRI, *IN_PIURA) is False
    assert boundaries.districts_at(*IN_PIURA)[0].startswith("20")  # department of Piura


def test_a_district_created_after_2007_uses_its_parents_outline() -> None:
    assert boundaries.outline_ubigeo(VILLA_KINTIARINA) == KIMBIRI
    assert district_contains(VILLA_KINTIARINA, *IN_KIMBIRI) is True
    assert district_contains(VILLA_KINTIARINA, *IN_PIURA) is False
    assert boundaries.outline_ubigeo(CANAYRE) == "050408"
    # Re-coded (Putumayo, 2014) and the district in neither file (Alto Trujillo, 2021).
    assert boundaries.outline_ubigeo("160801") == "160109"
    assert boundaries.outline_ubigeo("130112") == "130102"


@pytest.mark.parametrize("ubigeo", ["010204", "999999", ""])
def test_no_outline_known_is_none(ubigeo: str) -> None:
    """A 2007 feature without geometry, or an unknown code: no outline, no answer."""
    assert boundaries.outline(ubigeo) is None
    assert district_contains(ubigeo, *IN_KIMBIRI) is None


def test_the_outlines_load_once_per_process() -> None:
    assert boundaries.atlas() is boundaries.atlas()
    assert len(boundaries.atlas().outlines) == 1826  # 1,834 features, eight without geometry


@pytest.mark.parametrize(
    ("point", "nearest"),
    [
        ((-73.0, -12.005), (-73.0, -12.0)),  # south of the square
        ((-73.005, -11.995), (-73.0, -11.995)),  # west of it
        ((-72.985, -11.985), (-72.99, -11.99)),  # beyond its north-east corner
        ((-73.0005, -12.1), (-73.0, -12.0)),  # 11 km away
    ],
)
def test_distance_is_geodesic_metres_to_the_nearest_point(
    point: tuple[float, float], nearest: tuple[float, float]
) -> None:
    plot = square_plot(-73.0, -12.0, 0.01)
    expected = WGS84.inv(*point, *nearest)[2]
    assert distance_to_m(*point, plot) == pytest.approx(expected, abs=0.5)


def test_distance_inside_is_zero_and_to_nothing_is_infinite() -> None:
    assert distance_to_m(-72.995, -11.995, square_plot(-73.0, -12.0, 0.01)) == 0.0
    assert distance_to_m(-72.995, -11.995, {"type": "Polygon", "coordinates": []}) == math.inf


def test_gps_fix_plausible_inside_the_district_or_near_a_plot() -> None:
    assert gps_fix_plausible(KIMBIRI, *IN_KIMBIRI, []) is True
    assert gps_fix_plausible(KIMBIRI, *IN_PIURA, []) is False
    lon, lat = IN_PIURA
    # A plot whose south edge is ~300 m north of the fix, then ~700 m.
    near = square_plot(lon - 0.0005, lat + 300 / 110_600)
    far = square_plot(lon - 0.0005, lat + 700 / 110_600)
    assert 290 < distance_to_m(lon, lat, near) < 310
    assert gps_fix_plausible(KIMBIRI, lon, lat, [far, near]) is True
    assert gps_fix_plausible(KIMBIRI, lon, lat, [far]) is False
    assert gps_fix_plausible(KIMBIRI, lon, lat, [far], within_m=800) is True
    # A district without an outline is judged by the household's plots alone.
    assert gps_fix_plausible("010204", lon, lat, []) is False
    assert gps_fix_plausible("010204", lon, lat, [near]) is True


def test_the_benchmark_command_runs() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("benchmark_boundaries", "--count", "30", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["load", "district_contains", "gps_fix_plausible"]
