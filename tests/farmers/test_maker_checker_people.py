"""Maker–checker compares people, not keys (issue 13, point 5): a second key of the same
organization does not approve its own organization's registrations nor confirm its visits, and
one person cannot check their own record by switching between the session and a key."""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from farmers.models import Household, Verification
from registry.choices import Role, Scope
from registry.models import ApiKey, Organization
from registry.services import api_key_create, membership_assign
from tests.factories import UserFactory
from tests.farmers.conftest import WRITE, household_payload
from tests.farmers.evidence_helpers import attach_photo, give_plot

pytestmark = pytest.mark.django_db
HOUSEHOLDS = "/api/v1/households/"
VISITS = "/api/v1/verifications/"
REVIEW = [*WRITE, Scope.HOUSEHOLDS_REVIEW]


def key(organization: Organization, scopes: Sequence[str], acts_for: Any = None) -> APIClient:
    _api_key, raw = api_key_create(organization=organization, scopes=scopes, acts_for_user=acts_for)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def person(organization: Organization, *roles: str) -> Any:
    user = UserFactory.create()
    for role in roles:
        membership_assign(user=user, organization=organization, role=role)
    return user


def codes(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def register(client: APIClient) -> dict[str, Any]:
    response = client.post(HOUSEHOLDS, household_payload(), format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def visit(client: APIClient, household_id: str) -> dict[str, Any]:
    # A coca-free visit is confirmed with a GPS fix beside a plot of the family and a photo.
    give_plot(household_id, lon=-73.97, lat=-12.52)
    response = client.post(
        VISITS,
        {
            "household": household_id,
            "visited_on": "2026-09-14",
            "method": "field_visit",
            "coca_ha": "0",
            "licit_crops": [{"crop": "cacao", "ha": "1.2"}],
            "location": {"lat": -12.52, "lon": -73.97},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    attach_photo(response.json()["id"])
    return dict(response.json())


def test_a_second_key_of_the_same_organization_is_not_a_checker(partner: Organization) -> None:
    """The reproduction of the finding: two automation keys of one organization, both with
    households:review. The second approved the first one's registrations and confirmed its
    visits; now both are refused."""
    first, second = key(partner, REVIEW), key(partner, REVIEW)
    household = register(first)
    approve = second.post(f"{HOUSEHOLDS}{household['id']}/transition/", {"to": "active"})
    assert approve.status_code == 403, approve.content
    assert codes(approve) == {(None, "maker_checker")}
    assert Household.objects.get(pk=household["id"]).status == "pending_review"

    # A person's key of the same organization may approve (another person checks).
    checker = key(partner, REVIEW, acts_for=person(partner, Role.SUPERVISOR))
    assert (
        checker.post(f"{HOUSEHOLDS}{household['id']}/transition/", {"to": "active"}).status_code
        == 200
    )
    recorded = visit(first, household["id"])
    confirm = second.post(f"{VISITS}{recorded['id']}/transition/", {"to": "confirmed"})
    assert confirm.status_code == 403, confirm.content
    assert codes(confirm) == {(None, "maker_checker")}
    assert Verification.objects.get(pk=recorded["id"]).status == "pending"
    ok = checker.post(f"{VISITS}{recorded['id']}/transition/", {"to": "confirmed"})
    assert ok.status_code == 200, ok.content


def test_an_automation_of_another_organization_may_check(
    partner: Organization, program: Any
) -> None:
    from registry.models import District
    from tests.factories import OrganizationFactory

    other = OrganizationFactory.create(code="revisora", kind="implementer")
    other.districts.set(District.objects.filter(ubigeo="080910"))
    other.programs.add(program)
    household = register(key(partner, REVIEW))
    response = key(other, REVIEW).post(
        f"{HOUSEHOLDS}{household['id']}/transition/", {"to": "active"}
    )
    assert response.status_code == 200, response.content


def test_the_same_person_through_the_session_and_a_key(partner: Organization) -> None:
    """A person who registered through the session cannot approve with a key acting for them,
    and a visit recorded through their key cannot be confirmed in their session."""
    both = person(partner, Role.FIELD_OFFICER, Role.SUPERVISOR)
    session = APIClient()
    session.force_login(both)
    own_key = key(partner, REVIEW, acts_for=both)

    household = register(session)
    refused = own_key.post(f"{HOUSEHOLDS}{household['id']}/transition/", {"to": "active"})
    assert refused.status_code == 403, refused.content
    assert codes(refused) == {(None, "maker_checker")}

    other_key = key(partner, REVIEW, acts_for=person(partner, Role.SUPERVISOR))
    assert (
        other_key.post(f"{HOUSEHOLDS}{household['id']}/transition/", {"to": "active"}).status_code
        == 200
    )
    recorded = visit(own_key, household["id"])
    refused_visit = session.post(f"{VISITS}{recorded['id']}/transition/", {"to": "confirmed"})
    assert refused_visit.status_code == 403, refused_visit.content
    assert codes(refused_visit) == {(None, "maker_checker")}
    assert (
        other_key.post(f"{VISITS}{recorded['id']}/transition/", {"to": "confirmed"}).status_code
        == 200
    )


def test_a_key_acts_only_for_a_member_of_its_organization(
    partner: Organization, other_partner: Organization
) -> None:
    stranger = person(other_partner, Role.SUPERVISOR)
    with pytest.raises(ValidationError) as refused:
        api_key_create(organization=partner, scopes=REVIEW, acts_for_user=stranger)
    assert "acts_for" in refused.value.message_dict
    member = person(partner, Role.SUPERVISOR)
    api_key, _raw = api_key_create(
        organization=partner, scopes=REVIEW, acts_for_user=member, service=""
    )
    assert (api_key.acts_for_user, api_key.kind) == (member, "person")
    robot, _raw = api_key_create(organization=partner, scopes=WRITE, service="sync  SIG")
    assert (robot.acts_for_user, robot.service, robot.kind) == (None, "sync SIG", "service")


def test_create_api_key_command_acts_for_a_person_or_a_service(partner: Organization) -> None:
    member = person(partner, Role.SUPERVISOR)
    out = StringIO()
    call_command(
        "create_api_key",
        "--organization",
        partner.code,
        "--scopes",
        ",".join(REVIEW),
        "--acts-for",
        member.username,
        stdout=out,
    )
    assert f"acts for {member.username}" in out.getvalue()
    assert ApiKey.objects.filter(acts_for_user=member).count() == 1
    out = StringIO()
    call_command(
        "create_api_key",
        "--organization",
        partner.code,
        "--scopes",
        "households:read",
        "--service",
        "sincronizador",
        stdout=out,
    )
    assert "automation sincronizador" in out.getvalue()
    assert ApiKey.objects.get(service="sincronizador").acts_for_user is None
    with pytest.raises(CommandError, match="Unknown username"):
        call_command(
            "create_api_key",
            "--organization",
            partner.code,
            "--scopes",
            "households:read",
            "--acts-for",
            "nadie",
            stdout=StringIO(),
        )
    outsider = UserFactory.create()
    with pytest.raises(CommandError):
        call_command(
            "create_api_key",
            "--organization",
            partner.code,
            "--scopes",
            "households:read",
            "--acts-for",
            outsider.username,
            stdout=StringIO(),
        )
