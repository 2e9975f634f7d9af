"""Issue 19 point 2: consent governs reads. Each kind of partner needs a purpose of the
family's current consent to see its personal data (``farmers.consent``), else it gets the
record pseudonymised; registration needs a consent, approval refuses a household without one;
a new consent version (withdrawal, narrowing) takes effect at once in every read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farmers import consent, services
from farmers.admin.households import HouseholdAdmin
from farmers.models import Consent, Household
from farmers.webhooks import household_status_data
from registry import exporting
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope, WebhookEventType
from registry.models import AccessLog, ChangeRecord, District, Organization, Program
from registry.services import api_key_create, membership_assign
from registry.webhooks import event
from tests.factories import OrganizationFactory, UserFactory

from .conftest import WRITE, ClientMaker, household_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"
READ = [Scope.HOUSEHOLDS_READ]
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [-73.98, -12.52],
            [-73.979, -12.52],
            [-73.979, -12.519],
            [-73.98, -12.519],
            [-73.98, -12.52],
        ]
    ],
}


def _org(kind: str, code: str, program: Program) -> Organization:
    org = OrganizationFactory.create(code=code, kind=kind)
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    org.programs.add(program)
    return org


@pytest.fixture
def authority(program: Program) -> Organization:
    """A regional agrarian directorate working in Pichari and Kimbiri."""
    return _org(OrganizationKind.TITLING_AUTHORITY, "dra-cusco", program)


def _register(client: Any, purposes: list[str], number: str = "10117410") -> dict[str, Any]:
    head = {**household_payload()["members"][0], "document_number": number}
    body = household_payload(
        members=[head], consent={"signed_on": "2025-11-02", "purposes": purposes}
    )
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _withdraw(client: Any, household_id: str, purposes: list[str]) -> Any:
    return client.post(
        f"{URL}{household_id}/consents/",
        {"purposes": purposes, "reason": "La familia retira su consentimiento"},
        format="json",
    )


def _codes(response: Any) -> list[tuple[str, bool]]:
    return [(h["code"], h["pseudonymised"]) for h in response.json()["results"]]


# --- who sees what ---------------------------------------------------------------------------


def test_a_titling_authority_sees_names_only_with_partner_sharing(
    client_for: ClientMaker, authority: Organization
) -> None:
    writer = client_for()
    narrow = _register(writer, ["registry"], "10117410")
    wide = _register(writer, ["registry", "partner_sharing"], "42345678")
    reader = client_for(READ, org=authority)
    rows = {h["id"]: h for h in reader.get(URL).json()["results"]}
    masked, shown = rows[narrow["id"]], rows[wide["id"]]
    # The pseudonym: code, district and programme; nothing that names or places the family.
    assert masked["pseudonymised"] is True
    assert (masked["code"], masked["district"], masked["program"]) == (
        narrow["code"],
        "080910",
        "pirdais",
    )
    assert masked["head_name"] is None and masked["community"] is None
    assert masked["members"] == []
    assert "10117410" not in str(masked) and "Quispe" not in str(masked)
    assert shown["pseudonymised"] is False and shown["head_name"] == "Juana Quispe Huamán"
    assert shown["members"][0]["document_number"] == "42345678"
    detail = reader.get(f"{URL}{narrow['id']}/").json()
    assert detail["pseudonymised"] is True and detail["members"] == []
    assert detail["head_name"] is None


def test_the_programme_itself_sees_names_under_registry(client_for: ClientMaker) -> None:
    """An implementer processes the registry for the programme: ``registry`` suffices."""
    writer = client_for()
    created = _register(writer, ["registry"])
    assert created["pseudonymised"] is False and created["head_name"] == "Juana Quispe Huamán"
    assert _codes(client_for(READ).get(URL)) == [(created["code"], False)]


def test_a_funder_never_sees_personal_data(client_for: ClientMaker, program: Program) -> None:
    """Funders' keys read indicators only; even were one to reach a household, the policy
    gives it the pseudonym whatever the consent (``NEVER_PERSONAL``)."""
    funder = _org(OrganizationKind.FUNDER, "donante", program)
    created = _register(client_for(), ["registry", "partner_sharing", "statistics"])
    household = Household.objects.get(pk=created["id"])
    key, _raw = api_key_create(organization=funder, scopes=[Scope.INDICATORS_READ])
    assert not consent.personal_visible(Actor.for_api_key(key), household)
    assert consent.personal_visible(
        Actor.for_api_key(client_key(household_org(program))), household
    )


def household_org(program: Program) -> Organization:
    return Organization.objects.get(code="implementa")


def test_a_lookup_by_id_finds_only_families_whose_consent_covers_the_caller(
    client_for: ClientMaker, authority: Organization
) -> None:
    writer = client_for()
    created = _register(writer, ["registry"])
    reader = client_for(READ, org=authority)
    body = {"document_type": "dni", "document_number": "10117410"}
    assert reader.post(f"{URL}lookup/", body, format="json").json()["results"] == []
    found = writer.post(f"{URL}lookup/", body, format="json").json()["results"]
    assert [h["id"] for h in found] == [created["id"]]
    _withdraw(writer, created["id"], ["registry", "partner_sharing"])
    found = reader.post(f"{URL}lookup/", body, format="json").json()["results"]
    assert [(h["id"], h["pseudonymised"]) for h in found] == [(created["id"], False)]


def test_plots_and_visits_lose_geometry_and_location(
    client_for: ClientMaker, authority: Organization
) -> None:
    writer = client_for()
    created = _register(writer, ["registry"])
    plot = writer.post(
        "/api/v1/plots/",
        {
            "household": created["id"],
            "name": "Chacra Quispe",
            "tenure": "possession",
            "geometry": SQUARE,
        },
        format="json",
    )
    assert plot.status_code == 201, plot.content
    visit = writer.post(
        "/api/v1/verifications/",
        {
            "household": created["id"],
            "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "method": "field_visit",
            "coca_ha": "0",
            "location": {"lat": -12.5195, "lon": -73.9795},
        },
        format="json",
    )
    assert visit.status_code == 201, visit.content
    reader = client_for(READ, org=authority)
    (masked_plot,) = reader.get("/api/v1/plots/").json()["results"]
    assert masked_plot["geometry"] is None and masked_plot["name"] == ""
    assert masked_plot["area_ha"] == plot.json()["area_ha"]  # not personal: kept
    (masked_visit,) = reader.get("/api/v1/verifications/").json()["results"]
    assert masked_visit["location"] is None and masked_visit["photo_sha256"] == ""
    # The programme's own key still sees them.
    assert writer.get("/api/v1/plots/").json()["results"][0]["geometry"]["type"] == "Polygon"
    assert writer.get("/api/v1/verifications/").json()["results"][0]["location"] is not None


def test_a_pseudonymised_read_is_not_logged_as_a_personal_read(
    client_for: ClientMaker, authority: Organization
) -> None:
    narrow = _register(client_for(), ["registry"], "10117410")
    wide = _register(client_for(), ["registry", "partner_sharing"], "42345678")
    AccessLog.objects.all().delete()
    assert client_for(READ, org=authority).get(URL).status_code == 200
    (log,) = AccessLog.objects.all()
    assert log.object_ids == [wide["id"]]
    assert narrow["id"] not in log.object_ids


def test_the_masked_list_keeps_its_query_budget(
    client_for: ClientMaker, authority: Organization
) -> None:
    writer = client_for()
    _register(writer, ["registry", "partner_sharing"], "10000001")
    reader = client_for(READ, org=authority)
    reader.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(reader.get(f"{URL}?page_size=100").json()["results"]) == 1
    for n in range(12):
        purposes = ["registry", "partner_sharing"] if n % 2 else ["registry"]
        _register(writer, purposes, f"{20000000 + n}")
    with CaptureQueriesContext(connection) as many:
        results = reader.get(f"{URL}?page_size=100").json()["results"]
    assert len(results) == 13
    assert {h["pseudonymised"] for h in results} == {True, False}
    assert len(one.captured_queries) == len(many.captured_queries)
    with CaptureQueriesContext(connection) as plots_one:
        reader.get("/api/v1/plots/?page_size=100")
    assert len(plots_one.captured_queries) <= len(one.captured_queries)


# --- withdrawal and narrowing ---------------------------------------------------------------


def test_a_withdrawal_takes_effect_at_once_and_keeps_its_history(
    client_for: ClientMaker, authority: Organization
) -> None:
    writer = client_for()
    created = _register(writer, ["registry", "partner_sharing"])
    reader = client_for(READ, org=authority)
    assert _codes(reader.get(URL)) == [(created["code"], False)]
    narrowed = _withdraw(writer, created["id"], ["registry"])
    assert narrowed.status_code == 201, narrowed.content
    assert narrowed.json()["purposes"] == ["registry"]
    assert narrowed.json()["recorded_by_key"] is not None
    # At once: list and detail.
    assert _codes(reader.get(URL)) == [(created["code"], True)]
    assert reader.get(f"{URL}{created['id']}/").json()["head_name"] is None
    # The household moved to a new version (partners syncing with updated_after see it).
    assert Household.objects.get(pk=created["id"]).version == created["version"] + 1
    # Withdrawn altogether: even the programme's own key gets the pseudonym.
    assert _withdraw(writer, created["id"], []).status_code == 201
    assert _codes(writer.get(URL)) == [(created["code"], True)]
    versions = writer.get(f"{URL}{created['id']}/consents/").json()["results"]
    assert [v["purposes"] for v in versions] == [["partner_sharing", "registry"], ["registry"], []]
    record = ChangeRecord.objects.filter(object_id=created["id"], changes__has_key="consent")
    assert record.count() == 2


def test_a_consent_change_needs_a_reason_and_a_valid_date(client_for: ClientMaker) -> None:
    writer = client_for()
    created = _register(writer, ["registry"])
    bad = writer.post(
        f"{URL}{created['id']}/consents/",
        {"purposes": ["nonsense"], "reason": ""},
        format="json",
    )
    assert bad.status_code == 400
    early = writer.post(
        f"{URL}{created['id']}/consents/",
        {"purposes": [], "reason": "retira", "signed_on": "2025-01-01"},
        format="json",
    )
    assert early.status_code == 400
    assert [e["attr"] for e in early.json()["errors"]] == ["signed_on"]
    assert early.json()["errors"][0]["code"] == "before_current_consent"
    assert Consent.objects.filter(household_id=created["id"]).count() == 1
    # A key without households:write may read the versions but not add one.
    reader = client_for(READ)
    assert reader.get(f"{URL}{created['id']}/consents/").status_code == 200
    assert _withdraw(reader, created["id"], []).status_code == 403


# --- registration and approval need a consent -------------------------------------------------


def test_a_registration_without_consent_is_refused(
    client_for: ClientMaker, program: Program
) -> None:
    payload = household_payload()
    del payload["consent"]
    response = client_for().post(URL, payload, format="json")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("consent", "required")]
    # The service refuses it too, for every other channel (pages, import, admin).
    actor = Actor(user=UserFactory.create(), unrestricted=True)
    data = household_payload()
    with pytest.raises(ValidationError) as refused:
        services.household_register(
            actor=actor,
            program=data["program"],
            district=data["district"],
            members=[
                {**m, "birth_date": date.fromisoformat(m["birth_date"])} for m in data["members"]
            ],
            channel="web",
        )
    assert "consent" in refused.value.message_dict
    assert not Household.objects.exists()


def test_approval_refuses_a_household_without_consent(
    client_for: ClientMaker, partner: Organization
) -> None:
    created = _register(client_for(), ["registry"])
    Consent.objects.filter(household_id=created["id"]).delete()  # e.g. registered before
    reviewer = client_for([*WRITE, Scope.HOUSEHOLDS_REVIEW], reviewer=True)
    response = reviewer.post(f"{URL}{created['id']}/transition/", {"to": "active"}, format="json")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        ("consent", "consent_required")
    ]
    assert Household.objects.get(pk=created["id"]).status == "pending_review"


def test_admin_approval_and_consent_action(client_for: ClientMaker, program: Program) -> None:
    created = _register(client_for(), ["registry", "partner_sharing"])
    Consent.objects.filter(household_id=created["id"]).delete()
    user = UserFactory.create(is_staff=True, is_superuser=True)
    request = RequestFactory().post(
        "/admin/", {"purposes": ["registry"], "consent_reason": "firma"}
    )
    request.user = user
    request._messages = _Messages()  # type: ignore[attr-defined]
    admin = cast(HouseholdAdmin, site._registry[Household])
    admin.approve(request, Household.objects.filter(pk=created["id"]))
    assert Household.objects.get(pk=created["id"]).status == "pending_review"
    assert any("consent" in str(m).lower() for m in request._messages.seen)  # type: ignore[attr-defined]
    admin.record_consent(request, Household.objects.filter(pk=created["id"]))
    assert consent.current_purposes_of([created["id"]]) == {
        Household.objects.get(pk=created["id"]).pk: ["registry"]
    }


class _Messages:
    """A message store for admin actions called directly."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, level: int, message: Any, extra_tags: str = "") -> None:
        self.seen.append(str(message))


