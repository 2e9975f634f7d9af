"""Issue 18 points 6 and 7 on the server (Django client): the district outline served per district
as the maps' base layer (and drawn under the admin's SVG maps), the pages the phone keeps for a
household registered offline and for pages not yet on the phone, the officer's own district
preselected, actions offered only where they can succeed, and numbers typed and shown with a
decimal comma."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from farmers import services as farmers_services
from farmers.models import CropInstallation, Household, Plot
from farmers.pages import registry as pages
from registry.actors import Actor
from registry.maps import boundary_svg
from registry.models import District, Membership
from tests.factories import UserFactory
from tests.field.conftest import HouseholdMaker, make_officer

pytestmark = pytest.mark.django_db

RING = [
    [-73.98, -12.44],
    [-73.979, -12.44],
    [-73.979, -12.441],
    [-73.98, -12.441],
    [-73.98, -12.44],
]
SQUARE = {"type": "Polygon", "coordinates": [RING]}


def _plot(household: Household, name: str = "Chacra Alta") -> Plot:
    plot, _created = farmers_services.plot_create(
        actor=Actor(user=UserFactory.create(), unrestricted=True),
        household=household.pk,
        name=name,
        tenure="possession",
        geometry=SQUARE,
    )
    return plot


# --- point 6: maps without internet ------------------------------------------------------------


def test_district_outline_is_served_small_cacheable_and_without_sign_in(geography: None) -> None:
    response = Client().get("/campo/distritos/080910.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "max-age=604800" in response["Cache-Control"]
    feature = json.loads(response.content)
    assert feature["type"] == "Feature"
    assert feature["properties"] == {"ubigeo": "080910", "name": "Pichari"}
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # One simplified district, never the whole country (the shipped file is 1.8 MB).
    assert len(response.content) < 10_000
    # Simplified, it still covers the district it stands for.
    from shapely.geometry import shape

    from registry.boundaries import outline

    full = outline("080910")
    assert full is not None
    drawn = shape(feature["geometry"])
    assert drawn.intersection(full).area / full.area > 0.97
    assert drawn.contains(full.representative_point())


def test_district_outline_unknown_or_without_geometry_is_404(geography: None) -> None:
    client = Client()
    assert client.get("/campo/distritos/999999.geojson").status_code == 404
    assert client.get("/campo/distritos/010204.geojson").status_code == 404  # no geometry
    assert client.get("/campo/distritos/08091.geojson").status_code == 404


def test_post_2007_district_borrows_its_parents_outline(geography: None) -> None:
    """Alto Trujillo (130112, 2021) is drawn with El Porvenir's (130102) outline."""
    child = json.loads(Client().get("/campo/distritos/130112.geojson").content)
    parent = json.loads(Client().get("/campo/distritos/130102.geojson").content)
    assert child["geometry"] == parent["geometry"]


def test_reference_data_and_service_worker_keep_the_outlines(officer_client: Client) -> None:
    reference = officer_client.get("/campo/referencia.json").json()
    assert sorted(d["outline"] for d in reference["districts"]) == [
        "/campo/distritos/080907.geojson",
        "/campo/distritos/080910.geojson",
    ]
    worker = officer_client.get("/campo/sw.js").content.decode()
    assert 'var OUTLINES = "/campo/distritos/";' in worker
    assert 'var NOT_CACHED = "/campo/sin-conexion/";' in worker
    pages_line = re.search(r"var PAGES = (\[.*\]);", worker)
    assert pages_line is not None
    assert set(json.loads(pages_line.group(1))) >= {
        "/campo/sin-conexion/",
        "/campo/sin-enviar/parcela/",
        "/campo/sin-enviar/visita/",
        "/campo/referencia.json",
    }


def test_field_maps_carry_the_outline_and_the_tile_setting(
    officer_client: Client, officer: Any, make_household: HouseholdMaker, settings: Any
) -> None:
    household = make_household(officer)
    _plot(household)
    html = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert 'data-outline-url="/campo/distritos/080910.geojson"' in html
    assert 'data-tile-url=""' in html
    assert "Límites distritales: INEI 2007 (MPL-2.0)" in html
    settings.FIELD_MAP_TILE_URL = "https://tiles.example.pe/{z}/{x}/{y}.png"
    plot_page = officer_client.get(f"/campo/hogares/{household.pk}/parcela/").content.decode()
    assert 'data-outline-url="/campo/distritos/080910.geojson"' in plot_page
    assert 'data-tile-url="https://tiles.example.pe/{z}/{x}/{y}.png"' in plot_page
    assert "data-walk-area" in plot_page


def test_admin_svg_draws_the_plots_over_their_district(geography: None) -> None:
    svg = str(boundary_svg([("Chacra", SQUARE)], title="Mapa", district="080910"))
    assert "data-district-outline" in svg and "data-locator" in svg
    assert "Las parcelas en el distrito 080910" in svg or "The plots in the district" in svg
    # The outline is drawn before (under) the plot.
    assert svg.index("data-district-outline") < svg.index("<title>Chacra</title>")
    plain = str(boundary_svg([("Chacra", SQUARE)], title="Mapa"))
    assert "data-district-outline" not in plain and "<title>Chacra</title>" in plain
    unknown = str(boundary_svg([("Chacra", SQUARE)], title="Mapa", district="010204"))
    assert "data-district-outline" not in unknown


