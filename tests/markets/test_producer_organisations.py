"""Issue 16, point 1: producer organisations (cooperatives and associations) and their member
households; a contract's seller is a household or an organisation (exactly one); a delivery
under an organisation's contract names the member it came from (a member that day); members'
deliveries through it are their market evidence and put their plots in the EUDR file; an
organisation may buy from its members."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from farmers.transition import evidence
from markets import eudr, services
from markets.choices import DeliveryStatus, MemberRole
from markets.models import Contract, Delivery, ProducerMembership
from markets.selectors import market_facts
from markets.webhooks import contract_data
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import AccessLog, District, Organization
from registry.services import api_key_create
from tests.factories import OrganizationFactory

from .conftest import (
    BUYER_SCOPES,
    KIMBIRI,
    PICHARI,
    SYSTEM,
    Market,
    key_client,
    make_household,
    today,
)
from .test_eudr import give_plot, ring

pytestmark = pytest.mark.django_db

MEMBERSHIPS = "/api/v1/producer-memberships/"
CONTRACTS = "/api/v1/contracts/"
DELIVERIES = "/api/v1/deliveries/"
ENROLLED = date(2026, 1, 5)  # the consent date of ``make_household``


@pytest.fixture
def coop(market: Market) -> Organization:
    """A cacao cooperative of the VRAEM (Pichari), assigned to the programme."""
    organization = OrganizationFactory.create(
        code="coop-vraem",
        name="Cooperativa Agraria Cacaotera VRAEM",
        kind=OrganizationKind.PRODUCER_ORG,
        district=District.objects.get(pk=PICHARI),
    )
    organization.programs.add(market.program)
    return organization


def join(organization: Organization, household: Any, joined_on: date = ENROLLED, **kw: Any) -> Any:
    return services.membership_create(
        actor=SYSTEM,
        organization=organization,
        household=household,
        joined_on=joined_on,
        channel="test",
        **kw,
    )


def org_contract(coop: Organization, **overrides: Any) -> Contract:
    """An active cacao contract: the cooperative sells to the exporter."""
    day = today()
    fields: dict[str, Any] = {
        "seller_organization": coop.code,
        "buyer": "exportadora",
        "crop": "cacao",
        "product_form": "cacao_dry",
        "season_start": day - timedelta(days=60),
        "season_end": day + timedelta(days=120),
        "volume_kg": "20000",
        "price_pen_per_kg": "9.50",
    }
    fields.update(overrides)
    contract, _created = services.contract_create(actor=SYSTEM, **fields)
    return services.contract_transition(
        actor=SYSTEM, contract=contract, to="active", signed_on=fields["season_start"]
    )


def deliver(contract: Contract, household: Any, *, on: date | None = None, kg: str = "100") -> Any:
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=contract.pk,
        household=household.pk,
        delivered_on=on or today(),
        weight_kg=kg,
        quality_grade="a",
    )
    return delivery


def errors(response: Any) -> dict[str, list[str]]:
    """``{field: [codes]}`` of an error response."""
    body = response.json()
    return {e["attr"]: [*([e["code"]])] for e in body["errors"]}


# --- memberships --------------------------------------------------------------------------------


def test_kind_and_member_roles_speak_spanish() -> None:
    from django.utils import translation

    with translation.override("es"):
        assert str(MemberRole.TREASURER.label) == "Tesorero(a)"
        assert str(MemberRole.PRESIDENT.label) == "Presidente(a)"
        assert "Organización de productores" in str(OrganizationKind.PRODUCER_ORG.label)


def test_staff_add_list_and_update_memberships(
    market: Market, coop: Organization, staff_client: APIClient
) -> None:
    response = staff_client.post(
        MEMBERSHIPS,
        {
            "organization": coop.code,
            "household": str(market.household.pk),
            "role": "president",
            "joined_on": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organization"] == {"code": coop.code, "name": coop.name}
    assert body["household"]["code"] == market.household.code
    assert (body["role"], body["joined_on"], body["left_on"]) == ("president", "2026-02-01", None)
    listed = staff_client.get(MEMBERSHIPS, {"organization": coop.code, "open": "true"}).json()
    assert [m["id"] for m in listed["results"]] == [body["id"]]
    # Change the role, then record the day it left (If-Match guards the edit).
    detail = staff_client.get(f"{MEMBERSHIPS}{body['id']}/")
    changed = staff_client.patch(
        f"{MEMBERSHIPS}{body['id']}/",
        {"role": "treasurer"},
        format="json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["role"] == "treasurer" and changed.json()["version"] == 2
    stale = staff_client.patch(
        f"{MEMBERSHIPS}{body['id']}/",
        {"left_on": today().isoformat()},
        format="json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert stale.status_code == 412
    left = staff_client.patch(
        f"{MEMBERSHIPS}{body['id']}/", {"left_on": today().isoformat()}, format="json"
    )
    assert left.status_code == 200 and left.json()["left_on"] == today().isoformat()
    assert staff_client.get(MEMBERSHIPS, {"open": "true"}).json()["results"] == []
    # Left: it may join again, from the day after.
    again = staff_client.post(
        MEMBERSHIPS,
        {
            "organization": coop.code,
            "household": str(market.household.pk),
            "joined_on": today().isoformat(),
        },
        format="json",
    )
    assert again.status_code == 400 and errors(again) == {"joined_on": ["overlapping_membership"]}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"joined_on": "2025-12-31"}, {"joined_on": ["before_enrolment"]}),
        ({"joined_on": "2099-01-01"}, {"joined_on": ["future_date"]}),
        ({"organization": "exportadora"}, {"organization": ["does_not_exist"]}),
        ({"organization": "no-such"}, {"organization": ["does_not_exist"]}),
        ({"role": "boss"}, {"role": ["invalid_choice"]}),
        ({"household": "00000000-0000-0000-0000-000000000000"}, {"household": ["does_not_exist"]}),
    ],
)
def test_bad_memberships_get_field_errors_and_write_nothing(
    market: Market,
    coop: Organization,
    staff_client: APIClient,
    payload: dict[str, Any],
    expected: dict[str, list[str]],
) -> None:
    body = {
        "organization": coop.code,
        "household": str(market.household.pk),
        "joined_on": "2026-02-01",
        **payload,
    }
    response = staff_client.post(MEMBERSHIPS, body, format="json")
    assert response.status_code == 400, response.json()
    assert errors(response) == expected
    assert not ProducerMembership.objects.exists()


def test_one_open_membership_per_organisation_and_dates_in_order(
    market: Market, coop: Organization
) -> None:
    membership = join(coop, market.household)
    with pytest.raises(ValidationError) as twice:
        join(coop, market.household, joined_on=date(2026, 3, 1))
    assert twice.value.error_dict["household"][0].code == "already_member"
    with pytest.raises(ValidationError) as early:
        services.membership_update(
            actor=SYSTEM, membership=membership, left_on=date(2026, 1, 4), channel="test"
        )
    assert early.value.error_dict["left_on"][0].code == "before_joined"
    # The database holds the same rules.
    with pytest.raises(IntegrityError), transaction.atomic():
        ProducerMembership.objects.create(
            organization=coop,
            household=market.household,
            district_id=PICHARI,
            program=market.program,
            joined_on=ENROLLED,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProducerMembership.objects.filter(pk=membership.pk).update(left_on=date(2025, 1, 1))


def test_membership_writes_need_households_write_in_the_area(
    market: Market, coop: Organization
) -> None:
    coop_key = key_client(coop, BUYER_SCOPES)
    response = coop_key.post(
        MEMBERSHIPS,
        {
            "organization": coop.code,
            "household": str(market.household.pk),
            "joined_on": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 403
    outsider = key_client(market.implementer, [Scope.CONTRACTS_READ, Scope.HOUSEHOLDS_WRITE])
    sivia = make_household(market.program, "050407", given="Rosa", surnames="Ccora Huamán")
    response = outsider.post(
        MEMBERSHIPS,
        {"organization": coop.code, "household": str(sivia.pk), "joined_on": "2026-02-01"},
        format="json",
    )
    assert response.status_code == 400 and errors(response) == {"household": ["does_not_exist"]}


def test_partner_reads_of_member_names_are_logged(market: Market, coop: Organization) -> None:
    join(coop, market.household)
    join(coop, market.other_household)
    coop_key = key_client(coop, BUYER_SCOPES)
    body = coop_key.get(MEMBERSHIPS).json()
    assert {m["household"]["head_name"] for m in body["results"]} == {
        market.household.head_name,
        market.other_household.head_name,
    }
    log = AccessLog.objects.get(resource="producer_memberships")
    assert sorted(log.object_ids) == sorted(m["id"] for m in body["results"])
    assert log.fields == ["household.head_name"]
    # Another buyer's key sees no memberships.
    exporter = key_client(market.exporter, BUYER_SCOPES)
    assert exporter.get(MEMBERSHIPS).json()["results"] == []


@pytest.mark.parametrize("who", ["staff", "coop"])
def test_membership_list_query_budget(
    market: Market, coop: Organization, staff_client: APIClient, who: str
) -> None:
    client = key_client(coop, BUYER_SCOPES) if who == "coop" else staff_client
    join(coop, market.household, joined_on=date(2026, 1, 5))
    client.get(MEMBERSHIPS)  # warm-up
    with CaptureQueriesContext(connection) as one:
        response = client.get(MEMBERSHIPS)
    assert len(response.json()["results"]) == 1
    # 99 more (past memberships of the other household, one a day).
    start = date(2026, 1, 6)
    ProducerMembership.objects.bulk_create(
        ProducerMembership(
            organization=coop,
            household=market.other_household,
            district_id=KIMBIRI,
            program=market.program,
            joined_on=start + timedelta(days=n),
            left_on=start + timedelta(days=n),
        )
        for n in range(99)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(MEMBERSHIPS, {"page_size": 100})
    assert len(response.json()["results"]) == 100
    assert len(many.captured_queries) == len(one.captured_queries)


# --- contracts: one seller ----------------------------------------------------------------------


def contract_body(**overrides: Any) -> dict[str, Any]:
    day = today()
    body = {
        "buyer": "exportadora",
        "crop": "cacao",
        "product_form": "cacao_dry",
        "season_start": (day - timedelta(days=60)).isoformat(),
        "season_end": (day + timedelta(days=120)).isoformat(),
        "volume_kg": "5000",
        "price_pen_per_kg": "9.50",
    }
    body.update(overrides)
    return body


def test_a_contract_has_exactly_one_seller(
    market: Market, coop: Organization, staff_client: APIClient
) -> None:
    both = staff_client.post(
        CONTRACTS,
        contract_body(household=str(market.household.pk), seller_organization=coop.code),
        format="json",
    )
    assert both.status_code == 400 and errors(both) == {"household": ["one_seller"]}
    neither = staff_client.post(CONTRACTS, contract_body(), format="json")
    assert neither.status_code == 400 and errors(neither) == {"household": ["seller_required"]}
    assert not Contract.objects.exists()
    created = staff_client.post(
        CONTRACTS, contract_body(seller_organization=coop.code), format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["household"] is None and body["seller_organization"] == coop.code
    assert body["district"] == PICHARI
    contract = Contract.objects.get(pk=body["id"])
    assert contract.program_id == market.program.pk
    # The database refuses a contract with no seller or two.
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.filter(pk=contract.pk).update(household=market.household)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.filter(pk=contract.pk).update(seller_organization=None)
    # Filter by the selling organisation.
    listed = staff_client.get(CONTRACTS, {"seller_organization": coop.code}).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]


def test_an_unknown_or_non_producer_seller_is_a_field_error(
    market: Market, staff_client: APIClient
) -> None:
    response = staff_client.post(
        CONTRACTS, contract_body(seller_organization="coop-pangoa"), format="json"
    )
    assert response.status_code == 400
    assert errors(response) == {"seller_organization": ["does_not_exist"]}


def test_the_organisation_key_sells_and_the_buyer_sees_it(
    market: Market, coop: Organization
) -> None:
    coop_key = key_client(coop, BUYER_SCOPES)
    response = coop_key.post(CONTRACTS, contract_body(seller_organization=coop.code), format="json")
    assert response.status_code == 201, response.json()
    contract_id = response.json()["id"]
    exporter = key_client(market.exporter, BUYER_SCOPES)
    assert exporter.get(f"{CONTRACTS}{contract_id}/").status_code == 200
    assert coop_key.get(f"{CONTRACTS}{contract_id}/").status_code == 200
    other = key_client(market.coop, BUYER_SCOPES)
    assert other.get(f"{CONTRACTS}{contract_id}/").status_code == 404
    # It may not sell on another organisation's behalf.
    second = OrganizationFactory.create(
        code="asoc-kimbiri",
        kind=OrganizationKind.PRODUCER_ORG,
        district=District.objects.get(pk=KIMBIRI),
    )
    second.programs.add(market.program)
    response = coop_key.post(
        CONTRACTS, contract_body(seller_organization=second.code), format="json"
    )
    assert response.status_code == 400 and errors(response) == {"buyer": ["not_own_buyer"]}


# --- deliveries name the member -----------------------------------------------------------------


def test_a_delivery_under_an_organisation_names_a_member_that_day(
    market: Market, coop: Organization, staff_client: APIClient
) -> None:
    contract = org_contract(coop)
    join(coop, market.household)
    left = join(coop, market.other_household)
    services.membership_update(
        actor=SYSTEM, membership=left, left_on=today() - timedelta(days=10), channel="test"
    )
    stranger = make_household(market.program, given="Eva", surnames="Rojas Ccori")
    day = today() - timedelta(days=5)

    def post(**extra: Any) -> Any:
        return staff_client.post(
            DELIVERIES,
            {
                "contract": str(contract.pk),
                "delivered_on": day.isoformat(),
                "weight_kg": "250",
                "quality_grade": "a",
                **extra,
            },
            format="json",
        )

    cases = [
        ({}, {"household": ["required"]}),
        ({"household": str(stranger.pk)}, {"household": ["not_a_member"]}),
        ({"household": str(market.other_household.pk)}, {"household": ["not_a_member"]}),
        ({"household": "00000000-0000-0000-0000-000000000000"}, {"household": ["not_a_member"]}),
    ]
    for extra, expected in cases:
        response = post(**extra)
        assert response.status_code == 400, (extra, response.json())
        assert errors(response) == expected, extra
    assert not Delivery.objects.exists()
    # The member who left could deliver before it left.
    early = post(
        household=str(market.other_household.pk),
        delivered_on=(today() - timedelta(days=20)).isoformat(),
    )
    assert early.status_code == 201, early.json()
    ok = post(household=str(market.household.pk))
    assert ok.status_code == 201, ok.json()
    assert ok.json()["household"]["id"] == str(market.household.pk)
    contract.refresh_from_db()
    assert str(contract.delivered_kg) == "500.00"


def test_a_household_contract_refuses_another_household(market: Market, make_contract: Any) -> None:
    contract = make_contract()
    with pytest.raises(ValidationError) as refused:
        services.delivery_record(
            actor=SYSTEM,
            contract=contract.pk,
            household=market.other_household.pk,
            delivered_on=today(),
            weight_kg="5",
            quality_grade="a",
        )
    assert refused.value.error_dict["household"][0].code == "not_the_seller"


# --- the market link through the organisation (the engine's evidence) -------------------------


@pytest.mark.parametrize(
    ("route", "status", "confirmed", "facts_for_member"),
    [
        ("organisation", DeliveryStatus.ACCEPTED, True, 1),
        ("organisation", DeliveryStatus.PAID, True, 1),
        ("organisation", DeliveryStatus.ACCEPTED, False, 0),  # the buyer's word alone
        ("organisation", DeliveryStatus.REJECTED, True, 0),
        ("organisation", DeliveryStatus.RECORDED, True, 0),
        ("own", DeliveryStatus.ACCEPTED, True, 1),
        ("another_member", DeliveryStatus.ACCEPTED, True, 0),
    ],
)
def test_member_deliveries_through_the_organisation_are_its_market_link(
    market: Market,
    coop: Organization,
    make_contract: Any,
    route: str,
    status: str,
    confirmed: bool,
    facts_for_member: int,
) -> None:
    join(coop, market.household)
    join(coop, market.other_household)
    if route == "own":
        contract, who = make_contract(), market.household
    else:
        contract = org_contract(coop)
        who = market.household if route == "organisation" else market.other_household
    delivery = deliver(contract, who)
    if status != DeliveryStatus.RECORDED:
        to = DeliveryStatus.REJECTED if status == DeliveryStatus.REJECTED else "accepted"
        reason = "moisture" if to == DeliveryStatus.REJECTED else ""
        delivery = services.delivery_transition(
            actor=SYSTEM, delivery=delivery, to=to, rejection_reason=reason
        )
    if status == DeliveryStatus.PAID:
        services.delivery_transition(
            actor=SYSTEM, delivery=delivery, to="paid", payment_reference="T", paid_on=today()
        )
    if not confirmed:
        Delivery.objects.filter(pk=delivery.pk).update(confirmed_at=None)
    facts = evidence.gather([market.household.pk], today()).get(market.household.pk, [])
    accepted = [f for f in facts if f.kind == evidence.DELIVERY_ACCEPTED]
    assert len(accepted) == facts_for_member
    if accepted:
        assert accepted[0].quantity == Decimal("100")


@pytest.mark.parametrize(
    ("who_delivers", "outcome", "stage"),
    [
        ("member", "accepted", "market_linked"),
        ("member", "rejected", "licit_production"),
        ("member", "recorded", "licit_production"),
        ("other_member", "accepted", "licit_production"),
    ],
)
def test_the_engine_links_a_member_through_its_organisation(
    market: Market, coop: Organization, who_delivers: str, outcome: str, stage: str
) -> None:
    """The engine's stage for a member with the rungs below (agreement, a coca-free visit with
    2 ha of licit crops): market-linked by its own accepted delivery through the cooperative,
    not by a rejected or unreviewed one, nor by another member's."""
    from farmers.models import Household
    from farmers.transition.engine import recompute_households
    from farmers.transition.facts import Visit
    from tests.farmers.transition_helpers import add_evidence

    member = market.household
    add_evidence(
        member,
        agreements=[date(2026, 1, 10)],
        visits=[Visit(on=date(2026, 2, 1), coca_ha=Decimal("0"), licit_ha=Decimal("2"))],
    )
    join(coop, member)
    join(coop, market.other_household)
    contract = org_contract(coop)
    seller = member if who_delivers == "member" else market.other_household
    delivery = deliver(contract, seller)
    if outcome != "recorded":
        services.delivery_transition(
            actor=SYSTEM,
            delivery=delivery,
            to=outcome,
            rejection_reason="moisture" if outcome == "rejected" else "",
        )
    recompute_households([member.pk], today())
    member = Household.objects.get(pk=member.pk)
    assert member.stage == stage
    if stage == "market_linked":
        assert member.milestones["market_linked"] == today().isoformat()


