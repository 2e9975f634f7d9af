"""Plots through the API: geodesic area, overlaps between households, geometry validation,
idempotency, optimistic locking, deactivation, file uploads, scope and query budgets."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pyproj import Geod

from farmers.models import Plot, PlotOverlap
from registry.choices import Scope
from registry.models import ChangeRecord, Organization
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/plots/"
UPLOAD_URL = f"{URL}upload/"
GEOD = Geod(ellps="WGS84")
PICHARI = (-73.98, -12.52)  # lon, lat: Pichari, La Convención (Cusco), VRAEM
MANAUS = (-60.02, -3.10)  # Amazonas, Brazil

# A chacra walked with a GPS east of Pichari: six corners, about one hectare.
CHACRA_ALTA = [
    [-73.9799632, -12.5199729],
    [-73.9790431, -12.52],
    [-73.9789603, -12.5194848],
    [-73.9791167, -12.5190147],
    [-73.9796964, -12.5190509],
    [-73.98, -12.5195119],
    [-73.9799632, -12.5199729],
]

Ring = list[list[float]]


def at(east_m: float, north_m: float, origin: tuple[float, float] = PICHARI) -> list[float]:
    """The point ``east_m`` metres east and ``north_m`` metres north of ``origin``."""
    lon, lat, _az = GEOD.fwd(origin[0], origin[1], 90, east_m)
    lon, lat, _az = GEOD.fwd(lon, lat, 0, north_m)
    return [round(lon, 7), round(lat, 7)]


def square(east_m: float = 0, north_m: float = 0, size_m: float = 100, **kw: Any) -> Ring:
    """A closed counter-clockwise square ring with its south-west corner at the offset."""
    e, n = east_m, north_m
    corners = [at(e, n, **kw), at(e + size_m, n, **kw), at(e + size_m, n + size_m, **kw)]
    corners.append(at(e, n + size_m, **kw))
    return [*corners, corners[0]]


def polygon(ring: Ring) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def geodesic_ha(ring: Ring) -> Decimal:
    area, _perimeter = GEOD.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])
    return Decimal(abs(area) / 10_000)


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


JUANA = {"given_names": "Juana", "surnames": "Quispe Huamán", "sex": "f", "dni": "10117410"}
WILBER = {"given_names": "Wilber", "surnames": "Condori Apaza", "sex": "m", "dni": "42345678"}
ROSA = {"given_names": "Rosa", "surnames": "Ccori Yupanqui", "sex": "f", "dni": "45678912"}


def register(client: Any, person: dict[str, str], district: str = "080910") -> dict[str, Any]:
    """Register a one-member household headed by ``person`` and return its body."""
    member = {
        "given_names": person["given_names"],
        "surnames": person["surnames"],
        "document_type": "dni",
        "document_number": person["dni"],
        "sex": person["sex"],
        "birth_date": "1980-05-01",
        "relationship": "head",
    }
    response = client.post(
        "/api/v1/households/",
        household_payload(district=district, members=[member]),
        format="json",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def plot_payload(household: str, ring: Ring, **extra: Any) -> dict[str, Any]:
    return {
        "household": household,
        "name": "Chacra Alta",
        "tenure": "possession",
        "geometry": polygon(ring),
        **extra,
    }


def create(client: Any, household: str, ring: Ring, **extra: Any) -> Any:
    return client.post(URL, plot_payload(household, ring, **extra), format="json")


# --- create, area and overlaps -----------------------------------------------------------------


def test_create_plot_computes_geodesic_area(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    response = create(client, household["id"], CHACRA_ALTA, crops=["cacao", "banana"])
    assert response.status_code == 201, response.content
    body = response.json()
    area = Decimal(body["area_ha"])
    assert abs(area - geodesic_ha(CHACRA_ALTA)) <= Decimal("0.0001")
    assert Decimal("0.98") < area < Decimal("1.05")
    assert body["overlaps"] == []
    assert (body["household"], body["name"], body["tenure"]) == (
        household["id"],
        "Chacra Alta",
        "possession",
    )
    assert body["geometry"]["type"] == "Polygon"
    assert body["crops"] == ["banana", "cacao"]
    assert response["ETag"] == client.get(f"{URL}{body['id']}/")["ETag"]
    record = ChangeRecord.objects.get(object_id=body["id"], action="create")
    assert record.created_by_key is not None


def test_overlapping_plots_of_two_households_list_each_other(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    wilber = register(client, WILBER)
    first = create(client, juana["id"], square(0, 0)).json()
    response = create(client, wilber["id"], square(50, 0))  # half of it lies on Juana's plot
    assert response.status_code == 201, response.content
    second = response.json()
    [overlap] = second["overlaps"]
    assert overlap["plot"] == first["id"]
    assert overlap["household_code"] == juana["code"]
    assert Decimal("0.49") < Decimal(overlap["area_ha"]) < Decimal("0.51")
    again = client.get(f"{URL}{first['id']}/").json()
    assert again["overlaps"] == [
        {"plot": second["id"], "household_code": wilber["code"], "area_ha": overlap["area_ha"]}
    ]


def test_overlap_names_the_household_only_to_those_who_may_see_it(
    client_for: ClientMaker, other_partner: Organization
) -> None:
    mine = client_for()
    theirs = client_for(org=other_partner)
    juana = register(mine, JUANA)
    rosa = register(theirs, ROSA, district="050407")
    my_plot = create(mine, juana["id"], square(0, 0)).json()
    their_plot = create(theirs, rosa["id"], square(40, 20)).json()
    [seen_by_them] = their_plot["overlaps"]
    assert seen_by_them["plot"] == my_plot["id"]
    assert seen_by_them["household_code"] is None
    assert Decimal(seen_by_them["area_ha"]) > 0
    [seen_by_me] = mine.get(f"{URL}{my_plot['id']}/").json()["overlaps"]
    assert seen_by_me["plot"] == their_plot["id"]
    assert seen_by_me["household_code"] is None
    assert seen_by_me["area_ha"] == seen_by_them["area_ha"]


def test_plots_that_only_touch_do_not_overlap(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    wilber = register(client, WILBER)
    create(client, juana["id"], square(0, 0))
    side = create(client, wilber["id"], square(100, 0))  # shares the east edge
    corner = create(client, wilber["id"], square(100, 100))  # shares the north-east corner
    assert (side.status_code, corner.status_code) == (201, 201)
    assert side.json()["overlaps"] == [] == corner.json()["overlaps"]
    assert not PlotOverlap.objects.exists()


def test_plots_of_the_same_household_are_not_overlaps(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    create(client, juana["id"], square(0, 0))
    response = create(client, juana["id"], square(50, 0), name="Chacra Baja")
    assert response.status_code == 201
    assert response.json()["overlaps"] == []


def test_plots_only_for_live_households(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    reviewer = client_for(scopes=[Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_REVIEW], reviewer=True)
    rejected = reviewer.post(
        f"/api/v1/households/{household['id']}/transition/",
        {"to": "rejected", "reason": "La familia no vive en la comunidad."},
    )
    assert rejected.status_code == 200, rejected.content
    response = create(client, household["id"], CHACRA_ALTA)
    assert response.status_code == 400
    assert errors(response) == {("household", "inactive_household")}
    assert not Plot.objects.exists()


# --- validation ------------------------------------------------------------------------------

BOWTIE = [at(0, 0), at(100, 100), at(100, 0), at(0, 100), at(0, 0)]
OPEN_RING = square()[:-1]


@pytest.mark.parametrize(
    ("geometry", "code"),
    [
        (polygon(BOWTIE), "self_intersection"),
        (polygon(OPEN_RING), "ring_not_closed"),
        ({"type": "Point", "coordinates": list(PICHARI)}, "invalid_type"),
        (polygon(square(origin=MANAUS)), "outside_peru"),
        ({"type": "Polygon", "coordinates": [[["-73.98", "-12.52"]]]}, "invalid_coordinates"),
    ],
    ids=["bowtie", "open-ring", "point", "brazil", "strings"],
)
def test_invalid_geometry_is_400_on_geometry(
    client_for: ClientMaker, geometry: dict[str, Any], code: str
) -> None:
    client = client_for()
    household = register(client, JUANA)
    payload = plot_payload(household["id"], square())
    payload["geometry"] = geometry
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert ("geometry", code) in errors(response)
    assert not Plot.objects.exists()


# --- idempotency, updates, deactivation ------------------------------------------------------


def test_create_with_client_id_is_idempotent(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    plot_id = str(uuid.uuid4())
    first = create(client, household["id"], CHACRA_ALTA, id=plot_id)
    again = create(client, household["id"], CHACRA_ALTA, id=plot_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == plot_id
    assert first.json()["area_ha"] == again.json()["area_ha"]
    assert Plot.objects.count() == 1
    different = create(client, household["id"], square(), id=plot_id)
    assert different.status_code == 409
    assert errors(different) == {("id", "idempotency_conflict")}
    assert Plot.objects.get().area_ha == Decimal(first.json()["area_ha"])


def test_patch_geometry_recomputes_area_and_overlaps(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    wilber = register(client, WILBER)
    mine = create(client, juana["id"], square(0, 0)).json()
    neighbour = create(client, wilber["id"], square(300, 0)).json()
    assert mine["overlaps"] == [] == neighbour["overlaps"]
    url = f"{URL}{mine['id']}/"
    etag = client.get(url)["ETag"]

    # Redrawn 150 m square whose south-west quarter-hectare lies on the neighbour's plot.
    moved = client.patch(
        url, {"geometry": polygon(square(350, 50, size_m=150))}, HTTP_IF_MATCH=etag
    )
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["version"] == 2
    assert moved["ETag"] not in ("", etag)
    assert Decimal("2.24") < Decimal(body["area_ha"]) < Decimal("2.26")
    [overlap] = body["overlaps"]
    assert overlap["plot"] == neighbour["id"]
    assert Decimal("0.245") < Decimal(overlap["area_ha"]) < Decimal("0.255")
    assert [o["plot"] for o in client.get(f"{URL}{neighbour['id']}/").json()["overlaps"]] == [
        mine["id"]
    ]
    record = ChangeRecord.objects.get(object_id=mine["id"], action="update")
    assert record.changes["geometry"] == "changed"

    stale = client.patch(url, {"geometry": polygon(square(0, 0))}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    stored = Plot.objects.get(pk=mine["id"])
    assert (stored.version, str(stored.area_ha)) == (2, body["area_ha"])
    assert PlotOverlap.objects.filter(plot=stored).count() == 1


def test_patch_with_invalid_geometry_changes_nothing(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    plot = create(client, household["id"], CHACRA_ALTA).json()
    response = client.patch(f"{URL}{plot['id']}/", {"geometry": polygon(BOWTIE)})
    assert response.status_code == 400
    assert errors(response) == {("geometry", "self_intersection")}
    stored = Plot.objects.get(pk=plot["id"])
    assert (stored.version, str(stored.area_ha)) == (1, plot["area_ha"])


def test_deactivating_a_plot_removes_its_overlaps(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    wilber = register(client, WILBER)
    first = create(client, juana["id"], square(0, 0)).json()
    second = create(client, wilber["id"], square(50, 0)).json()
    assert second["overlaps"]
    response = client.patch(f"{URL}{second['id']}/", {"is_active": False})
    assert response.status_code == 200, response.content
    assert (response.json()["is_active"], response.json()["overlaps"]) == (False, [])
    assert client.get(f"{URL}{first['id']}/").json()["overlaps"] == []
    assert not PlotOverlap.objects.exists()
    assert ChangeRecord.objects.filter(object_id=second["id"], action="deactivate").exists()
    # A new plot on the same ground does not overlap the deactivated one.
    third = create(client, juana["id"], square(60, 0), name="Chacra Nueva")
    assert third.json()["overlaps"] == []


# --- uploads ---------------------------------------------------------------------------------


def _kml(ring: Ring) -> bytes:
    coordinates = " ".join(f"{lon},{lat},1210" for lon, lat in ring)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Parcelas Natividad</name>
    <Placemark>
      <name>Chacra Baja</name>
      <Polygon><outerBoundaryIs><LinearRing>
        <coordinates>{coordinates}</coordinates>
      </LinearRing></outerBoundaryIs></Polygon>
    </Placemark>
  </Document>
</kml>""".encode()


