"""``eradications/`` (issue 15, point 6): forced (CORAH) and voluntary eradication records,
maker–checker verification, coca visibility and logging, idempotency, bad input, query budget;
and through the engine: a forced eradication after ``coca_free`` relapses the family, a verified
voluntary one never does, and only crops on the programme's licit-crop list count."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from farmers.choices import Stage
from farmers.models import Eradication, Household, StageChange, Verification
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Reason, Visit
from registry.choices import Scope
from registry.models import AccessLog, ChangeRecord, Program
from tests.factories import UserFactory
from tests.farmers.conftest import WRITE, ClientMaker
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.test_transition_rules import TODAY
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
URL = "/api/v1/eradications/"
REVIEWER = [*WRITE, Scope.HOUSEHOLDS_REVIEW, Scope.COCA_READ]


@pytest.fixture
def writer(client_for: ClientMaker) -> APIClient:
    """A field officer's key: records, no coca:read, no review."""
    return client_for()


@pytest.fixture
def reviewer(client_for: ClientMaker) -> APIClient:
    return client_for(REVIEWER, reviewer=True)


def coca_free(program: Program) -> Household:
    """An active household the engine put at ``coca_free`` (agreement 2026-01, visit 2026-03)."""
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2025, 1, 10),
            agreements=[date(2026, 1, 1)],
            visits=[Visit(date(2026, 3, 1), Decimal("0"), Decimal("0.5"))],
        ),
    )
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert household.stage == Stage.COCA_FREE
    return household


def payload(plot: Any, **extra: Any) -> dict[str, Any]:
    return {
        "plot": str(plot.pk),
        "date": "2026-05-01",
        "hectares": "0.5",
        "kind": "forced",
        **extra,
    }


def codes(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def test_forced_eradication_by_staff_counts_at_once_and_relapses_the_family(
    program: Program, reviewer: APIClient
) -> None:
    household = coca_free(program)
    plot = give_plot(household.pk)
    response = reviewer.post(URL, payload(plot), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["kind"], body["hectares"]) == ("verified", "forced", "0.5000")
    assert body["household"] == str(household.pk) and body["verified_at"] is not None
    assert Eradication.objects.get().verified_by_key is not None  # the staff's key
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert (household.stage, str(household.stage_since)) == (Stage.RELAPSED, "2026-05-01")
    move = StageChange.objects.filter(household=household).latest("id")
    assert (move.to_stage, move.reason) == (Stage.RELAPSED, Reason.FORCED_ERADICATION)


def test_the_contract_fields_household_and_date(program: Program, reviewer: APIClient) -> None:
    """API.md's fields: ``date`` in and out; ``household``, when sent, must be the plot's."""
    household = coca_free(program)
    other = coca_free(program)
    plot = give_plot(household.pk)
    wrong = reviewer.post(URL, payload(plot, household=str(other.pk)), format="json")
    assert wrong.status_code == 400 and codes(wrong) == {("plot", "plot_not_in_household")}
    assert not Eradication.objects.exists()
    right = reviewer.post(URL, payload(plot, household=str(household.pk)), format="json")
    assert right.status_code == 201, right.content
    assert right.json()["date"] == "2026-05-01" and "eradicated_on" not in right.json()


def test_voluntary_eradication_needs_a_second_person_and_is_never_a_relapse(
    program: Program, writer: APIClient, reviewer: APIClient, client_for: ClientMaker
) -> None:
    household = coca_free(program)
    plot = give_plot(household.pk)
    made = writer.post(URL, payload(plot, kind="voluntary"), format="json")
    assert made.status_code == 201, made.content
    record = made.json()["id"]
    assert made.json()["status"] == "pending"
    # The officer's key cannot verify (no review scope); a reviewer who made one cannot either.
    assert writer.post(f"{URL}{record}/transition/", {"to": "verified"}).status_code == 403
    own = reviewer.post(URL, payload(plot, kind="voluntary", hectares="0.2"), format="json")
    refused = reviewer.post(f"{URL}{own.json()['id']}/transition/", {"to": "verified"})
    assert refused.status_code == 403 and codes(refused) == {(None, "maker_checker")}
    # Rejection needs a reason.
    no_reason = reviewer.post(f"{URL}{record}/transition/", {"to": "rejected"})
    assert no_reason.status_code == 400 and codes(no_reason) == {("reason", "required")}
    etag = reviewer.get(f"{URL}{record}/")["ETag"]
    verified = reviewer.post(f"{URL}{record}/transition/", {"to": "verified"}, HTTP_IF_MATCH=etag)
    assert verified.status_code == 200, verified.content
    assert verified.json()["status"] == "verified"
    again = reviewer.post(f"{URL}{record}/transition/", {"to": "rejected", "reason": "x"})
    assert again.status_code == 409 and codes(again) == {("to", "invalid_transition")}
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert household.stage == Stage.COCA_FREE


def test_a_forced_eradication_recorded_by_a_field_officer_waits_for_verification(
    program: Program, writer: APIClient
) -> None:
    household = coca_free(program)
    response = writer.post(URL, payload(give_plot(household.pk)), format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert household.stage == Stage.COCA_FREE  # not counted until verified


def test_create_is_idempotent_on_the_client_id(program: Program, reviewer: APIClient) -> None:
    plot = give_plot(coca_free(program).pk)
    body = payload(plot, id=str(uuid.uuid4()))
    first = reviewer.post(URL, body, format="json")
    retry = reviewer.post(URL, body, format="json")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json() == retry.json()
    clash = reviewer.post(URL, {**body, "hectares": "0.3"}, format="json")
    assert clash.status_code == 409 and codes(clash) == {("id", "idempotency_conflict")}
    assert Eradication.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"date": "2099-01-01"}, {("date", "future_date")}),
        ({"hectares": "0"}, {("hectares", "min_value")}),
        ({"hectares": "9"}, {("hectares", "eradication_exceeds_plot_area")}),  # plot: 4 ha
        ({"hectares": "9", "kind": "voluntary"}, {("hectares", "eradication_exceeds_plot_area")}),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(
    program: Program, reviewer: APIClient, extra: dict[str, str], expected: set[Any]
) -> None:
    plot = give_plot(coca_free(program).pk)
    response = reviewer.post(URL, payload(plot, **extra), format="json")
    assert response.status_code == 400, response.content
    assert codes(response) == expected
    assert not Eradication.objects.exists()
    assert not ChangeRecord.objects.filter(content_type__model="eradication").exists()


