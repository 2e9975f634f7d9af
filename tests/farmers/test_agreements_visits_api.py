"""Agreements and verification visits through the API: coca visibility and its access log,
visit validation, review by a supervisor (maker–checker), scope and query budgets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from farmers.models import Agreement, Verification
from registry.choices import Role, Scope
from registry.models import AccessLog, ApiKey, ChangeRecord, Organization
from registry.services import api_key_create, membership_assign
from tests.factories import UserFactory
from tests.farmers.conftest import WRITE, household_payload, reviewer_person
from tests.farmers.evidence_helpers import give_plot

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/agreements/"
VISITS = "/api/v1/verifications/"
COCA = [*WRITE, Scope.COCA_READ]
REVIEW = [*WRITE, Scope.HOUSEHOLDS_REVIEW, Scope.COCA_READ]


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def key_client(
    organization: Organization, scopes: Sequence[str], acts_for: Any = None
) -> tuple[APIClient, ApiKey]:
    api_key, raw = api_key_create(organization=organization, scopes=scopes, acts_for_user=acts_for)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client, api_key


def session_client(username: str, organization: Organization, *roles: str) -> APIClient:
    """A signed-in person with ``roles`` in ``organization`` for the district of Pichari."""
    user = UserFactory.create(username=username, first_name="Percy", last_name="Huamán Rojas")
    for role in roles:
        membership_assign(
            user=user, organization=organization, role=role, district_ubigeos=["080910"]
        )
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def writer(partner: Organization) -> APIClient:
    return key_client(partner, WRITE)[0]


@pytest.fixture
def household(writer: APIClient) -> dict[str, Any]:
    """Juana Quispe's household in Natividad, Pichari, with a 4 ha plot (the licit crops its
    visits record must fit on it)."""
    response = writer.post("/api/v1/households/", household_payload(), format="json")
    assert response.status_code == 201, response.content
    give_plot(response.json()["id"])
    return dict(response.json())


def agreement_payload(household: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "household": household["id"],
        "signed_on": "2026-03-01",
        "coca_ha_committed": "0.75",
        **extra,
    }


def visit_payload(household: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "household": household["id"],
        "visited_on": "2026-09-14",
        "method": "field_visit",
        "coca_ha": "0.25",
        "licit_crops": [{"crop": "cacao", "ha": "1.50"}, {"crop": "coffee", "ha": "0.40"}],
        "location": {"lat": -12.44, "lon": -73.98},
        **extra,
    }


# --- agreements -------------------------------------------------------------------------------


def test_agreement_create_list_retrieve(writer: APIClient, household: dict[str, Any]) -> None:
    response = writer.post(AGREEMENTS, agreement_payload(household), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["household"], body["signed_on"], body["is_active"]) == (
        household["id"],
        "2026-03-01",
        True,
    )
    assert response.has_header("ETag")
    stored = Agreement.objects.get(pk=body["id"])
    assert stored.coca_ha_committed == Decimal("0.75")
    assert ChangeRecord.objects.filter(object_id=body["id"], action="create").exists()
    listed = writer.get(AGREEMENTS).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]
    filtered = writer.get(f"{AGREEMENTS}?household={household['id']}").json()["results"]
    assert [a["id"] for a in filtered] == [body["id"]]
    detail = writer.get(f"{AGREEMENTS}{body['id']}/")
    assert detail.status_code == 200
    assert detail.json() == body


def test_agreement_is_idempotent_and_validated(
    writer: APIClient, household: dict[str, Any]
) -> None:
    agreement_id = str(uuid.uuid4())
    first = writer.post(AGREEMENTS, agreement_payload(household, id=agreement_id), format="json")
    again = writer.post(AGREEMENTS, agreement_payload(household, id=agreement_id), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    other = writer.post(
        AGREEMENTS,
        agreement_payload(household, id=agreement_id, coca_ha_committed="1.00"),
        format="json",
    )
    assert other.status_code == 409
    assert errors(other) == {("id", "idempotency_conflict")}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = writer.post(AGREEMENTS, agreement_payload(household, signed_on=tomorrow))
    assert future.status_code == 400
    assert errors(future) == {("signed_on", "future_date")}
    negative = writer.post(AGREEMENTS, agreement_payload(household, coca_ha_committed="-1"))
    assert negative.status_code == 400
    assert Agreement.objects.count() == 1


def test_coca_committed_needs_coca_read(
    partner: Organization, writer: APIClient, household: dict[str, Any]
) -> None:
    created = writer.post(AGREEMENTS, agreement_payload(household), format="json").json()
    assert "coca_ha_committed" not in created
    assert "coca_ha_committed" not in writer.get(f"{AGREEMENTS}{created['id']}/").json()
    assert "coca_ha_committed" not in writer.get(AGREEMENTS).json()["results"][0]
    reader, _key = key_client(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    assert reader.get(f"{AGREEMENTS}{created['id']}/").json()["coca_ha_committed"] == "0.7500"
    assert reader.get(AGREEMENTS).json()["results"][0]["coca_ha_committed"] == "0.7500"


def test_every_coca_read_is_logged_and_other_reads_are_not(
    partner: Organization, writer: APIClient, household: dict[str, Any]
) -> None:
    first = writer.post(AGREEMENTS, agreement_payload(household), format="json").json()
    second = writer.post(
        AGREEMENTS, agreement_payload(household, signed_on="2026-06-15"), format="json"
    ).json()
    writer.get(AGREEMENTS)
    writer.get(f"{AGREEMENTS}{first['id']}/")
    assert not AccessLog.objects.exists()

    reader, api_key = key_client(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    assert reader.get(f"{AGREEMENTS}?page_size=10").status_code == 200
    listed = AccessLog.objects.get()
    assert (listed.resource, listed.organization, listed.created_by_key) == (
        "agreements",
        partner,
        api_key,
    )
    assert sorted(listed.object_ids) == sorted([first["id"], second["id"]])
    assert listed.fields == ["coca_ha_committed"]
    assert listed.path.startswith(AGREEMENTS)

    assert reader.get(f"{AGREEMENTS}{second['id']}/").status_code == 200
    assert AccessLog.objects.count() == 2
    detail = AccessLog.objects.order_by("-id").first()
    assert detail is not None
    assert (detail.resource, detail.object_ids, detail.organization) == (
        "agreements",
        [second["id"]],
        partner,
    )


@pytest.mark.parametrize(
    ("url", "payload", "resource", "field"),
    [
        (AGREEMENTS, agreement_payload, "agreements", "coca_ha_committed"),
        (VISITS, visit_payload, "verifications", "coca_ha"),
    ],
    ids=["agreement", "verification"],
)
def test_creating_with_coca_read_logs_the_coca_returned(
    partner: Organization,
    household: dict[str, Any],
    url: str,
    payload: Any,
    resource: str,
    field: str,
) -> None:
    client, api_key = key_client(partner, COCA)
    created = client.post(url, payload(household), format="json")
    assert created.status_code == 201
    assert field in created.json()
    log = AccessLog.objects.get()
    assert (log.resource, log.object_ids, log.organization, log.created_by_key) == (
        resource,
        [created.json()["id"]],
        partner,
        api_key,
    )
    # The response carried the coca field: the log must say which sensitive field was read.
    assert log.fields == [field]


def test_other_partners_agreements_and_visits_are_hidden(
    other_partner: Organization, writer: APIClient, household: dict[str, Any]
) -> None:
    agreement = writer.post(AGREEMENTS, agreement_payload(household), format="json").json()
    visit = writer.post(VISITS, visit_payload(household), format="json").json()
    outsider, _key = key_client(other_partner, REVIEW)
    assert outsider.get(f"{AGREEMENTS}{agreement['id']}/").status_code == 404
    assert outsider.get(f"{VISITS}{visit['id']}/").status_code == 404
    assert outsider.get(AGREEMENTS).json()["results"] == []
    assert outsider.get(VISITS).json()["results"] == []
    assert outsider.post(AGREEMENTS, agreement_payload(household)).status_code == 404
    assert outsider.post(VISITS, visit_payload(household), format="json").status_code == 404
    confirm = outsider.post(f"{VISITS}{visit['id']}/transition/", {"to": "confirmed"})
    assert confirm.status_code == 404
    assert Verification.objects.get(pk=visit["id"]).status == "pending"
    assert not AccessLog.objects.exists()


# --- verification visits ----------------------------------------------------------------------


def test_visit_with_location_and_licit_crops_is_pending(
    partner: Organization, writer: APIClient, household: dict[str, Any]
) -> None:
    response = writer.post(VISITS, visit_payload(household), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["method"], body["visited_on"]) == (
        "pending",
        "field_visit",
        "2026-09-14",
    )
    assert body["location"] == {"lat": -12.44, "lon": -73.98}
    assert [(c["crop"], Decimal(c["ha"])) for c in body["licit_crops"]] == [
        ("cacao", Decimal("1.5")),
        ("coffee", Decimal("0.4")),
    ]
    assert "coca_ha" not in body
    assert "coca_ha" not in writer.get(f"{VISITS}{body['id']}/").json()
    # No coca was read; the visit's exact location was (a partner's read of personal data).
    assert [log.fields for log in AccessLog.objects.all()] == [["location"]]
    stored = Verification.objects.get(pk=body["id"])
    assert (stored.coca_ha, stored.latitude, stored.longitude) == (
        Decimal("0.25"),
        Decimal("-12.44"),
        Decimal("-73.98"),
    )
    assert ChangeRecord.objects.filter(object_id=body["id"], action="create").exists()

    reader, api_key = key_client(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    assert reader.get(f"{VISITS}{body['id']}/").json()["coca_ha"] == "0.2500"
    log = AccessLog.objects.order_by("-id").first()
    assert log is not None
    # One row for the response: the coca figure and the exact location it showed.
    assert (log.resource, log.object_ids, log.organization, log.created_by_key, log.fields) == (
        "verifications",
        [body["id"]],
        partner,
        api_key,
        ["coca_ha", "location"],
    )


@pytest.mark.parametrize(
    ("location", "attr"),
    [
        ({"lat": -3.10, "lon": -60.02}, "location.lon"),  # Manaus, Brazil
        ({"lat": -22.9, "lon": -70.0}, "location.lat"),  # Chile
        ({"lat": 12.52, "lon": -73.98}, "location.lat"),  # latitude sign lost
    ],
)
def test_visit_outside_peru_is_400_on_location(
    writer: APIClient, household: dict[str, Any], location: dict[str, float], attr: str
) -> None:
    response = writer.post(VISITS, visit_payload(household, location=location), format="json")
    assert response.status_code == 400, response.content
    assert attr in {a for a, _code in errors(response)}
    assert not Verification.objects.exists()


def test_visit_in_the_future_is_400(writer: APIClient, household: dict[str, Any]) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = writer.post(VISITS, visit_payload(household, visited_on=tomorrow), format="json")
    assert response.status_code == 400
    assert errors(response) == {("visited_on", "future_date")}
    assert not Verification.objects.exists()


def test_visit_confirm_and_reject_by_a_reviewer(
    partner: Organization, writer: APIClient, household: dict[str, Any]
) -> None:
    # A key acting for a supervisor: another person than whoever recorded the visits.
    reviewer, _key = key_client(partner, REVIEW, acts_for=reviewer_person(partner))
    first = writer.post(VISITS, visit_payload(household), format="json").json()
    second = writer.post(
        VISITS, visit_payload(household, visited_on="2026-10-01"), format="json"
    ).json()

    not_allowed = writer.post(f"{VISITS}{first['id']}/transition/", {"to": "confirmed"})
    assert not_allowed.status_code == 403
    assert errors(not_allowed) == {(None, "missing_scope")}

    confirmed = reviewer.post(f"{VISITS}{first['id']}/transition/", {"to": "confirmed"})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["coca_ha"] == "0.2500"

    no_reason = reviewer.post(f"{VISITS}{second['id']}/transition/", {"to": "rejected"})
    assert no_reason.status_code == 400
    assert errors(no_reason) == {("reason", "required")}
    assert Verification.objects.get(pk=second["id"]).status == "pending"
    rejected = reviewer.post(
        f"{VISITS}{second['id']}/transition/",
        {"to": "rejected", "reason": "El punto GPS no corresponde a la chacra."},
    )
    assert rejected.status_code == 200, rejected.content
    assert (rejected.json()["status"], rejected.json()["review_note"]) == (
        "rejected",
        "El punto GPS no corresponde a la chacra.",
    )

    again = reviewer.post(
        f"{VISITS}{first['id']}/transition/", {"to": "rejected", "reason": "Error"}
    )
    assert again.status_code == 409
    [error] = again.json()["errors"]
    assert (error["code"], error["allowed"]) == ("invalid_transition", [])
    assert Verification.objects.get(pk=first["id"]).status == "confirmed"
    history = ChangeRecord.objects.filter(object_id=first["id"], action="transition").get()
    assert history.changes == {"status": ["pending", "confirmed"]}


def test_a_key_cannot_confirm_a_visit_it_recorded(
    partner: Organization, household: dict[str, Any]
) -> None:
    """Maker–checker holds for keys as for people (as it does for household review)."""
    client, _key = key_client(partner, REVIEW)
    visit = client.post(VISITS, visit_payload(household), format="json").json()
    response = client.post(f"{VISITS}{visit['id']}/transition/", {"to": "confirmed"})
    assert response.status_code == 403, response.content
    assert errors(response) == {(None, "maker_checker")}
    assert Verification.objects.get(pk=visit["id"]).status == "pending"


def test_maker_checker_for_people(partner: Organization, household: dict[str, Any]) -> None:
    officer = session_client("tecnico.pichari", partner, Role.FIELD_OFFICER)
    recorded = officer.post(VISITS, visit_payload(household), format="json")
    assert recorded.status_code == 201, recorded.content
    visit = recorded.json()
    assert "coca_ha" not in visit  # a field officer has no coca:read
    url = f"{VISITS}{visit['id']}/transition/"
    # A field officer's role may not review visits at all.
    refused = officer.post(url, {"to": "confirmed"})
    assert refused.status_code == 403
    assert errors(refused) == {(None, "missing_scope")}

    # A supervisor who also works as field officer recorded this one: someone else must review.
    both = session_client("supervisora.campo", partner, Role.FIELD_OFFICER, Role.SUPERVISOR)
    own = both.post(VISITS, visit_payload(household, visited_on="2026-10-02"), format="json")
    assert own.status_code == 201
    own_refused = both.post(f"{VISITS}{own.json()['id']}/transition/", {"to": "confirmed"})
    assert own_refused.status_code == 403
    assert errors(own_refused) == {(None, "maker_checker")}
    assert Verification.objects.get(pk=own.json()["id"]).status == "pending"

    supervisor = session_client("supervisor.pichari", partner, Role.SUPERVISOR)
    confirmed = supervisor.post(url, {"to": "confirmed"})
    assert confirmed.status_code == 200, confirmed.content
    stored = Verification.objects.get(pk=visit["id"])
    assert stored.status == "confirmed"
    assert stored.created_by is not None and stored.created_by.username == "tecnico.pichari"
    assert stored.reviewed_by is not None and stored.reviewed_by.username == "supervisor.pichari"
    other = supervisor.post(f"{VISITS}{own.json()['id']}/transition/", {"to": "confirmed"})
    assert other.status_code == 200


# --- query budgets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "payload"),
    [(AGREEMENTS, agreement_payload), (VISITS, visit_payload)],
    ids=["agreements", "verifications"],
)
def test_list_query_budget_is_flat(
    partner: Organization, household: dict[str, Any], url: str, payload: Any
) -> None:
    client, _key = key_client(partner, COCA)
    assert client.post(url, payload(household), format="json").status_code == 201
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{url}?page_size=100").json()["results"]) == 1
    for day in range(1, 20):
        signed = f"2026-07-{day:02d}"
        extra = {"signed_on": signed} if url == AGREEMENTS else {"visited_on": signed}
        assert client.post(url, payload(household, **extra), format="json").status_code == 201
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{url}?page_size=100").json()["results"]) == 20
    # The page and the access-log INSERT; the key and its area come from the cache (issue 19).
    assert len(one.captured_queries) == len(many.captured_queries) == 2
    assert any("accesslog" in q["sql"].lower() for q in many.captured_queries)