def test_the_provider_stays_one_query_with_organisation_deliveries(
    market: Market, coop: Organization
) -> None:
    members = [market.household, market.other_household] + [
        make_household(market.program, given="Eva", surnames=f"Rojas {n}") for n in range(8)
    ]
    contract = org_contract(coop)
    for member in members:
        join(coop, member)
        delivery = deliver(contract, member)
        services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    with CaptureQueriesContext(connection) as queries:
        facts = market_facts([m.pk for m in members], today())
    assert len(queries.captured_queries) == 1
    assert sorted(f.household_id for f in facts) == sorted(m.pk for m in members)


def test_accepting_a_member_delivery_queues_the_member_recompute(
    market: Market, coop: Organization, monkeypatch: Any
) -> None:
    from markets.services import deliveries

    calls: list[list[Any]] = []
    monkeypatch.setattr(deliveries, "recompute_on_commit", lambda ids: calls.append(list(ids)))
    join(coop, market.household)
    delivery = deliver(org_contract(coop), market.household)
    services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    assert calls == [[market.household.pk]]


# --- an organisation buys from its members ------------------------------------------------------


def test_an_organisation_buys_from_its_members_only(
    market: Market, coop: Organization, staff_client: APIClient
) -> None:
    body = contract_body(buyer=coop.code, household=str(market.household.pk))
    refused = staff_client.post(CONTRACTS, body, format="json")
    assert refused.status_code == 400 and errors(refused) == {"household": ["not_a_member"]}
    join(coop, market.household)
    created = staff_client.post(CONTRACTS, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["buyer"] == coop.code
    # The organisation's key reaches its members (and sees its purchase).
    coop_key = key_client(coop, BUYER_SCOPES)
    assert coop_key.get(f"{CONTRACTS}{created.json()['id']}/").status_code == 200
    again = coop_key.post(CONTRACTS, body, format="json")
    assert again.status_code == 201, again.json()
    stranger = coop_key.post(
        CONTRACTS,
        contract_body(buyer=coop.code, household=str(market.other_household.pk)),
        format="json",
    )
    assert stranger.status_code == 400 and errors(stranger) == {"household": ["does_not_exist"]}


# --- EUDR file and webhooks ---------------------------------------------------------------------


def test_the_eudr_file_of_an_organisation_lists_the_members_that_delivered(
    market: Market, coop: Organization
) -> None:
    lon, lat = -73.83, -12.52
    delivered = give_plot(
        market.household, {"type": "Polygon", "coordinates": [ring(lon, lat, 100)]}
    )
    give_plot(
        market.other_household,
        {"type": "Polygon", "coordinates": [ring(lon + 0.01, lat, 100)]},
    )
    join(coop, market.household)
    join(coop, market.other_household)  # a member that never delivered under this contract
    contract = org_contract(coop)
    deliver(contract, market.household)
    built = eudr.eudr_collection(contract)
    assert [f["properties"]["plot_id"] for f in built.data["features"]] == [str(delivered.pk)]
    assert built.data["features"][0]["properties"]["ProducerName"] == market.household.head_name
    assert built.household_ids == [market.household.pk]
    exporter = key_client(market.exporter, BUYER_SCOPES)
    response = exporter.get(f"{CONTRACTS}{contract.pk}/eudr/")
    assert response.status_code == 200
    assert len(response.json()["features"]) == 1
    # Rejected deliveries do not make a supplier.
    rejected = deliver(contract, market.other_household)
    services.delivery_transition(
        actor=SYSTEM, delivery=rejected, to="rejected", rejection_reason="moisture"
    )
    assert len(eudr.eudr_collection(contract).data["features"]) == 1


def test_contract_webhook_payload_names_the_selling_organisation(
    market: Market, coop: Organization
) -> None:
    from registry.models import WebhookEvent

    contract = org_contract(coop)
    event = WebhookEvent.objects.filter(subject_id=contract.pk).latest("pk")
    for organization in (market.exporter, coop):  # the buyer and the seller both see it
        key, _raw = api_key_create(organization=organization, scopes=BUYER_SCOPES)
        data = contract_data(event, Actor.for_api_key(key))
        assert data is not None
        assert data["household"] is None and data["seller_organization"] == coop.code
        assert data["status"] == "active"
    key, _raw = api_key_create(organization=market.coop, scopes=BUYER_SCOPES)
    assert contract_data(event, Actor.for_api_key(key)) is None


# --- admin and field pages ----------------------------------------------------------------------


@pytest.fixture
def admin_client(staff_user: Any, market: Market) -> Client:
    from registry.choices import Role
    from registry.services import membership_assign, role_groups_sync

    role_groups_sync()
    membership_assign(user=staff_user, organization=market.agency, role=Role.PROGRAM_STAFF)
    staff_user.is_staff = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_admin_page_of_an_organisation_lists_its_members(
    admin_client: Client, market: Market, coop: Organization
) -> None:
    join(coop, market.household, role="treasurer")
    changelist = admin_client.get(reverse("admin:markets_producerorganization_changelist"))
    assert changelist.status_code == 200
    assert coop.name in changelist.content.decode()
    page = admin_client.get(
        reverse("admin:markets_producerorganization_change", args=[coop.pk]),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert market.household.code in html and "Tesorero(a)" in html


MEMBERSHIP_ADD = "admin:markets_producermembership_add"


def _form_errors(response: Any) -> dict[str, list[str]]:
    """``{field: [codes]}`` of the admin form on a page that was not saved."""
    assert response.status_code == 200
    form = response.context["adminform"].form
    return {attr: [e.code for e in errs.as_data()] for attr, errs in form.errors.items()}


def _change_data(membership: ProducerMembership, **values: Any) -> dict[str, Any]:
    return {
        "role": membership.role,
        "left_on": "",
        "edited_version": membership.version,
        **values,
    }


def test_admin_adds_a_member_through_the_service(
    admin_client: Client, market: Market, coop: Organization
) -> None:
    from registry.models import ChangeRecord

    form = admin_client.get(
        reverse(MEMBERSHIP_ADD), {"organization": coop.pk}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert form.status_code == 200
    assert "Se afilió el" in form.content.decode() and "dd/mm/aaaa" in form.content.decode()
    assert form.context["adminform"].form.initial["organization"] == str(coop.pk)
    # Days are typed dd/mm/aaaa, whatever the language of the page.
    done = admin_client.post(
        reverse(MEMBERSHIP_ADD),
        {
            "organization": coop.pk,
            "household": market.household.pk,
            "role": "treasurer",
            "joined_on": "01/02/2026",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert done.status_code == 302
    membership = ProducerMembership.objects.get()
    assert (membership.organization, membership.household) == (coop, market.household)
    assert membership.role == "treasurer" and membership.joined_on == date(2026, 2, 1)
    record = ChangeRecord.objects.get(object_id=str(membership.pk))
    assert record.action == "create" and record.channel == "admin"
    assert record.changes["joined_on"] == "2026-02-01"


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("future", "joined_on", "future_date"),
        ("before enrolment", "joined_on", "before_enrolment"),
        ("already member", "household", "already_member"),
        ("not a producer organisation", "organization", "invalid_choice"),
        ("not a date", "joined_on", "invalid"),
    ],
)
def test_admin_add_refusals_are_field_errors_and_write_nothing(
    admin_client: Client, market: Market, coop: Organization, case: str, field: str, code: str
) -> None:
    from registry.models import ChangeRecord

    if case == "already member":
        join(coop, market.household)
    joined = {
        "future": (today() + timedelta(days=1)).strftime("%d/%m/%Y"),
        "before enrolment": (ENROLLED - timedelta(days=1)).strftime("%d/%m/%Y"),
        "not a date": "31/02/2026",
    }.get(case, "01/02/2026")
    organization = market.coop if case == "not a producer organisation" else coop
    before = (ProducerMembership.objects.count(), ChangeRecord.objects.count())
    response = admin_client.post(
        reverse(MEMBERSHIP_ADD),
        {
            "organization": organization.pk,
            "household": market.household.pk,
            "role": "member",
            "joined_on": joined,
        },
    )
    assert code in _form_errors(response).get(field, [])
    assert (ProducerMembership.objects.count(), ChangeRecord.objects.count()) == before


def test_admin_does_not_offer_nor_take_a_household_out_of_the_area(
    admin_client: Client, market: Market, coop: Organization
) -> None:
    outside = make_household(market.other_program, given="Rosa")
    form = admin_client.get(reverse(MEMBERSHIP_ADD)).context["adminform"].form
    offered = form.fields["household"].queryset
    assert offered.filter(pk=market.household.pk).exists()
    assert not offered.filter(pk=outside.pk).exists()
    response = admin_client.post(
        reverse(MEMBERSHIP_ADD),
        {
            "organization": coop.pk,
            "household": outside.pk,
            "role": "member",
            "joined_on": "01/02/2026",
        },
    )
    assert "invalid_choice" in _form_errors(response)["household"]
    assert not ProducerMembership.objects.exists()


def test_admin_changes_a_members_role_and_records_the_day_it_left(
    admin_client: Client, market: Market, coop: Organization
) -> None:
    from registry.models import ChangeRecord

    membership = join(coop, market.household, joined_on=date(2026, 2, 1))
    url = reverse("admin:markets_producermembership_change", args=[membership.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, _change_data(membership, role="president")).status_code == 302
    membership.refresh_from_db()
    assert membership.role == "president" and membership.version == 2
    assert admin_client.post(url, _change_data(membership, left_on="01/03/2026")).status_code == 302
    membership.refresh_from_db()
    assert membership.left_on == date(2026, 3, 1) and membership.role == "president"
    changes = list(
        ChangeRecord.objects.filter(object_id=str(membership.pk), action="update")
        .order_by("at")
        .values_list("changes", flat=True)
    )
    assert changes == [
        {"role": ["member", "president"]},
        {"left_on": [None, "2026-03-01"]},
    ]
    # A membership that has ended stays ended: the day it left is no longer editable.
    page = admin_client.get(url)
    assert "left_on" not in page.context["adminform"].form.fields


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"left_on": "15/01/2026"}, "left_on", "before_joined"),
        ({"left_on": "future"}, "left_on", "future_date"),
        ({"role": "king"}, "role", "invalid_choice"),
        ({"role": "president", "edited_version": 0}, "__all__", "stale_version"),
    ],
)
def test_admin_change_refusals_are_field_errors(
    admin_client: Client,
    market: Market,
    coop: Organization,
    values: dict[str, Any],
    field: str,
    code: str,
) -> None:
    membership = join(coop, market.household, joined_on=date(2026, 2, 1))
    if values.get("left_on") == "future":
        values = {"left_on": (today() + timedelta(days=1)).strftime("%d/%m/%Y")}
    url = reverse("admin:markets_producermembership_change", args=[membership.pk])
    response = admin_client.post(url, _change_data(membership, **values))
    assert code in _form_errors(response).get(field, [])
    fresh = ProducerMembership.objects.get(pk=membership.pk)
    assert (fresh.role, fresh.left_on, fresh.version) == ("member", None, 1)


