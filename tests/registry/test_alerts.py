"""Alerts: dedup of raised conditions, the workflow, the ``alerts/`` API and the admin queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock
from uuid import uuid4

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from registry.actors import Actor
from registry.alerts import (
    ALERT_TRANSITIONS,
    AlertSpec,
    alert_raise,
    alert_resolve_condition,
    alert_transition,
    alerts_raise_many,
    alerts_resolve_missing,
)
from registry.choices import AlertKind, AlertStatus, OrganizationKind, Role, Scope
from registry.exceptions import InvalidTransition, PermissionDenied, PreconditionFailed
from registry.models import Alert, ChangeRecord, District, Program
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"
# The default alert here is a relapse: coca data (issue 15), listed only with coca:read.
READ = [Scope.HOUSEHOLDS_READ, Scope.COCA_READ]
WRITE = [Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE, Scope.COCA_READ]
IN_AREA = "080910"  # Pichari: in the ``organization`` fixture's area
OUTSIDE = "050407"  # Sivia: outside it


@pytest.fixture
def program(db: Any) -> Program:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY)
    return ProgramFactory.create(code="pirdais", agency=agency)


def spec(program: Program, key: str = "hh:1", **overrides: Any) -> AlertSpec:
    values: dict[str, Any] = {
        "kind": AlertKind.RELAPSE,
        "key": key,
        "message": "Coca observada en la visita",
        "district_id": IN_AREA,
        "program_id": program.pk,
        "household_id": uuid4(),
    }
    values.update(overrides)
    return AlertSpec(**values)


def raise_alert(program: Program, key: str = "hh:1", **overrides: Any) -> Alert:
    alert, _created = alert_raise(spec(program, key, **overrides))
    return alert


# --- dedup -----------------------------------------------------------------------------------


def test_raising_the_same_condition_twice_keeps_one_alert(program: Program) -> None:
    first, created = alert_raise(spec(program))
    again, created_again = alert_raise(spec(program, message="otro texto"))
    assert created and not created_again
    assert again.pk == first.pk
    assert Alert.objects.count() == 1


def test_raise_many_twice_creates_each_condition_once(program: Program) -> None:
    specs = [spec(program, f"hh:{n}") for n in range(3)]
    assert alerts_raise_many([*specs, spec(program, "hh:0")]) == 3
    assert alerts_raise_many(specs) == 0
    assert Alert.objects.count() == 3


def test_raise_many_known_absent_skips_the_lookup_and_still_never_duplicates(
    program: Program, django_assert_num_queries: Any
) -> None:
    """The engine has already read these conditions' alerts: no lookup, one insert (and, with
    it, one insert of their ``alert.raised`` webhook events and one read of the subscriptions
    they fan out to: issue 19); a live alert raised meanwhile by another worker is still kept
    single by the unique constraint."""
    alerts_raise_many([spec(program, "hh:0")])
    specs = [spec(program, f"hh:{n}") for n in range(3)]
    with django_assert_num_queries(3):
        alerts_raise_many(specs, known_absent=True)
    assert Alert.objects.count() == 3
    assert Alert.objects.filter(key="hh:0").count() == 1


def test_a_resolved_condition_can_be_raised_again(program: Program) -> None:
    first = raise_alert(program)
    assert alert_resolve_condition(AlertKind.RELAPSE, "hh:1") == 1
    second, created = alert_raise(spec(program))
    assert created and second.pk != first.pk
    assert alerts_raise_many([spec(program, "hh:1")]) == 0  # the new one is live
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).count() == 1
    assert alerts_resolve_missing(AlertKind.RELAPSE, keep_keys=[]) == 1
    assert alerts_raise_many([spec(program, "hh:1")]) == 1
    assert Alert.objects.count() == 3


def test_a_racing_insert_returns_the_existing_alert(program: Program) -> None:
    """Another worker inserted the same condition between our check and our insert: the
    partial unique constraint refuses ours and the live alert is returned."""
    existing = raise_alert(program)
    with mock.patch.object(QuerySet, "first", return_value=None):
        alert, created = alert_raise(spec(program))
    assert not created and alert.pk == existing.pk
    assert Alert.objects.count() == 1


# --- workflow --------------------------------------------------------------------------------

STATES = [AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED]
ALLOWED = {
    (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
    (AlertStatus.OPEN, AlertStatus.RESOLVED),
    (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED),
}


def test_the_transition_table_is_the_documented_one() -> None:
    table = {(a, b) for a, targets in ALERT_TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


def put_in(alert: Alert, state: str) -> Alert:
    actor = Actor(unrestricted=True)
    if state in (AlertStatus.ACKNOWLEDGED,):
        alert = alert_transition(actor=actor, alert=alert, to=AlertStatus.ACKNOWLEDGED)
    if state == AlertStatus.RESOLVED:
        alert = alert_transition(actor=actor, alert=alert, to=AlertStatus.RESOLVED)
    return alert


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_every_move_of_the_workflow(program: Program, current: str, target: str) -> None:
    alert = put_in(raise_alert(program), current)
    actor = Actor(unrestricted=True)
    if (current, target) in ALLOWED:
        moved = alert_transition(actor=actor, alert=alert, to=target, note="Visitado")
        assert moved.status == target
        assert moved.version == alert.version + 1
        if target == AlertStatus.ACKNOWLEDGED:
            assert moved.acknowledged_at is not None
        if target == AlertStatus.RESOLVED:
            assert moved.resolved_at is not None and moved.resolution_note == "Visitado"
        record = ChangeRecord.objects.filter(object_id=str(alert.pk)).order_by("-at").first()
        assert record is not None and record.changes["status"] == [current, target]
    else:
        with pytest.raises(InvalidTransition) as info:
            alert_transition(actor=actor, alert=alert, to=target)
        assert info.value.extra["allowed"] == sorted(ALERT_TRANSITIONS[current])
        assert Alert.objects.get(pk=alert.pk).status == current


def test_transition_needs_households_write_in_the_area(program: Program) -> None:
    alert = raise_alert(program)
    reader = Actor(scopes=frozenset({Scope.HOUSEHOLDS_READ}), unrestricted=False)
    with pytest.raises(PermissionDenied):
        alert_transition(actor=reader, alert=alert, to=AlertStatus.RESOLVED)
    with pytest.raises(PreconditionFailed):
        alert_transition(
            actor=Actor(unrestricted=True), alert=alert, to=AlertStatus.RESOLVED, expected_version=7
        )
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


# --- API -------------------------------------------------------------------------------------

ClientMaker = Callable[..., APIClient]


def test_list_shows_only_alerts_of_the_area(program: Program, key_client: ClientMaker) -> None:
    inside = raise_alert(program, "in")
    raise_alert(program, "out", district_id=OUTSIDE)
    response = key_client(scopes=READ).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [str(inside.pk)]
    row = body["results"][0]
    assert row["district"] == IN_AREA and row["program"] == "pirdais"
    assert row["status"] == "open" and row["kind"] == "relapse"
    assert row["household"] == str(inside.household_id)
    assert set(body) == {"next", "previous", "results"}


def test_detail_has_an_etag_and_is_404_outside_the_area(
    program: Program, key_client: ClientMaker
) -> None:
    inside = raise_alert(program, "in")
    outside = raise_alert(program, "out", district_id=OUTSIDE)
    client = key_client(scopes=READ)
    response = client.get(f"{URL}{inside.pk}/")
    etag = response["ETag"]
    assert response.status_code == 200 and etag
    assert client.get(f"{URL}{inside.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    for missing in (outside.pk, uuid4(), "no-es-uuid"):
        response = client.get(f"{URL}{missing}/")
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"
    writer = key_client(scopes=WRITE)
    response = writer.post(f"{URL}{outside.pk}/transition/", {"to": "resolved"}, format="json")
    assert response.status_code == 404
    assert Alert.objects.get(pk=outside.pk).status == AlertStatus.OPEN


def test_the_api_needs_a_key_and_households_read(program: Program, key_client: ClientMaker) -> None:
    raise_alert(program)
    assert APIClient().get(URL).status_code == 401
    response = key_client(scopes=[Scope.INDICATORS_READ]).get(URL)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"


def test_transition_workflow_through_the_api(program: Program, key_client: ClientMaker) -> None:
    alert = raise_alert(program)
    url = f"{URL}{alert.pk}/transition/"
    reader = key_client(scopes=READ)
    assert reader.post(url, {"to": "acknowledged"}, format="json").status_code == 403
    client = key_client(scopes=WRITE)
    first = client.get(f"{URL}{alert.pk}/")["ETag"]
    response = client.post(url, {"to": "acknowledged"}, format="json")
    assert response.status_code == 200, response.json()
    acknowledged = response["ETag"]
    assert response.json()["status"] == "acknowledged" and acknowledged not in ("", first)
    stale = client.post(url, {"to": "resolved"}, format="json", HTTP_IF_MATCH=first)
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == "precondition_failed"
    response = client.post(
        url, {"to": "resolved", "note": "Visita hecha"}, format="json", HTTP_IF_MATCH=acknowledged
    )
    assert response.status_code == 200
    assert response.json()["resolution_note"] == "Visita hecha"
    again = client.post(url, {"to": "resolved"}, format="json")
    assert again.status_code == 409
    error = again.json()["errors"][0]
    assert error["code"] == "invalid_transition" and error["allowed"] == []
    bad = client.post(url, {"to": "open"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "to"


def test_there_is_no_create_nor_edit(program: Program, key_client: ClientMaker) -> None:
    alert = raise_alert(program)
    client = key_client(scopes=WRITE)
    assert client.post(URL, {"kind": "relapse"}, format="json").status_code == 405
    assert (
        client.patch(f"{URL}{alert.pk}/", {"status": "resolved"}, format="json").status_code == 405
    )
    assert client.delete(f"{URL}{alert.pk}/").status_code == 405


def test_filters(program: Program, key_client: ClientMaker) -> None:
    other = ProgramFactory.create(code="otro")
    relapse = raise_alert(program, "a")
    visit = raise_alert(program, "b", kind=AlertKind.VISIT_DUE, district_id="080907")
    resolved = raise_alert(program, "c", kind=AlertKind.VISIT_DUE, program_id=other.pk)
    alert_resolve_condition(AlertKind.VISIT_DUE, "c")
    Alert.objects.filter(pk=relapse.pk).update(raised_at=timezone.now() - timedelta(days=3))
    client = key_client(scopes=READ)

    def ids(query: str) -> set[str]:
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("kind=visit_due") == {str(visit.pk), str(resolved.pk)}
    assert ids("status=open") == {str(relapse.pk), str(visit.pk)}
    assert ids("status=resolved") == {str(resolved.pk)}
    assert ids("district=080907") == {str(visit.pk)}
    assert ids("program=otro") == {str(resolved.pk)}
    assert ids(f"household={relapse.household_id}") == {str(relapse.pk)}
    after = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(f"raised_after={after.replace('+', '%2B')}") == {str(visit.pk), str(resolved.pk)}
    for bad in ("kind=nada", "status=cerrado", "district=8091", "household=x", "raised_after=ayer"):
        response = client.get(f"{URL}?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["type"] == "validation_error"


def test_cursor_pages_walk_every_alert_once(program: Program, key_client: ClientMaker) -> None:
    for n in range(7):
        raise_alert(program, f"hh:{n}")
    client = key_client(scopes=READ)
    seen: list[str] = []
    url: str | None = f"{URL}?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7


def test_list_query_budget_is_flat(program: Program, key_client: ClientMaker) -> None:
    raise_alert(program, "first")
    client = key_client(scopes=READ)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{URL}?page_size=100").json()["results"]) == 1
    alerts_raise_many(
        [spec(program, f"hh:{n}", district_id=("080910", "080907")[n % 2]) for n in range(40)]
    )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{URL}?page_size=100").json()["results"]) == 41
    assert len(one.captured_queries) == len(many.captured_queries) <= 6


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def officer_client(program: Program, organization: Any) -> Client:
    """A field officer of the ``organization`` fixture (Pichari and Kimbiri) in the admin."""
    role_groups_sync()
    organization.programs.add(program)
    user = UserFactory.create(username="tecnica", is_staff=True)
    membership_assign(user=user, organization=organization, role=Role.SUPERVISOR)
    client = Client()
    client.force_login(user)
    return client


def test_admin_queue_is_scoped_and_read_only(program: Program, officer_client: Client) -> None:
    inside = raise_alert(program, "in")
    outside = raise_alert(program, "out", district_id=OUTSIDE)
    changelist = reverse("admin:registry_alert_changelist")
    response = officer_client.get(changelist)
    assert response.status_code == 200
    assert inside.message in response.content.decode()
    assert list(response.context["cl"].result_list) == [inside]
    response = officer_client.get(f"{changelist}?status__exact=open&kind__exact=relapse")
    assert list(response.context["cl"].result_list) == [inside]
    response = officer_client.get(f"{changelist}?district={IN_AREA}")
    assert list(response.context["cl"].result_list) == [inside]
    page = officer_client.get(reverse("admin:registry_alert_change", args=[outside.pk]))
    assert page.status_code == 302  # outside the area: "does not exist", back to the list
    page = officer_client.get(reverse("admin:registry_alert_change", args=[inside.pk]))
    assert page.status_code == 200 and b'name="message"' not in page.content
    assert officer_client.get(reverse("admin:registry_alert_add")).status_code == 403


def test_admin_actions_move_alerts_through_the_service(
    program: Program, officer_client: Client
) -> None:
    first = raise_alert(program, "a")
    second = raise_alert(program, "b")
    changelist = reverse("admin:registry_alert_changelist")
    response = officer_client.post(
        changelist,
        {"action": "acknowledge", "_selected_action": [str(first.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.status == AlertStatus.ACKNOWLEDGED and first.assigned_to is not None
    officer_client.post(
        changelist,
        {"action": "resolve", "_selected_action": [str(first.pk), str(second.pk)]},
    )
    statuses = set(Alert.objects.values_list("status", flat=True))
    assert statuses == {AlertStatus.RESOLVED}
    assert ChangeRecord.objects.filter(channel="admin", action="transition").count() == 3


def test_district_filter_lists_only_districts_with_alerts(
    program: Program, officer_client: Client
) -> None:
    raise_alert(program, "a")
    response = officer_client.get(reverse("admin:registry_alert_changelist"))
    assert District.objects.get(ubigeo=IN_AREA).name in response.content.decode()
    assert "Sivia" not in response.content.decode()


def test_resolving_a_condition_moves_the_version_and_stamps_the_change(program: Program) -> None:
    alert = raise_alert(program)
    before = Alert.objects.get(pk=alert.pk)
    assert alert_resolve_condition(AlertKind.RELAPSE, "hh:1") == 1
    after = Alert.objects.get(pk=alert.pk)
    assert (after.status, after.version) == (AlertStatus.RESOLVED, before.version + 1)
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
