"""The stage is coca data (issue 15 point 5): ``stage``, ``stage_since``, ``milestones``, the
stage ledger (``stage-history/``, ``transition-events/``) and relapse / exclusion alerts reach
only callers holding coca:read in the area and the programme's own people in theirs; every
endpoint that could carry them is driven with each kind of caller (table-driven)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from farmers.choices import Stage
from farmers.models import Household, StageChange
from registry.alerts import AlertSpec, alert_raise
from registry.choices import AlertKind, OrganizationKind, Role, Scope
from registry.models import AccessLog, Alert, District, Organization, Program
from registry.policies import COCA_ALERT_KINDS
from registry.services import api_key_create, membership_assign
from tests.factories import OrganizationFactory, UserFactory
from tests.farmers.conftest import WRITE, household_payload

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"
EVENTS = "/api/v1/transition-events/"
ALERTS = "/api/v1/alerts/"
PICHARI = "080910"
STAGE_FIELDS = {"stage", "stage_since", "milestones"}


def _org(code: str, kind: str, program: Program) -> Organization:
    org = OrganizationFactory.create(code=code, kind=kind)
    org.districts.set(District.objects.filter(ubigeo=PICHARI))
    org.programs.add(program)
    return org


def _key(org: Organization, scopes: Sequence[str]) -> APIClient:
    _api_key, raw = api_key_create(organization=org, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def _person(org: Organization, role: str) -> tuple[APIClient, Any]:
    user = UserFactory.create()
    membership_assign(user=user, organization=org, role=role, district_ubigeos=[PICHARI])
    client = APIClient()
    client.force_login(user)
    return client, user


# caller → (who, sees the stage, its reads are logged)
Caller = Callable[[Program, Organization], APIClient]
CALLERS: dict[str, tuple[Callable[..., Any], bool, bool]] = {
    "titling_authority_key": (
        lambda p, _i: _key(
            _org("sunarp", OrganizationKind.TITLING_AUTHORITY, p),
            [Scope.HOUSEHOLDS_READ, Scope.TITLES_READ],
        ),
        False,
        False,
    ),
    "buyer_key": (
        lambda p, _i: _key(
            _org("coop", OrganizationKind.BUYER, p),
            [Scope.HOUSEHOLDS_READ, Scope.CONTRACTS_READ],
        ),
        False,
        False,
    ),
    "implementer_key_without_coca": (lambda _p, i: _key(i, WRITE), False, False),
    "implementer_key_with_coca": (
        lambda _p, i: _key(i, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ]),
        True,
        True,
    ),
    "titling_authority_person": (
        lambda p, _i: _person(
            _org("cofopri", OrganizationKind.TITLING_AUTHORITY, p), "field_officer"
        )[0],
        False,
        False,
    ),
    "programme_field_officer": (lambda _p, i: _person(i, Role.FIELD_OFFICER)[0], True, False),
    "programme_supervisor": (lambda _p, i: _person(i, Role.SUPERVISOR)[0], True, True),
}


@pytest.fixture
def excluded(program: Program, partner: Organization) -> dict[str, Any]:
    """An excluded household of Pichari with its ledger, a relapse alert and a visit-due alert
    whose details name the stage."""
    writer = _key(partner, WRITE)
    payload = household_payload()
    # Consent covers every partner here, so each caller may find the family (``farmers.consent``)
    # and only the stage policy decides what it sees of the stage.
    payload["consent"]["purposes"] = ["registry", "partner_sharing", "buyer_sharing"]
    body = writer.post(HOUSEHOLDS, payload, format="json").json()
    Household.objects.filter(pk=body["id"]).update(
        stage=Stage.EXCLUDED,
        stage_since=date(2026, 5, 1),
        milestones={"enrolled": "2026-01-10", "excluded": "2026-05-01"},
    )
    StageChange.objects.create(
        household_id=body["id"],
        from_stage=Stage.RELAPSED,
        to_stage=Stage.EXCLUDED,
        effective_on=date(2026, 5, 1),
        reason="excluded_after_relapses",
        evidence={"coca": {"coca_ha": "0.5000"}},
        district_id=PICHARI,
        program=program,
    )
    relapse, _ = alert_raise(
        AlertSpec(
            kind=AlertKind.RELAPSE,
            key=f"relapse:{body['id']}",
            message="Coca found again on a confirmed visit",
            district_id=PICHARI,
            program_id=program.pk,
            household_id=body["id"],
            details={"stage": "excluded", "reason": "excluded_after_relapses"},
        )
    )
    due, _ = alert_raise(
        AlertSpec(
            kind=AlertKind.VISIT_DUE,
            key=f"visit_due:{body['id']}",
            message="A verification visit is due",
            district_id=PICHARI,
            program_id=program.pk,
            household_id=body["id"],
            details={"stage": "excluded", "reason": "excluded_after_relapses"},
        )
    )
    return {"id": body["id"], "relapse": str(relapse.pk), "due": str(due.pk)}


def _codes(response: Any) -> set[str]:
    return {e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_endpoint_carrying_the_stage(
    program: Program, partner: Organization, excluded: dict[str, Any], caller: str
) -> None:
    make, sees, logged = CALLERS[caller]
    client = make(program, partner)
    hh = excluded["id"]
    AccessLog.objects.all().delete()

    listed = client.get(HOUSEHOLDS)
    assert listed.status_code == 200, listed.content
    [row] = [r for r in listed.json()["results"] if r["id"] == hh]
    detail = client.get(f"{HOUSEHOLDS}{hh}/").json()
    lookup = client.post(
        f"{HOUSEHOLDS}lookup/",
        {"document_type": "dni", "document_number": "10117410"},
        format="json",
    ).json()["results"]
    assert [r["id"] for r in lookup] == [hh]
    for body in (row, detail, lookup[0]):
        if sees:
            assert body["stage"] == "excluded" and body["stage_since"] == "2026-05-01"
            assert body["milestones"]["excluded"] == "2026-05-01"
        else:
            assert not STAGE_FIELDS & set(body), body  # absent, not null

    by_stage = client.get(HOUSEHOLDS, {"stage": "excluded"})
    history = client.get(f"{HOUSEHOLDS}{hh}/stage-history/")
    events = client.get(EVENTS)
    if sees:
        assert [r["id"] for r in by_stage.json()["results"]] == [hh]
        assert [r["to_stage"] for r in history.json()["results"]] == ["excluded"]
        assert [r["household"] for r in events.json()["results"]] == [hh]
    else:
        for refused in (by_stage, history, events):
            assert refused.status_code == 403, refused.content
            assert _codes(refused) == {"missing_scope"}

    alerts = {a["id"]: a for a in client.get(ALERTS).json()["results"]}
    assert excluded["due"] in alerts
    relapse = client.get(f"{ALERTS}{excluded['relapse']}/")
    if sees:
        assert excluded["relapse"] in alerts and relapse.status_code == 200
        assert alerts[excluded["due"]]["details"]["stage"] == "excluded"
    else:
        assert excluded["relapse"] not in alerts and relapse.status_code == 404
        assert alerts[excluded["due"]]["details"] == {}
        assert "excluded" not in str(alerts) and "relapse" not in str(alerts)

    logs = AccessLog.objects.filter(resource__in=["households", "stage_changes", "alerts"])
    if logged:
        assert {log.resource for log in logs} == {"households", "stage_changes", "alerts"}
        assert all(hh in log.object_ids for log in logs.filter(resource="households"))
        # list, detail, lookup and the stage filter
        assert logs.filter(resource="households").count() == 4
        alert_ids = {i for log in logs.filter(resource="alerts") for i in log.object_ids}
        assert alert_ids == {excluded["relapse"], excluded["due"]}
    else:
        # No stage was read, so none is logged (partners' reads of personal data are, issue 19).
        assert not any(set(log.fields) & STAGE_FIELDS for log in logs)
        assert not logs.exclude(resource="households").exists()


@pytest.mark.parametrize("caller", [c for c in CALLERS if "_key" not in c])
def test_field_pages_show_the_stage_only_to_who_may_see_it(
    program: Program, partner: Organization, excluded: dict[str, Any], caller: str
) -> None:
    make, sees, _logged = CALLERS[caller]
    client = make(program, partner)
    page = client.get(reverse("field:household", args=[excluded["id"]]))
    mine = client.get(reverse("field:my_work"))
    assert page.status_code == mine.status_code == 200
    for html in (page.content.decode(), mine.content.decode()):
        assert ("Excluido" in html or "Excluded" in html) is sees
    assert ("Coca found again" in mine.content.decode()) is sees


def test_coca_alert_kinds_cover_relapse_and_every_exclusion_kind() -> None:
    wanted = {k for k in AlertKind.values if "relapse" in k or k.startswith("exclu")}
    assert wanted <= COCA_ALERT_KINDS


def _count(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, {"page_size": 100}).status_code == 200
    return len(queries)


def test_logged_household_and_alert_lists_keep_a_flat_query_budget(
    program: Program, partner: Organization, excluded: dict[str, Any]
) -> None:
    client = _key(partner, [Scope.HOUSEHOLDS_READ, Scope.COCA_READ])
    client.get(HOUSEHOLDS)  # the key's first use is recorded once
    one = (_count(client, HOUSEHOLDS), _count(client, ALERTS))
    writer = _key(partner, WRITE)
    for n in range(5):
        payload = household_payload()
        for i, member in enumerate(payload["members"]):
            member["document_number"] = f"7{n}{i}00000"
            member["given_names"] = f"Nombre{n}{i}"
        body = writer.post(HOUSEHOLDS, payload, format="json").json()
        alert_raise(
            AlertSpec(
                kind=AlertKind.RELAPSE,
                key=f"relapse:{body['id']}",
                message="m",
                district_id=PICHARI,
                program_id=program.pk,
                household_id=body["id"],
            )
        )
    assert Alert.objects.count() == 7
    many = (_count(client, HOUSEHOLDS), _count(client, ALERTS))
    assert one == many
