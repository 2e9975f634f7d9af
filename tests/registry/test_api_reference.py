"""Reference endpoints: districts (filters, VRAEM), organizations, programmes; ETags; queries."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registry.geography import VRAEM_DISTRICTS, read_ubigeo_rows
from tests.factories import OrganizationFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(key_client: Callable[..., APIClient]) -> APIClient:
    return key_client()


def collect(client: APIClient, url: str) -> list[dict[str, Any]]:
    """Follow ``next`` links to the end."""
    results: list[dict[str, Any]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        results.extend(body["results"])
        url = body["next"]
    return results


def test_vraem_filter_answers_the_vraem_districts(client: APIClient) -> None:
    rows = collect(client, "/api/v1/districts/?vraem=true&page_size=10")
    assert {row["ubigeo"] for row in rows} == VRAEM_DISTRICTS
    assert all(row["is_vraem"] for row in rows)
    assert [row["ubigeo"] for row in rows] == sorted(row["ubigeo"] for row in rows)


def test_district_shape(client: APIClient) -> None:
    response = client.get("/api/v1/districts/080910/")
    assert response.status_code == 200
    assert response.json() == {
        "ubigeo": "080910",
        "name": "Pichari",
        "province": {"code": "0809", "name": "La Convención"},
        "department": {"code": "08", "name": "Cusco"},
        "is_vraem": True,
        "valid_from": None,
        "valid_to": None,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("department=05&vraem=true", {u for u in VRAEM_DISTRICTS if u.startswith("05")}),
        ("province=0809&vraem=true", {u for u in VRAEM_DISTRICTS if u.startswith("0809")}),
        ("q=pichari", {"080910"}),
        ("q=080907", {"080907"}),
        (
            "vraem=false&province=0809",
            {"080901", "080903", "080904", "080905", "080906", "080908", "080909", "080911"},
        ),
    ],
)
def test_district_filters(client: APIClient, query: str, expected: set[str]) -> None:
    rows = collect(client, f"/api/v1/districts/?{query}&page_size=100")
    assert {row["ubigeo"] for row in rows} == expected


def test_department_filter_counts(client: APIClient) -> None:
    rows = collect(client, "/api/v1/districts/?department=08&page_size=100")
    expected = [r["ubigeo"] for r in read_ubigeo_rows() if r["ubigeo"].startswith("08")]
    assert [row["ubigeo"] for row in rows] == sorted(expected)  # Cusco: 116 districts in 2025
    assert len(rows) == 116
    assert {row["department"]["code"] for row in rows} == {"08"}


def test_cursor_pages_do_not_overlap(client: APIClient) -> None:
    first = client.get("/api/v1/districts/?page_size=3").json()
    second = client.get(first["next"]).json()
    assert [r["ubigeo"] for r in first["results"]] == ["010101", "010102", "010103"]
    assert [r["ubigeo"] for r in second["results"]] == ["010104", "010105", "010106"]
    assert second["previous"]
    back = client.get(second["previous"]).json()
    assert [r["ubigeo"] for r in back["results"]] == ["010101", "010102", "010103"]


def test_default_page_size_is_50(client: APIClient) -> None:
    assert len(client.get("/api/v1/districts/").json()["results"]) == 50


def test_district_list_query_count_is_the_same_for_1_and_100_rows(client: APIClient) -> None:
    client.get("/api/v1/districts/?page_size=1")  # warm-up: records the key's last use
    counts = {}
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/districts/?page_size={size}")
        assert len(response.json()["results"]) == size
        counts[size] = len(ctx.captured_queries)
    assert counts[1] == counts[100]
    assert counts[1] <= 2  # the key, the page


def test_organizations_and_programs(client: APIClient) -> None:
    agency = OrganizationFactory.create(code="devida", kind="program_agency", ruc="")
    funder = OrganizationFactory.create(code="fondo", kind="funder", ruc="")
    ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency, funder=funder)
    ProgramFactory.create(code="otro", agency=agency)

    orgs = collect(client, "/api/v1/organizations/?kind=funder")
    assert [o["code"] for o in orgs] == ["fondo"]
    programs = collect(client, "/api/v1/programs/?funder=fondo")
    assert [(p["code"], p["agency"], p["funder"]) for p in programs] == [
        ("pirdais", "devida", "fondo")
    ]
    assert {p["code"] for p in collect(client, "/api/v1/programs/?agency=devida")} == {
        "pirdais",
        "otro",
    }
    detail = client.get("/api/v1/programs/pirdais/").json()
    assert detail["budget_pen"] == "0.00"
    assert detail["coca_free_max_age_months"] == 18


def test_inactive_organizations_are_hidden(client: APIClient) -> None:
    OrganizationFactory.create(code="cerrada", is_active=False)
    assert client.get("/api/v1/organizations/cerrada/").status_code == 404
    assert "cerrada" not in {o["code"] for o in collect(client, "/api/v1/organizations/")}


@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/programs/"])
def test_reference_list_query_counts_do_not_grow(client: APIClient, url: str) -> None:
    agency = OrganizationFactory.create(code="agencia", kind="program_agency")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(f"{url}?page_size=100")
    for n in range(30):
        ProgramFactory.create(code=f"p{n}", agency=agency, funder=agency)
        OrganizationFactory.create(code=f"o{n}")
    # New programmes widen their agency's area: the key is resolved again once (issue 19).
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{url}?page_size=100")
    assert len(response.json()["results"]) >= 30
    assert len(one.captured_queries) == len(many.captured_queries)


def test_etag_and_if_none_match(client: APIClient) -> None:
    response = client.get("/api/v1/districts/080910/")
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/api/v1/districts/080910/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    other = client.get("/api/v1/districts/080907/")
    assert other["ETag"] != etag
