"""Search that finds people (issue 18, point 3): any words of the head's names and surnames,
in any order, accents and case ignored, partial words; ID number and household code."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.filters import search_households
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
        ("qu", {"Elmo Quispe Ayala"}),  # short: the start of the name only
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
    assert "hh_name_trgm_idx" in plan
