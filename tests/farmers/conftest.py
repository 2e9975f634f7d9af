"""Fixtures for the farmers tests: a programme, partner organizations and their keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.choices import OrganizationKind, Role, Scope
from registry.models import District, Organization, Program
from registry.services import api_key_create, membership_assign
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

WRITE = [Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE]


@pytest.fixture
def program(db: Any, geography: None) -> Program:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY, ruc="")
    return ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency)


def _org(code: str, districts: list[str], program: Program) -> Organization:
    org = OrganizationFactory.create(code=code, kind=OrganizationKind.IMPLEMENTER)
    org.districts.set(District.objects.filter(ubigeo__in=districts))
    org.programs.add(program)
    return org


@pytest.fixture
def partner(program: Program) -> Organization:
    """An implementer working in Pichari and Kimbiri (Cusco, VRAEM)."""
    return _org("implementa", ["080910", "080907"], program)


@pytest.fixture
def other_partner(program: Program) -> Organization:
    """An implementer working in Sivia and Llochegua (Ayacucho, VRAEM)."""
    return _org("otra", ["050407", "050408"], program)


ClientMaker = Callable[..., APIClient]


def reviewer_person(organization: Organization) -> Any:
    """A new supervisor of ``organization`` (a person a reviewer's key can act for)."""
    user = UserFactory.create()
    membership_assign(user=user, organization=organization, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def client_for(partner: Organization) -> ClientMaker:
    """``client_for(scopes, org=partner)`` → an API client with a fresh key."""

    def make(
        scopes: list[str] | None = None, org: Organization | None = None, reviewer: bool = False
    ) -> APIClient:
        # ``reviewer``: a key acting for a supervisor of the organization (maker–checker compares
        # people: a second automation key of the same organization is not a second person).
        organization = org or partner
        _key, raw = api_key_create(
            organization=organization,
            scopes=scopes or WRITE,
            acts_for_user=reviewer_person(organization) if reviewer else None,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        return client

    return make


def household_payload(**overrides: Any) -> dict[str, Any]:
    """A valid registration: a head and a spouse in Pichari, with consent."""
    payload: dict[str, Any] = {
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "members": [
            {
                "given_names": "Juana",
                "surnames": "Quispe Huamán",
                "document_type": "dni",
                "document_number": "10117410",
                "sex": "f",
                "birth_date": "1980-05-01",
                "relationship": "head",
                "phone": "987 654 321",
            },
            {
                "given_names": "Pedro",
                "surnames": "Mamani Ccori",
                "document_type": "dni",
                "document_number": "42345678",
                "sex": "m",
                "birth_date": "1978-11-20",
                "relationship": "spouse",
            },
        ],
        "consent": {"signed_on": "2025-11-02", "purposes": ["registry", "partner_sharing"]},
    }
    payload.update(overrides)
    return payload