def test_a_plot_outside_the_area_is_not_found(
    program: Program, reviewer: APIClient, client_for: ClientMaker, other_partner: Any
) -> None:
    plot = give_plot(coca_free(program).pk)
    outsider = client_for(REVIEWER, org=other_partner, reviewer=True)
    assert outsider.post(URL, payload(plot), format="json").status_code == 404
    assert not Eradication.objects.exists()


def test_coca_fields_need_coca_read_and_every_read_is_logged(
    program: Program, writer: APIClient, reviewer: APIClient
) -> None:
    plot = give_plot(coca_free(program).pk)
    record = reviewer.post(URL, payload(plot), format="json").json()["id"]
    hidden = writer.get(f"{URL}{record}/").json()
    assert "kind" not in hidden and "hectares" not in hidden and hidden["status"] == "verified"
    assert "kind" not in writer.get(URL).json()["results"][0]
    denied = writer.get(URL, {"kind": "forced"})
    assert denied.status_code == 403 and codes(denied) == {(None, "missing_scope")}
    before = AccessLog.objects.filter(resource="eradications").count()
    listed = reviewer.get(URL, {"kind": "forced", "status": "verified"}).json()["results"]
    assert [r["id"] for r in listed] == [record] and listed[0]["kind"] == "forced"
    assert reviewer.get(URL, {"kind": "voluntary"}).json()["results"] == []
    log = AccessLog.objects.filter(resource="eradications").latest("id")
    assert AccessLog.objects.filter(resource="eradications").count() == before + 1
    assert set(log.fields) == {"kind", "hectares"}


def test_retrieve_carries_an_etag(program: Program, reviewer: APIClient) -> None:
    plot = give_plot(coca_free(program).pk)
    record = reviewer.post(URL, payload(plot), format="json").json()["id"]
    first = reviewer.get(f"{URL}{record}/")
    assert first.status_code == 200 and first["ETag"]
    assert reviewer.get(f"{URL}{record}/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_list_query_budget_is_flat(program: Program, reviewer: APIClient) -> None:
    household = coca_free(program)
    plot = give_plot(household.pk)
    assert reviewer.post(URL, payload(plot, kind="voluntary"), format="json").status_code == 201
    reviewer.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(reviewer.get(f"{URL}?page_size=100").json()["results"]) == 1
    template = Eradication.objects.get()
    Eradication.objects.bulk_create(
        Eradication(
            household=household,
            plot=plot,
            eradicated_on=date(2026, 4, day % 28 + 1),
            hectares=Decimal("0.1"),
            kind="voluntary",
            created_by_key=template.created_by_key,
        )
        for day in range(99)
    )
    with CaptureQueriesContext(connection) as many:
        assert len(reviewer.get(f"{URL}?page_size=100").json()["results"]) == 100
    assert len(one.captured_queries) == len(many.captured_queries)


def test_only_listed_crops_count_through_the_api_and_engine(
    program: Program, writer: APIClient, reviewer: APIClient
) -> None:
    """A visit recording 1.5 ha of ``other``: stored and shown, not counted (coca_free); once
    the programme lists ``other``, the same visit makes it licit_production."""
    household = make_household(
        program,
        HouseholdEvidence(
            household_id=None, registered_on=date(2025, 1, 10), agreements=[date(2026, 1, 1)]
        ),
    )
    give_plot(household.pk)
    made = writer.post(
        "/api/v1/verifications/",
        {
            "household": str(household.pk),
            "visited_on": "2026-09-14",
            "method": "field_visit",
            "coca_ha": "0",
            "licit_crops": [{"crop": "other", "ha": "1.5"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["licit_crops"] == [{"crop": "other", "ha": "1.5000"}]
    Verification.objects.filter(pk=made.json()["id"]).update(status="confirmed")
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert household.stage == Stage.COCA_FREE
    program.licit_crops = [*program.licit_crops, "other"]
    program.save()
    engine.recompute_households([household.pk], today=TODAY)
    household.refresh_from_db()
    assert household.stage == Stage.LICIT_PRODUCTION


def test_the_admin_queue_verifies_through_the_service(program: Program, writer: APIClient) -> None:
    household = coca_free(program)
    made = writer.post(URL, payload(give_plot(household.pk), kind="voluntary"), format="json")
    record = Eradication.objects.get(pk=made.json()["id"])
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    url = reverse("admin:farmers_eradication_changelist")
    page = client.get(url)
    assert page.status_code == 200 and household.code in page.content.decode()
    detail = client.get(reverse("admin:farmers_eradication_change", args=[record.pk]))
    assert detail.status_code == 200
    response = client.post(url, {"action": "verify", "_selected_action": [record.pk], "index": 0})
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.verified_by) == ("verified", root)
    assert ChangeRecord.objects.filter(object_id=str(record.pk), channel="admin").exists()
