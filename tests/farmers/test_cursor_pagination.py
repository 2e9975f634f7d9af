"""Keyset cursor pagination: thousands of rows with the same timestamp are each returned exactly
once, forward and backward, whatever the direction of the ordering; every ordering ends in a
unique key; a cursor this server did not issue is a 400 on ``cursor``."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from farmers.models import Household
from registry.api.pagination import CURSOR_SALT, CursorPagination
from registry.models import District, Organization, Program
from tests.factories import UserFactory
from tests.farmers.conftest import ClientMaker

pytestmark = pytest.mark.django_db
URL = "/api/v1/households/"
ROWS = 2500
SAME_INSTANT = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _households(program: Program, count: int) -> set[str]:
    district = District.objects.get(ubigeo="080910")
    rows = [
        Household(
            program=program,
            district=district,
            code=f"HH-T{index:09d}",
            created_at=SAME_INSTANT,
            updated_at=SAME_INSTANT,
        )
        for index in range(count)
    ]
    Household.objects.bulk_create(rows, batch_size=500)
    return {str(row.pk) for row in rows}


def _walk(client: APIClient, url: str, link: str) -> tuple[list[str], str]:
    """Follow ``link`` (``next`` or ``previous``) from ``url`` to the end; ids in page order."""
    seen: list[str] = []
    pages = 0
    last_url = url
    while url:
        pages += 1
        assert pages < 200, "the cursor loops"
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        ids = [row["id"] for row in body["results"]]
        seen = seen + ids if link == "next" else ids + seen
        last_url = url
        url = body[link]
    return seen, last_url


def test_thousands_of_equal_timestamps_each_once_forward_and_backward(
    client_for: ClientMaker, program: Program, partner: Organization
) -> None:
    expected = _households(program, ROWS)
    client = client_for()
    forward, last_page = _walk(client, f"{URL}?page_size=100", "next")
    assert len(forward) == ROWS and set(forward) == expected
    assert forward == sorted(forward)  # ties broken by id
    # From the last page, ``previous`` links lead back to the first row, each row once.
    backward, first_page = _walk(client, last_page, "previous")
    assert backward == forward
    assert client.get(first_page).json()["previous"] is None


def test_a_descending_ordering_with_ties(program: Program, partner: Organization) -> None:
    expected = _households(program, 450)
    factory = APIRequestFactory()

    class NewestFirst:
        ordering = ("-created_at", "-id")

    seen: list[str] = []
    query = "page_size=40"
    paginator = CursorPagination()
    while True:
        paginator = CursorPagination()
        request = Request(factory.get(f"{URL}?{query}"))
        page = paginator.paginate_queryset(Household.objects.all(), request, view=NewestFirst())
        assert page is not None
        seen.extend(str(row.pk) for row in page)
        link = paginator.get_next_link()
        if link is None:
            break
        query = urlsplit(link).query
    assert len(seen) == len(expected) and set(seen) == expected
    assert seen == sorted(seen, reverse=True)
    # One step back from the last page gives the page before it, newest first.
    previous = paginator.get_previous_link()
    assert previous is not None
    back = CursorPagination()
    request = Request(factory.get(f"{URL}?{urlsplit(previous).query}"))
    page = back.paginate_queryset(Household.objects.all(), request, view=NewestFirst())
    assert page is not None
    tail = len(expected) % 40 or 40
    assert [str(row.pk) for row in page] == seen[-tail - 40 : -tail]


def _list_urls() -> list[str]:
    """Every list route of the API (from the URL patterns), with the overdue queue's ordering."""
    urls: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                actions = getattr(pattern.callback, "actions", None) or {}
                if actions.get("get") == "list" and "(?P<format>" not in route:
                    urls.append("/" + route.replace("^", "").replace("$", ""))

    walk(get_resolver().url_patterns, "")
    return [*sorted(set(urls)), "/api/v1/title-applications/?overdue=true"]


def test_every_list_ordering_ends_in_a_unique_key(program: Program) -> None:
    """The paginator refuses an ordering that does not end in a unique key; every list pages."""
    _households(program, 2)
    urls = _list_urls()
    assert len(urls) >= 13, urls
    client = APIClient()
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    for url in urls:
        response = client.get(url + ("&" if "?" in url else "?") + "page_size=1")
        assert response.status_code == 200, (url, response.content)

    class ByTimestamp:
        ordering = "created_at"

    request = Request(APIRequestFactory().get(URL))
    with pytest.raises(ImproperlyConfigured):
        CursorPagination().paginate_queryset(Household.objects.all(), request, view=ByTimestamp())


