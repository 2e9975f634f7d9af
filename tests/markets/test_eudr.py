"""Issue 16, point 3: ``GET contracts/{id}/eudr/``, the EUDR geolocation of the plots that supply
a contract (GeoJSON, RFC 7946): a Point (≥ 6 decimals) under 4 ha, the closed counter-clockwise
Polygon from 4 ha up; consent to buyer sharing; a buyer's own contracts only; reads logged."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from shapely.geometry import LinearRing, Point, shape

from farmers import services as farmers_services
from farmers.models import Consent, Household, Plot
from markets import eudr
from markets.models import Contract
from registry.actors import Actor
from registry.models import AccessLog, Organization

from .conftest import ContractMaker, Market, make_household

pytestmark = pytest.mark.django_db

ANYONE = Actor(unrestricted=True)
LON, LAT = -73.83, -12.52
DEG_PER_M = 1 / 111_320


def ring(lon: float, lat: float, side_m: float, clockwise: bool = False) -> list[list[float]]:
    d = side_m * DEG_PER_M
    corners = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d]]
    if clockwise:
        corners.reverse()
    return [*corners, corners[0]]


def give_plot(
    household: Household,
    geometry: dict[str, Any],
    *,
    crops: list[str] | None = None,
    area_ha: str | None = None,
) -> Plot:
    plot, _created = farmers_services.plot_create(
        actor=ANYONE,
        household=household.pk,
        name="Chacra",
        tenure="possession",
        geometry=geometry,
        crops=["cacao"] if crops is None else crops,
        channel="test",
    )
    if area_ha is not None:
        Plot.objects.filter(pk=plot.pk).update(area_ha=Decimal(area_ha))
        plot.refresh_from_db()
    return plot


def url(contract: Contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/eudr/"


def features(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return list(body["features"])


def by_plot(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["plot_id"]: f for f in found}


def test_points_and_polygons_with_the_eudr_properties(
    make_contract: ContractMaker, coop_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    small = give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    # A clockwise boundary with a clockwise hole: written counter-clockwise, hole clockwise.
    big = give_plot(
        market.household,
        {
            "type": "Polygon",
            "coordinates": [
                ring(LON + 0.01, LAT, 400, clockwise=True),
                ring(LON + 0.01 + 100 * DEG_PER_M, LAT + 100 * DEG_PER_M, 50, clockwise=True),
            ],
        },
    )
    coffee_only = give_plot(
        market.household,
        {"type": "Polygon", "coordinates": [ring(LON, LAT + 0.01, 100)]},
        crops=["coffee"],
    )
    retired = give_plot(
        market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT + 0.02, 100)]}
    )
    Plot.objects.filter(pk=retired.pk).update(is_active=False)
    found = by_plot(features(coop_client.get(url(contract))))
    assert set(found) == {str(small.pk), str(big.pk)}  # not another crop's, not a retired one
    assert str(coffee_only.pk) not in found
    point = found[str(small.pk)]
    assert point["type"] == "Feature"
    assert point["properties"] == {
        "ProducerName": "Juana Quispe Huamán",
        "ProducerCountry": "PE",
        "ProductionPlace": market.household.district.name,
        "Area": float(small.area_ha),
        "plot_id": str(small.pk),
        "crop": "cacao",
        "planting_date": None,
        "deforestation_cutoff": "needs_check",  # registered today, no planting date yet
    }
    assert point["geometry"]["type"] == "Point"
    centroid = shape(small.geometry).centroid
    lon, lat = point["geometry"]["coordinates"]
    # At least 6 decimals: within half a millionth of a degree of the true centroid.
    assert abs(lon - centroid.x) < 5e-7 and abs(lat - centroid.y) < 5e-7
    assert lon != round(lon, 5) or lat != round(lat, 5)
    polygon = found[str(big.pk)]["geometry"]
    assert polygon["type"] == "Polygon"
    exterior, hole = polygon["coordinates"]
    for coords in (exterior, hole):
        assert coords[0] == coords[-1]  # closed rings
        assert len(coords) >= 4
    assert LinearRing(exterior).is_ccw  # RFC 7946: exterior counter-clockwise
    assert not LinearRing(hole).is_ccw  # holes clockwise
    assert shape(polygon).area == pytest.approx(shape(big.geometry).area, rel=1e-6)


@pytest.mark.parametrize(
    ("area", "kind"), [("3.9999", "Point"), ("3.99", "Point"), ("4.00", "Polygon")]
)
def test_the_four_hectare_threshold(
    make_contract: ContractMaker, coop_client: APIClient, market: Market, area: str, kind: str
) -> None:
    contract = make_contract()
    plot = give_plot(
        market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 200)]}, area_ha=area
    )
    (feature,) = features(coop_client.get(url(contract)))
    assert feature["geometry"]["type"] == kind
    assert feature["properties"]["Area"] == float(area)
    assert feature["properties"]["plot_id"] == str(plot.pk)


def test_a_concave_plot_gets_a_point_inside_it() -> None:
    # A "U": its centroid falls in the notch, outside the plot.
    d = 100 * DEG_PER_M
    u = [
        [LON, LAT],
        [LON + 3 * d, LAT],
        [LON + 3 * d, LAT + 3 * d],
        [LON + 2 * d, LAT + 3 * d],
        [LON + 2 * d, LAT + d],
        [LON + d, LAT + d],
        [LON + d, LAT + 3 * d],
        [LON, LAT + 3 * d],
        [LON, LAT],
    ]
    geometry = {"type": "Polygon", "coordinates": [u]}
    assert not shape(geometry).contains(shape(geometry).centroid)
    point = eudr.plot_geometry(geometry, Decimal("1"))
    assert shape(geometry).contains(Point(point["coordinates"]))


def test_a_multipolygon_from_four_hectares() -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [[ring(LON, LAT, 150, clockwise=True)], [ring(LON + 0.01, LAT, 150)]],
    }
    result = eudr.plot_geometry(geometry, Decimal("4.5"))
    assert result["type"] == "MultiPolygon"
    assert all(LinearRing(p[0]).is_ccw and p[0][0] == p[0][-1] for p in result["coordinates"])


@pytest.mark.parametrize(
    ("planted", "registered", "expected"),
    [
        (None, date(2020, 12, 31), "before_cutoff"),
        (None, date(2021, 1, 1), "needs_check"),
        (date(2019, 5, 1), date(2026, 1, 1), "before_cutoff"),  # planted before, registered later
        (date(2021, 1, 1), date(2020, 1, 1), "needs_check"),  # the planting date decides
    ],
)
def test_deforestation_cutoff(planted: date | None, registered: date, expected: str) -> None:
    assert eudr.cutoff_status(planted, registered) == expected


def test_registration_and_planting_dates_reach_the_file(
    make_contract: ContractMaker, market: Market
) -> None:
    contract = make_contract()
    old = give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    new = give_plot(
        market.household, {"type": "Polygon", "coordinates": [ring(LON + 0.01, LAT, 100)]}
    )
    Plot.objects.filter(pk=old.pk).update(
        created_at=timezone.make_aware(datetime(2020, 12, 31, 12))
    )
    built = eudr.eudr_collection(contract, planting_dates={new.pk: date(2018, 3, 1)})
    props = by_plot(built.data["features"])
    assert props[str(old.pk)]["properties"]["deforestation_cutoff"] == "before_cutoff"
    assert props[str(new.pk)]["properties"]["planting_date"] == "2018-03-01"
    assert props[str(new.pk)]["properties"]["deforestation_cutoff"] == "before_cutoff"


def test_only_households_that_consented_to_buyer_sharing(
    make_contract: ContractMaker, coop_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    assert len(features(coop_client.get(url(contract)))) == 1
    assert coop_client.get(url(contract)).json()["excluded"]["plots"] == 0
    # A later consent without buyer sharing (partner sharing is not enough) withdraws it: the
    # plots leave the file, which says how many were left out and why.
    Consent.objects.create(
        household=market.household,
        signed_on=date(2026, 6, 1),
        purposes=["registry", "partner_sharing"],
    )
    body = coop_client.get(url(contract)).json()
    assert body["features"] == []
    assert body["excluded"] == {
        "plots": 1,
        "households": 1,
        "reason": "no_buyer_sharing_consent",
    }
    # And a later one with it brings them back.
    Consent.objects.create(
        household=market.household,
        signed_on=date(2026, 7, 1),
        purposes=["registry", "buyer_sharing"],
    )
    assert len(features(coop_client.get(url(contract)))) == 1


def test_suppliers_narrow_to_their_delivering_plots(
    make_contract: ContractMaker, market: Market
) -> None:
    """A producer organisation's contract will pass its members and the plots they delivered
    from; a member without consent is left out."""
    contract = make_contract()
    first = give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON + 0.01, LAT, 100)]})
    member = make_household(market.program, given="Rosa", surnames="Ccori Mamani")
    give_plot(member, {"type": "Polygon", "coordinates": [ring(LON, LAT + 0.01, 100)]})
    Consent.objects.filter(household=member).update(purposes=["registry"])
    built = eudr.eudr_collection(
        contract,
        suppliers=[
            eudr.Supplier(market.household.pk, frozenset({first.pk})),
            eudr.Supplier(member.pk),
        ],
    )
    assert [f["properties"]["plot_id"] for f in built.data["features"]] == [str(first.pk)]
    assert built.household_ids == [market.household.pk]


def test_a_buyer_reads_only_its_own_contracts(
    make_contract: ContractMaker, exporter_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    other = exporter_client.get(url(contract))
    unknown = exporter_client.get(f"/api/v1/contracts/{uuid.uuid4()}/eudr/")
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()
    assert not AccessLog.objects.filter(resource="eudr").exists()


def test_the_read_is_logged_and_staff_read_in_their_area(
    make_contract: ContractMaker, staff_client: APIClient, coop_client: APIClient, market: Market
) -> None:
    contract = make_contract()
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    assert len(features(coop_client.get(url(contract)))) == 1
    log = AccessLog.objects.get(resource="eudr")
    assert log.object_ids == [str(market.household.pk)]
    assert log.fields == ["ProducerName", "geometry"]
    assert log.path == url(contract)
    assert len(features(staff_client.get(url(contract)))) == 1
    assert AccessLog.objects.filter(resource="eudr").count() == 2


def test_queries_do_not_grow_with_the_plots(make_contract: ContractMaker, market: Market) -> None:
    contract = make_contract()
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    with CaptureQueriesContext(connection) as one:
        assert len(eudr.eudr_collection(contract).data["features"]) == 1
    for n in range(1, 15):
        give_plot(
            market.household,
            {"type": "Polygon", "coordinates": [ring(LON + n * 0.01, LAT, 100 + 20 * n)]},
        )
    with CaptureQueriesContext(connection) as many:
        assert len(eudr.eudr_collection(contract).data["features"]) == 15
    assert len(one.captured_queries) == len(many.captured_queries) == 3


def test_the_admin_downloads_the_same_file(
    make_contract: ContractMaker, coop_client: APIClient, market: Market, staff_user: Any
) -> None:
    contract = make_contract()
    give_plot(market.household, {"type": "Polygon", "coordinates": [ring(LON, LAT, 100)]})
    from registry.choices import Role
    from registry.services import membership_assign, role_groups_sync

    role_groups_sync()
    membership_assign(user=staff_user, organization=market.agency, role=Role.PROGRAM_STAFF)
    staff_user.is_staff = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    page = client.get(f"/admin/markets/contract/{contract.pk}/change/")
    assert page.status_code == 200
    link = f"/admin/markets/contract/{contract.pk}/eudr/"
    assert link in page.content.decode()
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/geo+json"
    assert download["Content-Disposition"] == f'attachment; filename="eudr-{contract.pk}.geojson"'
    assert download.json() == coop_client.get(url(contract)).json()
    assert client.get(f"/admin/markets/contract/{uuid.uuid4()}/eudr/").status_code == 404


def test_the_benchmark_command(market: Market, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("benchmark_eudr", "--plots", "30")
    out = capsys.readouterr().out
    assert "30 plots" in out and " s" in out
    assert not Plot.objects.filter(name__startswith="bench-eudr").exists()  # rolled back


def test_the_members_benchmark_builds_a_full_file(market: Market, capsys: Any) -> None:
    """The producer-organisation benchmark times a file with every delivering member in it (its
    members consent to buyer sharing), and rolls back."""
    from django.core.management import call_command

    call_command("benchmark_eudr", "--members", "2", "--repeat", "1")
    out = capsys.readouterr().out
    assert "with 2 delivering members (2 shown; " in out
    assert not Organization.objects.filter(code="bench-eudr-coop").exists()  # rolled back
