"""Search that finds people (issue 18, point 3): any words of any member's names and surnames,
in any order, accents and case ignored, the beginnings of words; ID number and household code."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.filters import search_households
from farmers.identity import SEARCH_WORDS_MAX_LENGTH, search_words
from farmers.models import Household

from .conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db

HEADS = {
    "elmer": ("Elmer", "Ayala Palomino", "41000001"),
    "rosa": ("Rosa Elvira", "Huamán Ñaupa", "41000002"),
    "elmo": ("Elmo", "Quispe Ayala", "41000003"),
}


@pytest.fixture
def people(client_for: ClientMaker) -> dict[str, Household]:
    client = client_for()
    made = {}
    for key, (given, surnames, dni) in HEADS.items():
        base = household_payload()["members"][0]
        head = {**base, "given_names": given, "surnames": surnames, "document_number": dni}
        response = client.post(
            "/api/v1/households/", household_payload(members=[head]), format="json"
        )
        assert response.status_code == 201, response.content
        made[key] = Household.objects.get(pk=response.json()["id"])
    return made


def _found(text: str) -> set[str]:
    return {h.head_name for h in search_households(Household.objects.all(), text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Elmer", {"Elmer Ayala Palomino"}),
        ("Elmer Ayala", {"Elmer Ayala Palomino"}),
        ("ayala elmer", {"Elmer Ayala Palomino"}),
        ("Palomino", {"Elmer Ayala Palomino"}),  # a second surname
        ("palom", {"Elmer Ayala Palomino"}),  # part of a word
        ("AYALA", {"Elmer Ayala Palomino", "Elmo Quispe Ayala"}),
        ("huaman", {"Rosa Elvira Huamán Ñaupa"}),  # accents ignored
        ("ÑAUPA rosa", {"Rosa Elvira Huamán Ñaupa"}),
        ("Elvira", {"Rosa Elvira Huamán Ñaupa"}),  # a second given name
        ("elm", {"Elmer Ayala Palomino", "Elmo Quispe Ayala"}),
        ("qu", {"Elmo Quispe Ayala"}),  # short: the beginning of a word
        ("a", {"Elmer Ayala Palomino", "Elmo Quispe Ayala"}),
        ("mer", set()),  # the middle of a word is not its beginning
        ("elm elmer", {"Elmer Ayala Palomino"}),
        ("Ayala Ayala", {"Elmer Ayala Palomino", "Elmo Quispe Ayala"}),
        ("Elmer Quispe", set()),  # every word must match
        ("zzz", set()),
        ("¿?", set()),
    ],
)
def test_search_by_any_words_of_the_name(
    people: dict[str, Household], text: str, expected: set[str]
) -> None:
    assert _found(text) == expected


def test_code_and_id_number_still_match_exactly(people: dict[str, Household]) -> None:
    elmer = people["elmer"]
    assert list(search_households(Household.objects.all(), elmer.code.lower())) == [elmer]
    assert list(search_households(Household.objects.all(), "41000001")) == [elmer]


def test_search_through_the_api_and_the_admin(
    people: dict[str, Household], client_for: ClientMaker, admin_client: Any
) -> None:
    client = client_for()
    ids = {h["id"] for h in client.get("/api/v1/households/?q=Palomino").json()["results"]}
    assert ids == {str(people["elmer"].pk)}
    page = admin_client.get("/admin/farmers/household/?q=elmer+ayala")
    assert page.status_code == 200
    assert people["elmer"].code in page.content.decode()
    assert people["elmo"].code not in page.content.decode()


@pytest.mark.postgres
def test_postgresql_uses_the_trigram_index(people: dict[str, Household]) -> None:
    # The index must match the query's expression. Table statistics vary with what other tests
    # left for autovacuum, so with few rows the planner may instead walk ``hh_created_idx`` for the
    # ordering; with sequential and plain index scans off, only a bitmap scan of an index on the
    # searched expression (the trigram GIN) is left.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        try:
            with CaptureQueriesContext(connection) as ctx:
                list(search_households(Household.objects.all(), "palomino"))
            cursor.execute("EXPLAIN " + ctx.captured_queries[-1]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("SET enable_seqscan = on")
            cursor.execute("SET enable_indexscan = on")
    assert "hh_names_trgm_idx" in plan


def _names(household: Household) -> str:
    household.refresh_from_db()
    return household.names_search


def test_any_members_names_find_the_household(client_for: ClientMaker, admin_client: Any) -> None:
    client = client_for()
    response = client.post("/api/v1/households/", household_payload(), format="json")
    assert response.status_code == 201, response.content
    household = Household.objects.get(pk=response.json()["id"])
    # The head Juana Quispe Huamán and her spouse Pedro Mamani Ccori.
    assert _names(household) == " ccori huaman juana mamani pedro quispe"
    assert {h.pk for h in search_households(Household.objects.all(), "Pedro Mamani")} == {
        household.pk
    }
    assert set(search_households(Household.objects.all(), "ccori juana")) == {household}
    api = {r["id"] for r in client.get("/api/v1/households/?q=pedro").json()["results"]}
    assert api == {str(household.pk)}
    page = admin_client.get("/admin/farmers/household/?q=Mamani+Pedro")
    assert household.code in page.content.decode()


def test_the_search_words_follow_the_members(client_for: ClientMaker) -> None:
    client = client_for()
    created = client.post("/api/v1/households/", household_payload(), format="json").json()
    household = Household.objects.get(pk=created["id"])
    spouse = next(m["id"] for m in created["members"] if not m["is_head"])
    child = {
        "given_names": "Yeni",
        "surnames": "Ñaupari Quispe",
        "sex": "f",
        "birth_date": "2015-03-02",
        "relationship": "child",
    }
    members = [{"id": spouse, "is_active": False}, child]
    response = client.patch(
        f"/api/v1/households/{household.pk}/", {"members": members}, format="json"
    )
    assert response.status_code == 200, response.content
    assert _names(household) == " huaman juana naupari quispe yeni"
    assert set(search_households(Household.objects.all(), "yeni naupari")) == {household}
    assert not search_households(Household.objects.all(), "Pedro").exists()


def test_the_field_search_finds_a_spouse(client_for: ClientMaker) -> None:
    client = client_for()
    created = client.post("/api/v1/households/", household_payload(), format="json").json()
    assert search_households(Household.objects.all(), "PEDRO").get().pk == UUID(created["id"])


def test_search_words_are_the_members_words_once_each() -> None:
    assert search_words(["Elmer Ayala Palomino", "Rosa Ayala Ñaupa", "ROSA"]) == (
        " ayala elmer naupa palomino rosa"
    )
    assert search_words([]) == ""
    # Words past the index row's budget are left out whole, never cut.
    many = search_words(f"Nombre{n:04d}" for n in range(200))
    assert len(many) <= SEARCH_WORDS_MAX_LENGTH
    assert many.startswith(" nombre0000 ") and many.endswith(" nombre0089")


def test_search_pages_follow_the_cursor_and_cost_the_same(client_for: ClientMaker) -> None:
    client = client_for()
    made = []
    for n in range(5):
        head = {
            **household_payload()["members"][0],
            "given_names": f"Elmer {chr(65 + n)}",
            "document_number": f"{30000000 + n}",
            "phone": "",
        }
        response = client.post(
            "/api/v1/households/", household_payload(members=[head]), format="json"
        )
        assert response.status_code == 201, response.content
        made.append(response.json()["id"])
    seen: list[str] = []
    url: str | None = "/api/v1/households/?q=elmer+quis&page_size=2"
    while url:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        # The page (keys first, in a subquery), its members, the access-log insert.
        assert len(queries.captured_queries) == 3
        seen += [h["id"] for h in body["results"]]
        url = body["next"]
    assert seen == made  # oldest first, each once
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/households/?q=elmer&page_size=1").json()["results"]) == 1
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/households/?q=elmer&page_size=100").json()["results"]) == 5
    assert len(one.captured_queries) == len(many.captured_queries) == 3