def _first_page_cursor(client: APIClient) -> str:
    body = client.get(f"{URL}?page_size=1").json()
    return dict(parse_qsl(urlsplit(body["next"]).query))["cursor"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-cursor",
        "%%%",
        base64.b64encode(b"\xff\xfe garbage").decode(),
        base64.b64encode(b"p=2026-11-02").decode(),  # a DRF-style position
        base64.b64encode(b"o=5&p=x").decode(),  # a DRF-style offset
        base64.b64encode(b"r=1&p=zzz").decode(),  # reversed, a position that is no date
        signing.dumps({"o": ["created_at", "id"], "r": 0, "p": ["x", "y"]}, salt="other"),
    ],
)
def test_malformed_cursors_are_400(client_for: ClientMaker, program: Program, token: str) -> None:
    _households(program, 3)
    response = client_for().get(URL, {"cursor": token})
    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("cursor", "invalid")]


@pytest.mark.parametrize(
    "position",
    [
        ["not a date", str(uuid.uuid4())],
        [SAME_INSTANT.isoformat(), "not-a-uuid"],
        [12, 34],
        [None, None],
        [[1], {"a": 1}],
        [SAME_INSTANT.isoformat()],  # too few values
        ["99999-01-01T00:00:00", str(uuid.uuid4())],
    ],
)
def test_wrong_position_types_are_400_even_when_signed(
    client_for: ClientMaker, program: Program, position: list[Any]
) -> None:
    _households(program, 3)
    token = signing.dumps({"o": ["created_at", "id"], "r": 0, "p": position}, salt=CURSOR_SALT)
    response = client_for().get(URL, {"cursor": token})
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "cursor"


def test_tampered_and_foreign_cursors_are_400(client_for: ClientMaker, program: Program) -> None:
    _households(program, 3)
    client = client_for()
    cursor = _first_page_cursor(client)
    assert client.get(URL, {"cursor": cursor}).status_code == 200
    payload, _sep, signature = cursor.rpartition(":")
    data = signing.loads(cursor, salt=CURSOR_SALT)
    data["p"][1] = str(uuid.uuid4())  # another position, signed with nobody's key
    forged = signing.dumps(data, salt=CURSOR_SALT, key="not-the-secret")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B") + ":" + signature
    for token in (forged, flipped):
        response = client.get(URL, {"cursor": token})
        assert response.status_code == 400, token
    # A cursor of another list (another ordering) is not a position in this one.
    organizations = client.get("/api/v1/organizations/?page_size=1").json()
    other = dict(parse_qsl(urlsplit(organizations["next"]).query))["cursor"]
    assert client.get(URL, {"cursor": other}).status_code == 400


@pytest.mark.parametrize("ordering", [("reviewed_at", "id"), ("-reviewed_at", "-id")])
def test_a_nullable_field_with_ties_and_nulls(
    program: Program, partner: Organization, ordering: tuple[str, str]
) -> None:
    """NULLs sort as the largest value (as the overdue queue's ``due_on`` may be empty)."""
    ids = list(_households(program, 90))
    Household.objects.filter(pk__in=ids[:30]).update(reviewed_at=SAME_INSTANT)
    Household.objects.filter(pk__in=ids[30:50]).update(reviewed_at=SAME_INSTANT.replace(year=2025))
    factory = APIRequestFactory()
    view = type("View", (), {"ordering": ordering})()
    forward: list[str] = []
    query = "page_size=7"
    paginator = CursorPagination()
    while True:
        paginator = CursorPagination()
        request = Request(factory.get(f"{URL}?{query}"))
        page = paginator.paginate_queryset(Household.objects.all(), request, view=view)
        assert page is not None
        forward.extend(str(row.pk) for row in page)
        link = paginator.get_next_link()
        if link is None:
            break
        query = urlsplit(link).query
    assert sorted(forward) == sorted(ids) and len(forward) == len(ids)
    backward: list[str] = []
    link = paginator.get_previous_link()
    while link is not None:
        paginator = CursorPagination()
        request = Request(factory.get(f"{URL}?{urlsplit(link).query}"))
        page = paginator.paginate_queryset(Household.objects.all(), request, view=view)
        assert page is not None
        backward = [str(row.pk) for row in page] + backward
        link = paginator.get_previous_link()
    tail = len(ids) % 7 or 7
    assert backward == forward[:-tail]
