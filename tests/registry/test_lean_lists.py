"""Every list on the lean path (issue 19 point 6): after ``seed_demo``, each list that renders
rows by a plan (``registry.api.lean``) gives the same bytes and the same access-log row as its
serializer, for a superuser, an implementer's key and a buyer's key (masking and consent differ
by kind), and costs the same queries for a page of 1 as for a page of 100."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from farmers.devtools.list_path import list_views
from farmers.models import (
    Consent,
    Household,
    ImportJob,
    ImportPhase,
    Plot,
    PlotOverlap,
    Verification,
)
from registry import exporting
from registry.api.lean import compile_plan, model_rows
from registry.choices import OrganizationKind, Scope
from registry.models import ApiKey, ExportJob, JobStatus, Organization
from registry.models import jobs as job_models
from registry.services import api_key_create
from tests.factories import UserFactory
from tests.farmers.test_lean_list import _last_log, _unsigned, serializer_path
from titles.models import TitleApplication

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
    "exports",
    "funding-agreements",
    "households",
    "imports",
    "offers",
    "organizations",
    "plots",
    "practices",
    "producer-memberships",
    "producer-organizations",
    "programs",
    "stage-reviews",
    "support",
    "title-applications",
    "trainings",
    "transition-events",
    "verifications",
    "visit-corrections",
    "webhooks",
}


# The lists still on the serializer path, and why (none now: stage reviews list both their
# models' rows by the plan in their own ``list``, compared in ``tests/farmers/test_stage_reviews``).
SERIALIZER_PATH: dict[str, str] = {}


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
    "plots",
    "producer-memberships",
    "producer-organizations",
    "programs",
    "support",
    "title-applications",
    "trainings",
    "transition-events",
    "verifications",
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
def demo(demo_for_module: None, db: None) -> None:
    """The demo, seeded once for this module (``tests.conftest.demo_for_module``)."""


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


@pytest.mark.parametrize("resource", sorted(LEAN))
def test_every_lean_list_is_byte_identical_to_its_serializer(
    demo: None, monkeypatch: pytest.MonkeyPatch, resource: str
) -> None:
    rows = _compare(resource, _clients(), monkeypatch)
    assert (rows > 0) == (resource in DEMO_ROWS), resource


MAX_PAGES = 100
REFERENCE_LISTS = {"districts"}


def _compare(resource: str, clients: dict[str, APIClient], monkeypatch: pytest.MonkeyPatch) -> int:
    url = f"/api/v1/{resource}/"
    viewset = list_views()[resource]
    rows = 0
    for caller, client in clients.items():
        page: str | None = f"{url}?page_size=3"
        # Every demo row, in pages of 3; of the reference lists (1,874 districts) the first 300.
        for _page in range(MAX_PAGES):
            if page is None:
                break
            lean = client.get(page)
            lean_log = _last_log()
            with monkeypatch.context() as patch:
                patch.setattr(viewset, "lean_plan", serializer_path)
                classic = client.get(page)
            assert lean.status_code == classic.status_code, (resource, caller, lean.content)
            assert _unsigned(lean.content) == _unsigned(classic.content), (resource, caller)
            assert lean_log == _last_log(), (resource, caller)
            if lean.status_code != 200:  # a caller without the scope: nothing more to read
                page = None
                break
            rows += len(lean.json()["results"])
            page = lean.json()["next"]
        # Only the reference data is longer than the pages compared: every demo row was.
        assert page is None or resource in REFERENCE_LISTS, (resource, caller, "not all compared")
    return rows


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


@pytest.fixture
def varied_records(demo: None) -> None:
    """The demo's plots, visits and title files made to differ where a row could render
    otherwise than its record: families whose current consent no longer covers the
    implementer (pseudonymised rows), plots overlapping (one with the plot of a family outside
    the implementer's area: its code withheld), visits with a photo digest, files with a note
    and a SUNARP partida."""
    # In the lists' order: each caller's first plot gets overlaps below (a page of 1 then reads
    # them as a page of 100 does).
    plots = list(Plot.objects.select_related("household").order_by("created_at", "id"))
    implementer = Organization.objects.filter(kind=OrganizationKind.IMPLEMENTER).order_by("pk")[0]
    area = set(implementer.districts.values_list("ubigeo", flat=True))
    # The families in the implementer's area first (the first three must be readable to it).
    households = sorted(
        dict.fromkeys(plot.household_id for plot in plots),
        key=lambda pk: (
            next(p.household.district_id for p in plots if p.household_id == pk) not in area
        ),
    )
    assert len(households) >= 4
    # The second and third families' consent no longer covers the implementer (their rows
    # pseudonymised); the first's row, the first of the implementer's list, stays whole.
    for household in households[1:3]:
        Consent.objects.create(household_id=household, signed_on=timezone.localdate())
    first = [next(p for p in plots if p.household_id == h) for h in households[:4]]
    for plot, other in ((first[0], first[1]), (first[1], first[0]), (first[0], first[3])):
        PlotOverlap.objects.create(plot=plot, other=other, area_ha="0.1250")
    PlotOverlap.objects.create(plot=first[2], other=first[0], area_ha="0.5000")
    if plots[0] not in first:  # the first plot of all (the superuser's list) has one too
        PlotOverlap.objects.create(plot=plots[0], other=first[0], area_ha="0.2500")
    Household.objects.filter(pk=households[3]).update(district_id="080902")
    Verification.objects.filter(household_id__in=households[:3]).update(photo_sha256="ab" * 32)
    TitleApplication.objects.update(note="Nota del expediente", partida_number="11002233")


def _compare_and_count(
    resource: str, clients: dict[str, APIClient], monkeypatch: pytest.MonkeyPatch
) -> int:
    """``_compare`` the list for every caller, then check that a page of 1 and one of 100 cost
    the same queries for each caller it answers; returns ``_compare``'s count."""
    compared = _compare(resource, clients, monkeypatch)
    for caller, client in clients.items():
        url = f"/api/v1/{resource}/"
        if client.get(url).status_code != 200:
            continue
        one, hundred = _queries(client, url, 1), _queries(client, url, 100)
        assert one == hundred, (resource, caller, one, hundred)
    return compared


def test_the_record_lists_are_byte_identical_and_cost_the_same_for_varied_records(
    varied_records: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients()
    for resource in ("plots", "title-applications", "verifications"):
        _compare_and_count(resource, clients, monkeypatch)
    # What the records were made to show: masked and unmasked rows, overlaps' codes withheld
    # outside the caller's area.
    plots = clients["implementer"].get("/api/v1/plots/", {"page_size": 100}).json()["results"]
    assert {plot["geometry"] is None for plot in plots} == {True, False}
    codes = [o["household_code"] for plot in plots for o in plot["overlaps"]]
    assert None in codes and any(codes)
    visits = clients["implementer"].get("/api/v1/verifications/", {"page_size": 100})
    assert {visit["location"] is None for visit in visits.json()["results"]} == {True, False}


@pytest.fixture
def background_jobs(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports and imports of the implementer's keys in every state (one running, its rate and
    time left computed from the clock; one succeeded, with a file and a download link). The
    clock the progress reads and the link's token and expiry (made at the request's time) are
    fixed, so that two requests a moment apart answer the same."""
    implementer = Organization.objects.filter(kind=OrganizationKind.IMPLEMENTER).order_by("pk")[0]
    key = ApiKey.objects.filter(organization=implementer).order_by("created_at")[0]
    now = timezone.now()
    monkeypatch.setattr(job_models, "timezone", SimpleNamespace(now=lambda: now))
    monkeypatch.setattr(exporting, "download_link_expires", lambda: now)
    monkeypatch.setattr(exporting, "download_token", lambda job: f"token-{job.pk}")
    states: list[dict[str, Any]] = [
        {"status": JobStatus.QUEUED},
        {"status": JobStatus.RUNNING, "started_at": now - timedelta(seconds=90), "done": 40},
        {"status": JobStatus.SUCCEEDED, "started_at": now, "finished_at": now, "done": 100},
        {"status": JobStatus.FAILED, "error": "Sin conexión", "cancel_requested": True},
    ]
    for n, state in enumerate(states):
        ExportJob.objects.create(
            resource="households",
            format="csv",
            filters={"district": "080907"},
            organization=implementer,
            created_by_key=key,
            total=100,
            file=f"exports/2026/11/{n}.csv" if state["status"] == JobStatus.SUCCEEDED else "",
            **state,
        )
        ImportJob.objects.create(
            filename=f"hogares-{n}.csv",
            file=f"imports/2026/11/{n}.csv",
            created_by_key=key,
            phase=ImportPhase.VALIDATE if n % 2 else ImportPhase.IMPORT,
            total=100,
            summary={"rows": 100},
            **state,
        )


def test_the_job_lists_are_byte_identical_and_cost_the_same_for_1_row_and_100(
    background_jobs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients()
    for resource in ("exports", "imports"):
        assert _compare_and_count(resource, clients, monkeypatch) > 0, resource
    jobs = clients["implementer"].get("/api/v1/exports/").json()["results"]
    assert [job["download_url"] is not None for job in jobs].count(True) == 1
    assert any(job["progress"]["rate"] for job in jobs)


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


def test_a_property_field_is_read_from_the_row_only_where_lean_reads_names_its_columns() -> None:
    class Jobs(serializers.ModelSerializer[ExportJob]):
        percent = serializers.IntegerField(read_only=True)

        class Meta:
            model = ExportJob
            fields = ["id", "status_label", "percent"]

        status_label = serializers.CharField(source="get_status_display", read_only=True)

    with pytest.raises(ImproperlyConfigured):
        compile_plan(Jobs)

    class Reading(serializers.ModelSerializer[ExportJob]):
        percent = serializers.IntegerField(read_only=True)
        status_label = serializers.SerializerMethodField()
        lean_reads = {"percent": ("status", "done", "total"), "status_label": ("status",)}

        class Meta:
            model = ExportJob
            fields = ["id", "status_label", "percent"]

        def get_status_label(self, job: Any) -> str:
            return str(job.get_status_display())

    plan = compile_plan(Reading)
    assert plan.columns == ["id", "status", "done", "total"]
    job = ExportJob(status=JobStatus.RUNNING, done=1, total=4)
    row = model_rows(ExportJob).row_class(id=job.pk, status=job.status, done=1, total=4)
    assert plan.renderer(Reading(context={}))(row, {}) == Reading(job).data
