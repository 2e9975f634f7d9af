"""Fixtures for the field pages: a programme, an implementer in Pichari and Kimbiri, its field
officer (a session user), and households registered through the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from farmers.models import Household
from farmers.services import household_register
from registry.actors import Actor
from registry.choices import OrganizationKind, Role
from registry.geography import load_geography
from registry.models import Department, District, Membership, Organization, Program, Province
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

PASSWORD = "clave-segura-123"


@pytest.fixture
def program(db: Any) -> Program:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY, ruc="")
    return ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency)


def _org(code: str, districts: list[str], program: Program) -> Organization:
    org = OrganizationFactory.create(code=code, kind=OrganizationKind.IMPLEMENTER)
    org.districts.set(District.objects.filter(ubigeo__in=districts))
    org.programs.add(program)
    return org


@pytest.fixture
def geography(db: Any) -> None:
    """The INEI districts (a migration loads them; a transactional test's flush removes them)."""
    if not District.objects.exists():
        load_geography(Department, Province, District)


@pytest.fixture
def partner(program: Program, geography: None) -> Organization:
    """An implementer working in Pichari and Kimbiri (Cusco, VRAEM)."""
    return _org("implementa", ["080910", "080907"], program)


@pytest.fixture
def other_partner(program: Program, geography: None) -> Organization:
    """An implementer working in Sivia and Llochegua (Ayacucho, VRAEM)."""
    return _org("otra", ["050407", "050408"], program)


def make_officer(org: Organization, username: str, role: str = Role.FIELD_OFFICER) -> Any:
    user = UserFactory.create(username=username, first_name="Rosa", last_name="Quispe")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def officer(partner: Organization) -> Any:
    """A field officer of the implementer (its districts)."""
    return make_officer(partner, "tecnico")


@pytest.fixture
def other_officer(other_partner: Organization) -> Any:
    return make_officer(other_partner, "tecnico-otro")


@pytest.fixture
def officer_client(officer: Any) -> Client:
    client = Client()
    client.force_login(officer)
    return client


MEMBERS = [
    {
        "given_names": "Juana",
        "surnames": "Quispe Huamán",
        "document_type": "dni",
        "document_number": "10117410",
        "sex": "f",
        "birth_date": date(1980, 5, 1),
        "relationship": "head",
        "phone": "987654321",
    },
    {
        "given_names": "Pedro",
        "surnames": "Mamani Ccori",
        "document_type": "dni",
        "document_number": "42345678",
        "sex": "m",
        "birth_date": date(1978, 11, 20),
        "relationship": "spouse",
    },
]

HouseholdMaker = Callable[..., Household]


@pytest.fixture
def make_household(program: Program) -> HouseholdMaker:
    """``make_household(user, district=..., dni=..., given=...)`` → a household registered by the
    service as that user would."""

    def make(
        user: Any,
        *,
        district: str = "080910",
        dni: str = "10117410",
        given: str = "Juana",
        surnames: str = "Quispe Huamán",
    ) -> Household:
        members = [dict(MEMBERS[0], document_number=dni, given_names=given, surnames=surnames)]
        household, _created = household_register(
            actor=Actor.for_user(user),
            program=program.code,
            district=district,
            community="Natividad",
            members=members,
            consent={"signed_on": date(2026, 1, 5), "purposes": ["registry"]},
        )
        return household

    return make
