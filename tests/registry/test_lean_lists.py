"""Every list on the lean path (issue 19 point 6): after ``seed_demo``, each list that renders
rows by a plan (``registry.api.lean``) gives the same bytes and the same access-log row as its
serializer, for a superuser, an implementer's key and a buyer's key (masking and consent differ
by kind), and costs the same queries for a page of 1 as for a page of 100."""

from __future__ import annotations

from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIClient

from farmers.devtools.list_path import list_views
from registry.api.lean import compile_plan
from registry.choices import OrganizationKind, Scope
from registry.models import Organization
from registry.services import api_key_create
from tests.factories import UserFactory
from tests.farmers.test_lean_list import _last_log, _unsigned, serializer_path

pytestmark = pytest.mark.django_db

# The lists on the lean path; any other stays on the serializer path (a method field, a nested
# object or a mask the plan cannot run): a list moving either way must be named here.
LEAN = {
    "agreements",
    "alerts",
    "appeals",
    "buyers",
    "contracts",
    "crop-installations",
    "deliveries",
    "districts",
    "eradications",
    "exclusion-proposals",
    "funding-agreements",
    "households",
    "offers",
    "organizations",
    "practices",
    "producer-memberships",
    "producer-organizations",
    "programs",
    "support",
    "trainings",
    "transition-events",
    "visit-corrections",
    "webhooks",
}


# The lists still on the serializer path, and why.
SERIALIZER_PATH = {
    "exports": "progress, labels and download link: the job model's properties and signing",
    "imports": "progress and labels: the job model's properties",
    "plots": "geometry a nested serializer over JSON; overlaps' household code a per-row policy",
    "stage-reviews": "exclusion proposals and appeals merged: not one queryset's rows",
    "title-applications": "clock, overdue, allowed transitions and missing documents: methods",
    "verifications": "location and plots method fields; photo and consent masks of its own",
}


# The lists the demo gives rows; the others' own tests fill them (their output, masking and
# query budget are checked there, now on the lean path).
DEMO_ROWS = {
    "agreements",
    "alerts",
    "buyers",
    "contracts",
    "crop-installations",
    "deliveries",
    "districts",
    "funding-agreements",
    "households",
    "offers",
    "organizations",
    "producer-memberships",
    "producer-organizations",
    "programs",
    "support",
    "trainings",
    "transition-events",
}


def _view(resource: str) -> Any:
    view = list_views()[resource]()
    view.action, view.request, view.format_kwarg, view.kwargs = "list", None, None, {}
    return view


def test_the_lean_lists_are_these() -> None:
    lean = {name for name in list_views() if _view(name).lean_plan() is not None}
    assert lean == LEAN
    assert set(list_views()) - lean == set(SERIALIZER_PATH)


@pytest.fixture
def demo(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--force", stdout=StringIO())


def _clients() -> dict[str, APIClient]:
    superuser = APIClient()
    superuser.force_login(UserFactory.create(username="raiz", is_superuser=True))
    clients = {"superuser": superuser}
    for kind in (OrganizationKind.IMPLEMENTER, OrganizationKind.BUYER):
        organization = Organization.objects.filter(kind=kind).order_by("pk").first()
        assert organization is not None, kind
        scopes = [s for s in Scope.values if s not in (Scope.WEBHOOKS_MANAGE, Scope.TITLES_WRITE)]
        if kind == OrganizationKind.BUYER:
            scopes = [Scope.HOUSEHOLDS_READ, Scope.CONTRACTS_READ, Scope.REFERENCE_READ]
        _key, raw = api_key_create(organization=organization, scopes=scopes, name=f"lean-{kind}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        clients[str(kind)] = client
    return clients


def test_every_lean_list_is_byte_identical_to_its_serializer(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients()
    for resource in sorted(LEAN):
        _compare(resource, clients, monkeypatch)


def _compare(resource: str, clients: dict[str, APIClient], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"/api/v1/{resource}/"
    viewset = list_views()[resource]
    rows = 0
    for caller, client in clients.items():
        page: str | None = f"{url}?page_size=3"
        while page is not None:
            lean = client.get(page)
            lean_log = _last_log()
            with monkeypatch.context() as patch:
                patch.setattr(viewset, "lean_plan", serializer_path)
                classic = client.get(page)
            assert lean.status_code == classic.status_code, (resource, caller, lean.content)
            assert _unsigned(lean.content) == _unsigned(classic.content), (resource, caller)
            assert lean_log == _last_log(), (resource, caller)
            if lean.status_code != 200:
                break
            rows += len(lean.json()["results"])
            page = lean.json()["next"]
    assert (rows > 0) == (resource in DEMO_ROWS), resource


def _queries(client: APIClient, url: str, size: int) -> int:
    from registry import accesslog_writer

    before = accesslog_writer.statements
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": size})
    assert response.status_code == 200, response.content
    return len(queries.captured_queries) + accesslog_writer.statements - before


def test_every_lean_list_costs_the_same_queries_for_1_row_and_100(demo: None) -> None:
    clients = _clients()
    for resource in sorted(DEMO_ROWS):
        url = f"/api/v1/{resource}/"
        for caller, client in clients.items():
            if client.get(url).status_code != 200:  # the first use; a caller without the scope
                continue
            one, hundred = _queries(client, url, 1), _queries(client, url, 100)
            assert one == hundred, (resource, caller, one, hundred)
            # A key: the page, a nested list or the household's columns, the access log (a
            # person's session adds the session and the user).
            assert hundred <= (4 if caller != "superuser" else 6), (resource, caller, hundred)


class _Ref(serializers.Serializer[Any]):
    code = serializers.CharField(read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)


class _Holder(serializers.Serializer[Any]):
    household = _Ref(read_only=True, allow_null=True)
    funder: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )


def test_a_nested_object_and_a_slug_field_are_read_from_the_row() -> None:
    plan = compile_plan(_Holder)
    assert plan.columns == [
        "household__pk",
        "household__code",
        "household__district_id",
        "funder__code",
    ]
    render = plan.renderer()
    household = SimpleNamespace(pk=7, code="H-7", district_id="080907")
    for record, row in (
        (
            SimpleNamespace(household=household, funder=SimpleNamespace(code="usaid")),
            {
                "household__pk": 7,
                "household__code": "H-7",
                "household__district_id": "080907",
                "funder__code": "usaid",
            },
        ),
        (
            SimpleNamespace(household=None, funder=None),
            dict.fromkeys(plan.columns),
        ),
    ):
        assert render(row, {}) == _Holder(record).data


def test_a_nested_object_masking_itself_is_not_read_from_the_row() -> None:
    class Masking(_Ref):
        def to_representation(self, instance: Any) -> Any:
            return {}

    class Holder(serializers.Serializer[Any]):
        household = Masking(read_only=True)

    with pytest.raises(ImproperlyConfigured):
        compile_plan(Holder)