def test_organisation_page_links_its_members_and_adding_one(
    admin_client: Client, market: Market, coop: Organization
) -> None:
    membership = join(coop, market.household)
    page = admin_client.get(
        reverse("admin:markets_producerorganization_change", args=[coop.pk]),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    html = page.content.decode()
    assert reverse("admin:markets_producermembership_change", args=[membership.pk]) in html
    assert f"{reverse(MEMBERSHIP_ADD)}?organization={coop.pk}" in html
    assert "Añadir un miembro" in html


def test_field_page_shows_the_organisation_and_records_a_membership(
    staff_user: Any, market: Market, coop: Organization
) -> None:
    client = Client()
    client.force_login(staff_user)
    url = reverse("field:membership_join", args=[market.household.pk])
    bad = client.post(url, {"organization": coop.code, "joined_on": "31/02/2026"})
    assert bad.status_code == 400
    assert not ProducerMembership.objects.exists()
    done = client.post(
        url, {"organization": coop.code, "role": "member", "joined_on": "01/02/2026"}
    )
    assert done.status_code == 302
    membership = ProducerMembership.objects.get()
    assert membership.joined_on == date(2026, 2, 1) and membership.organization == coop
    page = client.get(reverse("field:household", args=[market.household.pk]))
    assert coop.name in page.content.decode()


# --- indicators ---------------------------------------------------------------------------------


def test_indicator_of_members_and_sales_through_organisations(
    market: Market, coop: Organization
) -> None:
    from farmers.reporting.indicators import IndicatorQuery, indicator_rows

    members = [market.household, market.other_household] + [
        make_household(market.program, given="Eva", surnames=f"Rojas {n}") for n in range(5)
    ]
    contract = org_contract(coop)
    for member in members:
        join(coop, member)
    for member in members[:3]:
        delivery = deliver(contract, member, kg="100")
        services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    deliver(contract, members[3])  # recorded only: not a sale yet
    by_program = indicator_rows(
        actor=SYSTEM,
        query=IndicatorQuery(metric="producer_organisations", group_by=("program",)),
    )
    assert by_program == [
        {
            "program": market.program.code,
            "households": 7,
            "organisations": 1,
            "delivered_kg": "300.00",
            "sales_pen": "2850.00",
            "suppressed": False,
        }
    ]
    # By district: Kimbiri has one member (suppressed), and so Pichari too (its complement,
    # since the programme's total is published).
    by_district = indicator_rows(
        actor=SYSTEM,
        query=IndicatorQuery(metric="producer_organisations", group_by=("district",)),
    )
    assert [(c["district"], c["households"], c["suppressed"]) for c in by_district] == [
        (KIMBIRI, None, True),
        (PICHARI, None, True),
    ]
    shown = indicator_rows(
        actor=SYSTEM,
        query=IndicatorQuery(
            metric="producer_organisations", group_by=("district",), suppress=False
        ),
    )
    assert [(c["district"], c["households"]) for c in shown] == [(KIMBIRI, 1), (PICHARI, 6)]
    # A period before the deliveries: members, but no sales.
    before = indicator_rows(
        actor=SYSTEM,
        query=IndicatorQuery(
            metric="producer_organisations",
            group_by=("program",),
            date_to=today() - timedelta(days=1),
        ),
    )
    assert (before[0]["households"], before[0]["sales_pen"]) == (7, "0.00")


def test_indicator_through_the_api(market: Market, coop: Organization) -> None:
    client = key_client(market.agency, [Scope.INDICATORS_READ])
    response = client.get("/api/v1/indicators/", {"metric": "producer_organisations"})
    assert response.status_code == 200, response.json()
    assert response.json()["results"] == []
    join(coop, market.household)
    body = client.get("/api/v1/indicators/", {"metric": "producer_organisations"}).json()
    assert body["group_by"] == ["program"]
    assert body["results"] == [
        {
            "program": market.program.code,
            "households": None,
            "organisations": None,
            "delivered_kg": None,
            "sales_pen": None,
            "suppressed": True,
        }
    ]


# --- import -------------------------------------------------------------------------------------


def test_memberships_import_from_a_file(market: Market, coop: Organization) -> None:
    from markets.importing import import_memberships

    data = (
        "cooperativa,codigo_hogar,cargo,fecha_de_afiliacion\n"
        f"{coop.code},{market.household.code},presidente,01/02/2026\n"
        f"{coop.code},{market.other_household.code},,2025-01-01\n"
        f"no-such,{market.household.code},,01/02/2026\n"
        f"{coop.code},HH-NOPE,,01/02/2026\n"
    ).encode()
    dry = import_memberships(actor=SYSTEM, source=data, filename="m.csv", dry_run=True)
    assert not ProducerMembership.objects.exists()
    report = import_memberships(actor=SYSTEM, source=data, filename="m.csv", dry_run=False)
    assert [(r.outcome, [(e.column, e.code) for e in r.errors]) for r in report.rows] == [
        ("created", []),
        ("error", [("joined_on", "before_enrolment")]),
        ("error", [("organization", "does_not_exist")]),
        ("error", [("household", "does_not_exist")]),
    ]
    assert [r.outcome for r in dry.rows] == [r.outcome for r in report.rows]
    fixed = data.replace(b"2025-01-01", b"2026-01-10").replace(
        b",,2026-01-10", b",tesorera,2026-01-10"
    )
    report = import_memberships(actor=SYSTEM, source=fixed, filename="m.csv", dry_run=False)
    assert [r.outcome for r in report.rows][:2] == ["already_imported", "created"]
    assert ProducerMembership.objects.get(household=market.other_household).role == "treasurer"
    assert ProducerMembership.objects.get(household=market.household).role == "president"
    again = import_memberships(actor=SYSTEM, source=fixed, filename="m.csv", dry_run=False)
    assert [r.outcome for r in again.rows][:2] == ["already_imported", "already_imported"]
    assert ProducerMembership.objects.count() == 2


def test_memberships_follow_a_merged_household(market: Market, coop: Organization) -> None:
    """Both registrations were members: the source's open membership ends (the survivor's
    stands: one open membership per organisation) and moves to the survivor with its history."""
    from farmers import services as farmers_services

    other = OrganizationFactory.create(
        code="asoc-cafe",
        kind=OrganizationKind.PRODUCER_ORG,
        district=District.objects.get(pk=KIMBIRI),
    )
    kept = join(coop, market.household)
    ended = join(coop, market.other_household, joined_on=date(2026, 2, 1))
    moved = join(other, market.other_household)
    farmers_services.household_merge(
        actor=SYSTEM, source=market.other_household, target=market.household
    )
    rows = {m.pk: m for m in ProducerMembership.objects.all()}
    assert {m.household_id for m in rows.values()} == {market.household.pk}
    assert rows[kept.pk].left_on is None
    assert rows[ended.pk].left_on == today()
    assert rows[moved.pk].left_on is None and rows[moved.pk].district_id == PICHARI
    assert (
        ProducerMembership.objects.filter(
            household=market.household, organization=coop, left_on__isnull=True
        ).count()
        == 1
    )
