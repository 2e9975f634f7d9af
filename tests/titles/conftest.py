"""Fixtures for the titles tests: a programme, an implementer, a titling authority, people in
each role, active households with plots, and helpers to walk a file through its workflow."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from farmers import services as farmers_services
from farmers.models import Household, Plot
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.models import District, Organization, Program
from registry.services import api_key_create, membership_assign
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from titles import services
from titles.choices import TitleDocumentType, TitleStatus
from titles.models import TitleApplication

S = TitleStatus
PDF = b"%PDF-1.4\n% test\n%%EOF\n"
TITLES_WRITE = [Scope.TITLES_READ, Scope.TITLES_WRITE]


@pytest.fixture
def program(db: Any) -> Program:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY, ruc="")
    return ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency)


@pytest.fixture
def partner(program: Program) -> Organization:
    """An implementer working in Pichari and Kimbiri (Cusco, VRAEM)."""
    org = OrganizationFactory.create(code="implementa", kind=OrganizationKind.IMPLEMENTER)
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    org.programs.add(program)
    return org


@pytest.fixture
def authority(program: Program) -> Organization:
    """The regional agrarian directorate of Cusco, for Pichari and Kimbiri."""
    org = OrganizationFactory.create(
        code="dra-cusco", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
    )
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    return org


@pytest.fixture
def other_authority(program: Program) -> Organization:
    """The directorate of Ayacucho (Sivia, Llochegua)."""
    org = OrganizationFactory.create(
        code="dra-ayacucho", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
    )
    org.districts.set(District.objects.filter(ubigeo__in=["050407", "050408", "080910"]))
    return org


@pytest.fixture
def officer(partner: Organization) -> Any:
    user = UserFactory.create(username="tecnico")
    membership_assign(user=user, organization=partner, role=Role.FIELD_OFFICER)
    return user


@pytest.fixture
def supervisor(partner: Organization) -> Any:
    user = UserFactory.create(username="supervisor")
    membership_assign(user=user, organization=partner, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def staff(program: Program) -> Any:
    user = UserFactory.create(username="personal")
    membership_assign(user=user, organization=program.agency, role=Role.PROGRAM_STAFF)
    return user


def key_client(org: Organization, scopes: list[Any]) -> APIClient:
    _key, raw = api_key_create(organization=org, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def user_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def clients(
    partner: Organization, authority: Organization, officer: Any, staff: Any
) -> dict[str, APIClient]:
    """API clients by party: the field officer, programme staff, the file's authority key, an
    implementer's key, another authority's key."""
    return {
        "officer": user_client(officer),
        "programme": user_client(staff),
        "authority": key_client(authority, TITLES_WRITE),
        "implementer": key_client(partner, TITLES_WRITE),
    }


def square(lon: float, lat: float, side: float = 0.001) -> dict[str, Any]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


_DNI = iter(range(41_000_000, 41_999_999, 7))


def make_household(
    program: Program, district: str = "080910", *, lon: float = -73.97, lat: float = -12.52
) -> tuple[Household, Plot]:
    """An active household with one plot (made through the farmers services)."""
    maker = Actor(user=UserFactory.create(), unrestricted=True)
    checker = Actor(user=UserFactory.create(), unrestricted=True)
    household, _created = farmers_services.household_register(
        actor=maker,
        program=program.code,
        district=district,
        members=[
            {
                "given_names": "Juana",
                "surnames": "Quispe Huamán",
                "document_type": "dni",
                "document_number": str(next(_DNI)),
                "sex": "f",
                "birth_date": date(1980, 5, 1),
                "relationship": "head",
            }
        ],
        consent={"signed_on": date(2026, 1, 2), "purposes": ["registry", "partner_sharing"]},
    )
    household = farmers_services.household_transition(
        actor=checker, household=household, to="active"
    )
    plot, _created = farmers_services.plot_create(
        actor=maker,
        household=household.pk,
        name="Chacra",
        tenure="possession",
        geometry=square(lon, lat),
    )
    return household, plot


@pytest.fixture
def household_plot(program: Program) -> tuple[Household, Plot]:
    return make_household(program)


SYSTEM = Actor(unrestricted=True)


# The filing documents of an adjudication (the default procedure), and a possession old enough.
FILING_DOCUMENTS = (
    TitleDocumentType.ID_COPY,
    TitleDocumentType.PROOF_OF_POSSESSION,
    TitleDocumentType.PLOT_PLAN,
    TitleDocumentType.NEIGHBOUR_STATEMENT,
)
POSSESSION_SINCE = date(2012, 3, 1)


def attach(application: TitleApplication, *kinds: str) -> None:
    for kind in kinds:
        services.document_upload(
            actor=SYSTEM, application=application.pk, type=kind, file=ContentFile(PDF, "d.pdf")
        )


PATH_TO: dict[str, list[str]] = {
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.SURVEYED: [S.SUBMITTED, S.SURVEYED],
    S.LEGAL_REVIEW: [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW],
    S.PUBLIC_NOTICE: [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE],
    S.OBJECTED: [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE],
    S.TITLE_ISSUED: [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE, S.TITLE_ISSUED],
    S.SENT_TO_SUNARP: [
        S.SUBMITTED,
        S.SURVEYED,
        S.LEGAL_REVIEW,
        S.PUBLIC_NOTICE,
        S.TITLE_ISSUED,
        S.SENT_TO_SUNARP,
    ],
    S.SUNARP_OBSERVED: [
        S.SUBMITTED,
        S.SURVEYED,
        S.LEGAL_REVIEW,
        S.PUBLIC_NOTICE,
        S.TITLE_ISSUED,
        S.SENT_TO_SUNARP,
        S.SUNARP_OBSERVED,
    ],
    S.REGISTERED: [
        S.SUBMITTED,
        S.SURVEYED,
        S.LEGAL_REVIEW,
        S.PUBLIC_NOTICE,
        S.TITLE_ISSUED,
        S.SENT_TO_SUNARP,
        S.REGISTERED,
    ],
    S.OBSERVED: [S.SUBMITTED, S.OBSERVED],
    S.REJECTED: [S.SUBMITTED, S.REJECTED],
    S.WITHDRAWN: [S.WITHDRAWN],
}
EXTRA: dict[str, dict[str, Any]] = {
    S.REJECTED: {"reason": "litigation"},
    S.WITHDRAWN: {"note": "La familia desiste."},
    S.OBSERVED: {"note": "Falta la firma de los colindantes."},
    S.SUNARP_OBSERVED: {"note": "Corregir el área."},
}


def registration(day: date) -> dict[str, Any]:
    return {"partida_number": "11012345", "registered_on": day}


def file_in_state(
    household: Household, plot: Plot, authority: Organization, state: str, **kwargs: Any
) -> TitleApplication:
    """A file walked (by an unrestricted actor) to ``state``; with documents for every step; a
    public notice that has already closed, so that the next move is possible."""
    application, _created = services.title_application_create(
        actor=SYSTEM,
        household=household.pk,
        plot=plot.pk,
        authority=authority.code,
        possession_started_on=POSSESSION_SINCE,
    )
    attach(application, *FILING_DOCUMENTS, TitleDocumentType.SURVEY_RECORD)
    start = date.today() - timedelta(days=200)
    day = start
    for target in PATH_TO[state]:
        day += timedelta(days=5)
        extra = dict(EXTRA.get(target, {}))
        if target == S.REGISTERED:
            extra = registration(day)
        if target == S.TITLE_ISSUED:
            # The day after the notice's last day (30 working days after it opened).
            assert application.notice_ends_on is not None
            day = application.notice_ends_on + timedelta(days=1)
        application = services.title_application_transition(
            actor=SYSTEM, application=application.pk, to=target, today=day, **extra
        )
    if state == S.OBJECTED:
        TitleApplication.objects.filter(pk=application.pk).update(
            notice_starts_on=date.today() - timedelta(days=1),
            notice_ends_on=date.today() + timedelta(days=1),
        )
        services.objection_file(
            actor=SYSTEM, application=application.pk, objector_name="Vecino", grounds="Linde"
        )
        objection = application.objections.get()
        services.objection_decide(
            actor=SYSTEM,
            application=application.pk,
            objection_id=objection.pk,
            decision="dismissed",
            note="Sin sustento",
        )
        TitleApplication.objects.filter(pk=application.pk).update(
            notice_ends_on=date.today() - timedelta(days=1)
        )
    application.refresh_from_db()
    return application


FileMaker = Callable[..., TitleApplication]


@pytest.fixture
def make_file(program: Program, authority: Organization) -> FileMaker:
    """``make_file(state)`` → a fresh household's file walked to ``state``."""
    counter = iter(range(1000))

    def make(state: str = S.DRAFT) -> TitleApplication:
        n = next(counter)
        household, plot = make_household(program, lon=-73.97 + 0.01 * n)
        return file_in_state(household, plot, authority, state)

    return make


def new_id() -> str:
    return str(uuid.uuid4())