def _gpx(ring: Ring) -> bytes:
    # A walk around the plot that does not return exactly to its start: the ring is closed.
    points = "\n".join(
        f'      <trkpt lat="{lat}" lon="{lon}"><ele>1205</ele></trkpt>' for lon, lat in ring[:-1]
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="GPSMAP 64s" xmlns="http://www.topografix.com/GPX/1/1">
  <trk>
    <name>Recorrido chacra</name>
    <trkseg>
{points}
    </trkseg>
  </trk>
</gpx>""".encode()


def _geojson(ring: Ring) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"nombre": "Puesto"}, "geometry": None},
                {
                    "type": "Feature",
                    "properties": {"nombre": "Chacra Baja"},
                    "geometry": polygon(ring),
                },
            ],
        }
    ).encode()


@pytest.mark.parametrize(
    ("filename", "build", "content_type"),
    [
        ("chacra-baja.kml", _kml, "application/vnd.google-earth.kml+xml"),
        ("recorrido.gpx", _gpx, "application/gpx+xml"),
        ("chacra.geojson", _geojson, "application/geo+json"),
    ],
)
def test_upload_boundary_file(
    client_for: ClientMaker, filename: str, build: Any, content_type: str
) -> None:
    client = client_for()
    household = register(client, JUANA)
    upload = SimpleUploadedFile(filename, build(CHACRA_ALTA), content_type=content_type)
    response = client.post(
        UPLOAD_URL,
        {
            "household": household["id"],
            "name": "Chacra Baja",
            "tenure": "owned_titled",
            "file": upload,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert abs(Decimal(body["area_ha"]) - geodesic_ha(CHACRA_ALTA)) <= Decimal("0.0001")
    assert (body["name"], body["tenure"], body["household"]) == (
        "Chacra Baja",
        "owned_titled",
        household["id"],
    )
    assert Plot.objects.get(pk=body["id"]).geometry["type"] == "Polygon"


def test_upload_of_an_unsupported_file_is_400_on_file(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    upload = SimpleUploadedFile("chacra.kmz", b"PK\x03\x04 zipped kml", "application/zip")
    response = client.post(
        UPLOAD_URL,
        {"household": household["id"], "name": "Chacra", "tenure": "possession", "file": upload},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert errors(response) == {("file", "unsupported_format")}
    assert not Plot.objects.exists()


def test_upload_of_an_invalid_shape_reports_it(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, JUANA)
    upload = SimpleUploadedFile("cruzada.kml", _kml(BOWTIE), "application/vnd.google-earth.kml+xml")
    response = client.post(
        UPLOAD_URL,
        {"household": household["id"], "name": "Chacra", "tenure": "possession", "file": upload},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "self_intersection" in {code for _attr, code in errors(response)}
    assert not Plot.objects.exists()


# --- scope ------------------------------------------------------------------------------------


def test_other_partners_plots_are_404_and_never_listed(
    client_for: ClientMaker, other_partner: Organization
) -> None:
    mine = client_for()
    household = register(mine, JUANA)
    plot = create(mine, household["id"], CHACRA_ALTA).json()
    outsider = client_for(org=other_partner)
    assert outsider.get(f"{URL}{plot['id']}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    assert outsider.get(f"{URL}?household={household['id']}").json()["results"] == []
    patched = outsider.patch(f"{URL}{plot['id']}/", {"name": "Robada"})
    assert patched.status_code == 404
    # Nor can they add a plot to a household they cannot see.
    assert create(outsider, household["id"], square(500, 500)).status_code == 404
    assert Plot.objects.get(pk=plot["id"]).name == "Chacra Alta"
    assert [p["id"] for p in mine.get(URL).json()["results"]] == [plot["id"]]


def test_key_without_households_write_cannot_create_or_change(client_for: ClientMaker) -> None:
    writer = client_for()
    household = register(writer, JUANA)
    plot = create(writer, household["id"], CHACRA_ALTA).json()
    reader = client_for(scopes=[Scope.HOUSEHOLDS_READ])
    refused = create(reader, household["id"], square(300, 0))
    assert refused.status_code == 403
    assert errors(refused) == {(None, "missing_scope")}
    assert reader.patch(f"{URL}{plot['id']}/", {"name": "Otra"}).status_code == 403
    upload = SimpleUploadedFile("c.kml", _kml(CHACRA_ALTA), "application/vnd.google-earth.kml+xml")
    uploaded = reader.post(
        UPLOAD_URL,
        {"household": household["id"], "name": "C", "tenure": "possession", "file": upload},
        format="multipart",
    )
    assert uploaded.status_code == 403
    assert Plot.objects.count() == 1
    assert reader.get(f"{URL}{plot['id']}/").status_code == 200


# --- query budget ----------------------------------------------------------------------------


def test_list_query_budget_is_flat(client_for: ClientMaker) -> None:
    client = client_for()
    juana = register(client, JUANA)
    wilber = register(client, WILBER)
    assert create(client, juana["id"], square(0, 0)).status_code == 201
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{URL}?page_size=100").json()["results"]) == 1
    for index in range(1, 10):
        assert create(client, juana["id"], square(index * 150, 0)).status_code == 201
    for index in range(10):
        assert create(client, wilber["id"], square(index * 150 + 50, 0)).status_code == 201
    with CaptureQueriesContext(connection) as many:
        results = client.get(f"{URL}?page_size=100").json()["results"]
    assert len(results) == 20
    assert sum(len(p["overlaps"]) for p in results) == 20
    # The page, its overlaps and the INSERT logging the partner's read of exact locations; the
    # key, its organization and area come from the cache (issue 19).
    assert len(one.captured_queries) == len(many.captured_queries) == 3