# --- exports and webhooks ---------------------------------------------------------------------


def test_the_csv_export_follows_the_consent(client_for: ClientMaker, program: Program) -> None:
    created = _register(client_for(), ["registry"])
    staff = UserFactory.create()
    membership_assign(user=staff, organization=program.agency, role=Role.PROGRAM_STAFF)
    actor = Actor.for_user(staff)
    queryset = Household.objects.filter(pk=created["id"])
    shown = _csv(queryset, actor)
    assert "Juana Quispe Huamán" in shown and "Natividad" in shown
    household = Household.objects.get(pk=created["id"])
    services.consent_record(actor=actor, household=household, purposes=[], reason="retira")
    masked = _csv(queryset, actor)
    assert "Quispe" not in masked and "Natividad" not in masked
    assert created["code"] in masked


def _csv(queryset: Any, actor: Actor) -> str:
    """The admin's CSV export of ``queryset`` as ``actor`` gets it (``registry.exporting``)."""
    export = exporting.resource("households")
    pages = exporting.list_pages(export, actor, filters={}, within=queryset)
    _rows, handle = exporting.write_all(export, "csv", pages)
    with handle:
        return handle.read().decode("utf-8-sig")


def test_webhook_payloads_carry_the_pseudonym_only(
    client_for: ClientMaker, authority: Organization
) -> None:
    created = _register(client_for(), ["registry", "partner_sharing"])
    household = Household.objects.get(pk=created["id"])
    actor = Actor.for_api_key(client_key(authority))
    change = event(
        WebhookEventType.HOUSEHOLD_STATUS_CHANGED,
        household.pk,
        district_id=household.district_id,
        program_id=household.program_id,
        **{"from": "pending_review", "to": "active"},
    )
    data = household_status_data(change, actor)
    assert data is not None
    assert set(data) <= {*consent.pseudonym(household), "from", "to", "status", "stage"}
    assert "Quispe" not in str(data) and "10117410" not in str(data)


def client_key(organization: Organization) -> Any:
    key, _raw = api_key_create(organization=organization, scopes=READ)
    return key
