"""The dashboard's choropleth of districts (``registry.maps.district_choropleth``): outlines from
the shipped files, parents' outlines for districts created after 2007 (said under the map),
districts without an outline named, classes in the legend, a link and a tooltip per district."""

from __future__ import annotations

import re

from registry.maps import Region, _breaks, district_choropleth

PICHARI, KIMBIRI = "080910", "080907"
ANDAHUAYLAS, JOSE_MARIA_ARGUEDAS = "030201", "030220"  # the latter carved out in 2014


def draw(*regions: Region) -> str:
    return str(
        district_choropleth(
            regions, title="Households", legend_title="Per district", empty_message="None."
        )
    )


def test_each_district_is_a_linked_outline_with_its_name_and_value() -> None:
    svg = draw(
        Region(PICHARI, "Pichari", 60, "60 households", "/admin/h/?district__exact=080910"),
        Region(KIMBIRI, "Kimbiri", 5, "5 households", "/admin/h/?district__exact=080907"),
    )
    assert svg.count("<a href=") == 2
    assert "<title>Pichari: 60 households</title>" in svg
    assert 'href="/admin/h/?district__exact=080910"' in svg
    assert 'role="group"' in svg and "<title>Households</title>" in svg
    # Two shades (one class each) in the legend, darker for more households.
    fills = re.findall(r'<path d="[^"]+" fill="(#[0-9a-f]{6})"', svg)
    assert len(set(fills)) == 2
    assert "1–5" in svg and "6–60" in svg
    assert "MPL-2.0" in svg and "CC BY 4.0" in svg


def test_a_district_created_after_2007_uses_its_parents_outline_and_says_so() -> None:
    svg = draw(
        Region(ANDAHUAYLAS, "Andahuaylas", 10, "10 households"),
        Region(JOSE_MARIA_ARGUEDAS, "José María Arguedas", 7, "7 households"),
        Region("999999", "Nowhere", 3, "3 households"),
    )
    # One outline for both, both named in its tooltip, their values added for the shade.
    assert "<title>Andahuaylas: 10 households; José María Arguedas: 7 households</title>" in svg
    assert "dibujados con el contorno del distrito del que se separaron: José María" in svg
    assert "Sin contorno conocido (no dibujados): Nowhere." in svg


def test_no_district_says_so() -> None:
    assert "None." in draw()


def test_classes_hold_about_as_many_districts_each() -> None:
    assert _breaks([]) == []
    assert _breaks([3]) == [3]
    assert _breaks(list(range(1, 11))) == [2, 4, 6, 8, 10]
