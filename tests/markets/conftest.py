"""Fixtures for the markets tests: a programme, approved households, two buyers with keys, an
implementer and programme staff."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from farmers import services as farmers_services
from farmers.choices import HouseholdStatus
from farmers.models import Household
from markets import services
from markets.choices import ContractStatus
from markets.models import Contract
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.models import District, Organization, Program
from registry.services import api_key_create, membership_assign
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

PICHARI, KIMBIRI, SIVIA = "080910", "080907", "050407"
BUYER_SCOPES = [Scope.CONTRACTS_READ, Scope.CONTRACTS_WRITE]
SYSTEM = Actor(unrestricted=True)


def key_client(organization: Organization, scopes: Sequence[str]) -> APIClient:
    """An API client with a fresh key of ``organization``."""
    _key, raw = api_key_create(organization=organization, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


_dni = iter(range(41_000_001, 41_999_999, 7))


def make_household(
    program: Program,
    district: str = PICHARI,
    *,
    approve: bool = True,
    given: str = "Juana",
    surnames: str = "Quispe Huamán",
) -> Household:
    """An (approved) household with a head who has a DNI and a phone, through the services."""
    household, _created = farmers_services.household_register(
        actor=SYSTEM,
        program=program.code,
        district=district,
        community="Natividad",
        members=[
            {
                "given_names": given,
                "surnames": surnames,
                "document_type": "dni",
                "document_number": str(next(_dni)),
                "sex": "f",
                "birth_date": date(1980, 5, 1),
                "relationship": "head",
                "phone": "+51987654321",
            }
        ],
        consent={
            "signed_on": date(2026, 1, 5),
            "purposes": ["registry", "partner_sharing", "buyer_sharing"],
        },
        channel="test",
    )
    if approve:
        household = farmers_services.household_transition(
            actor=SYSTEM, household=household, to=HouseholdStatus.ACTIVE, channel="test"
        )
    return household


@dataclass
class Market:
    """The world of the markets tests."""

    program: Program
    other_program: Program
    agency: Organization
    implementer: Organization
    coop: Organization
    exporter: Organization
    household: Household
    other_household: Household


@pytest.fixture
def market(db: Any) -> Market:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY, ruc="")
    program = ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency)
    other_agency = OrganizationFactory.create(
        code="otra-agencia", kind=OrganizationKind.PROGRAM_AGENCY, ruc=""
    )
    other_program = ProgramFactory.create(code="otro", name="Otro", agency=other_agency)
    implementer = OrganizationFactory.create(code="implementa", kind=OrganizationKind.IMPLEMENTER)
    implementer.districts.set(District.objects.filter(ubigeo__in=[PICHARI, KIMBIRI]))
    implementer.programs.add(program)
    coop, _c = services.buyer_register(
        actor=None,
        code="coop-pangoa",
        name="Cooperativa Agraria Pangoa",
        ruc="20131312955",
        district="120606",
        contact_name="Esther Huamán",
        phone="964 123 456",
        email="acopio@pangoa.example.org",
    )
    exporter, _c = services.buyer_register(
        actor=None, code="exportadora", name="Exportadora VRAEM", ruc="20601234565"
    )
    household = make_household(program)
    other_household = make_household(program, KIMBIRI, given="Wilber", surnames="Condori Ccahuana")
    # The programme offered both families to the cooperative, the first one to the exporter too:
    # buyers reach only the households offered to them.
    for offered, buyer in ((household, coop), (other_household, coop), (household, exporter)):
        services.offer_create(actor=SYSTEM, household=offered, buyer=buyer, channel="test")
    return Market(
        program=program,
        other_program=other_program,
        agency=agency,
        implementer=implementer,
        coop=coop,
        exporter=exporter,
        household=household,
        other_household=other_household,
    )


@pytest.fixture
def coop_client(market: Market) -> APIClient:
    return key_client(market.coop, BUYER_SCOPES)


@pytest.fixture
def exporter_client(market: Market) -> APIClient:
    return key_client(market.exporter, BUYER_SCOPES)


@pytest.fixture
def staff_user(market: Market) -> Any:
    """Programme staff of the agency running PIRDAIS (all scopes, that programme)."""
    user = UserFactory.create(username="personal.devida")
    membership_assign(user=user, organization=market.agency, role=Role.PROGRAM_STAFF)
    return user


@pytest.fixture
def staff_client(staff_user: Any) -> APIClient:
    client = APIClient()
    client.force_login(staff_user)
    return client


@pytest.fixture
def staff(staff_user: Any) -> Actor:
    return Actor.for_user(staff_user)


def today() -> date:
    return timezone.localdate()


def contract_payload(market: Market, **overrides: Any) -> dict[str, Any]:
    """A cacao contract with the cooperative for ``market.household``, season around today."""
    day = today()
    payload: dict[str, Any] = {
        "household": str(market.household.pk),
        "buyer": "coop-pangoa",
        "crop": "cacao",
        "product_form": "cacao_dry",
        "season_start": (day - timedelta(days=60)).isoformat(),
        "season_end": (day + timedelta(days=120)).isoformat(),
        "volume_kg": "1500",
        "price_pen_per_kg": "9.50",
        "certification": "organic",
        "quality_terms": "Humedad máx. 7 %",
    }
    payload.update(overrides)
    return payload


ContractMaker = Callable[..., Contract]


@pytest.fixture
def make_contract(market: Market) -> ContractMaker:
    """``make_contract(status=..., **fields)``: a contract through the services."""

    def make(
        status: str = ContractStatus.ACTIVE, signed_on: Any = "start", **overrides: Any
    ) -> Contract:
        """Signed (when made active) on its season's start unless ``signed_on`` says."""
        day = today()
        fields: dict[str, Any] = {
            "household": market.household.pk,
            "buyer": "coop-pangoa",
            "crop": "cacao",
            "product_form": "cacao_dry",
            "season_start": day - timedelta(days=60),
            "season_end": day + timedelta(days=120),
            "volume_kg": "1500",
            "price_pen_per_kg": "9.50",
        }
        fields.update(overrides)
        contract, _created = services.contract_create(actor=SYSTEM, **fields)
        paths: dict[str, list[str]] = {
            ContractStatus.DRAFT: [],
            ContractStatus.ACTIVE: [ContractStatus.ACTIVE],
            ContractStatus.SUSPENDED: [ContractStatus.ACTIVE, ContractStatus.SUSPENDED],
            ContractStatus.COMPLETED: [ContractStatus.ACTIVE, ContractStatus.COMPLETED],
            ContractStatus.TERMINATED: [ContractStatus.ACTIVE, ContractStatus.TERMINATED],
            ContractStatus.CANCELLED: [ContractStatus.CANCELLED],
        }
        signature = min(contract.season_start, day) if signed_on == "start" else signed_on
        for n, to in enumerate(paths[status]):
            contract = services.contract_transition(
                actor=SYSTEM,
                contract=contract,
                to=to,
                reason="prueba",
                signed_on=signature if to == ContractStatus.ACTIVE and not n else None,
            )
        return contract

    return make