def test_admin_household_page_draws_the_district_under_the_plots(
    officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    _plot(household)
    admin = UserFactory.create(username="raiz", is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(admin)
    html = client.get(f"/admin/farmers/household/{household.pk}/change/").content.decode()
    assert "data-district-outline" in html
    assert "Las parcelas en el distrito Pichari" in html


# --- point 7: dead ends closed ------------------------------------------------------------------


def test_pages_for_a_household_not_sent_yet_and_for_pages_not_cached(
    officer_client: Client,
) -> None:
    for url in ("/campo/sin-enviar/parcela/", "/campo/sin-enviar/visita/"):
        response = officer_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "data-pending-household" in html
        assert "Un hogar registrado en este celular, aún no enviado" in html
        assert 'name="household" value=""' in html
        assert officer_client.post(url, {}).status_code == 405  # JavaScript only
    missing = officer_client.get("/campo/sin-conexion/")
    assert missing.status_code == 200
    html = missing.content.decode()
    assert "Página no guardada en este celular" in html and "data-not-cached" in html
    assert Client().get("/campo/sin-conexion/").status_code == 302  # signed-in pages only


def test_register_preselects_the_officers_own_district(
    partner: Any, program: Any, make_household: HouseholdMaker
) -> None:
    """Kimbiri comes first by name; the officer assigned to Pichari gets Pichari, and after
    registering in Kimbiri, Kimbiri (where the officer works now)."""
    user = make_officer(partner, "tecnica-pichari")
    membership = Membership.objects.get(user=user)
    membership.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    other = make_officer(partner, "tecnico-nuevo")
    Membership.objects.get(user=other).districts.set(District.objects.filter(ubigeo="080910"))
    client = Client(HTTP_ACCEPT_LANGUAGE="es")

    def selected(person: Any) -> str:
        client.force_login(person)
        html = client.get("/campo/registrar/").content.decode()
        found = re.search(r'<option value="(\d{6})" selected>', html)
        return found.group(1) if found else ""

    assert selected(other) == "080910"
    make_household(user, district="080907")
    assert selected(user) == "080907"
    make_household(user, district="080910", dni="55667788", given="Ana")
    assert selected(user) == "080910"


def test_apply_for_a_title_is_offered_only_where_it_can_succeed(
    officer_client: Client, officer: Any, make_household: HouseholdMaker, geography: None
) -> None:
    from registry.choices import OrganizationKind
    from tests.factories import OrganizationFactory

    household = make_household(officer)  # pending review
    _plot(household)
    authority = OrganizationFactory.create(
        code="dra-cusco", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
    )
    authority.districts.set(District.objects.filter(ubigeo="080910"))
    page = f"/campo/hogares/{household.pk}/"
    assert "Solicitar título" not in officer_client.get(page).content.decode()
    apply = officer_client.get(f"{page}titulo/").content.decode()
    assert "Solo los hogares revisados (activos) pueden solicitar un título." in apply
    assert "data-blockers" in apply and 'data-outbox="title"' not in apply
    farmers_services.household_transition(
        actor=Actor(user=UserFactory.create(), unrestricted=True), household=household, to="active"
    )
    assert "Solicitar título" in officer_client.get(page).content.decode()
    authority.districts.set(District.objects.filter(ubigeo="080907"))  # no longer covers it
    assert "Solicitar título" not in officer_client.get(page).content.decode()
    apply = officer_client.get(f"{page}titulo/").content.decode()
    assert "Ninguna entidad de titulación atiende este distrito." in apply


def test_an_action_is_hidden_where_its_check_says_it_cannot_succeed(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    pages.register_household_action(
        "never", "Nunca visible", "field:visit", available=lambda actor, hh: False
    )
    pages.register_household_action(
        "always", "Siempre visible", "field:visit", available=lambda actor, hh: True
    )
    try:
        html = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    finally:
        pages.unregister("never")
        pages.unregister("always")
    assert "Nunca visible" not in html and "Siempre visible" in html


def test_numbers_typed_and_shown_with_a_decimal_comma(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    plot = _plot(household)
    response = officer_client.post(
        f"/campo/hogares/{household.pk}/cultivo/",
        {
            "plot": str(plot.pk),
            "crop": "cacao",
            "variety": "ccn51",
            "area_ha": " 0,5 ",
            "plants": "500",
            "planting_date": "2026-10-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CropInstallation.objects.get(plot=plot).area_ha == Decimal("0.5")
    visit = officer_client.post(
        f"/campo/hogares/{household.pk}/visita/",
        {
            "visited_on": "2026-11-20",
            "method": "field_visit",
            "coca_ha": "0",
            "licit_crops.0.crop": "cacao",
            "licit_crops.0.ha": "0,75",
            "plots": str(plot.pk),
        },
    )
    assert visit.status_code == 302, visit.content.decode()[:2000]
    html = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert "Cacao 0,75 ha" in html
    features = re.search(r'<script id="plot-features" type="application/json">(.*?)</script>', html)
    assert features is not None
    area = json.loads(features.group(1))["features"][0]["properties"]["area_ha"]
    assert re.fullmatch(r"\d+,\d\d", area), area  # "1,20", never "1.2000"
    assert "0,50 ha" in html  # the installation
