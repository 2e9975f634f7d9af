"""The kernel's demo data: organizations, a programme, people with their roles, a demo key.

``seed_demo`` (the management command) calls ``seed_demo``; it is idempotent and reruns refresh
the passwords and the demo key.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command

from registry.choices import Currency, OrganizationKind, Role, Scope
from registry.funding import funding_agreement_upsert
from registry.models import ApiKey, Organization
from registry.services import (
    api_key_create,
    api_key_revoke,
    membership_assign,
    organization_upsert,
    program_upsert,
    role_groups_sync,
)

from . import Writer, run_seeders

DEMO_KEY_NAME = "demo"

ORGANIZATIONS = [
    # code, kind, name, ruc, districts
    ("devida", OrganizationKind.PROGRAM_AGENCY, "DEVIDA (demo)", "", []),
    (
        "implementa-vraem",
        OrganizationKind.IMPLEMENTER,
        "Agencia Implementadora VRAEM (demo)",
        "20600000013",
        ["080910", "080907", "050407", "050408", "120608", "120606"],
    ),
    (
        "dra-cusco",
        OrganizationKind.TITLING_AUTHORITY,
        "Dirección Regional Agraria Cusco (demo)",
        "",
        ["080902", "080907", "080910", "080912", "080913", "080914"],
    ),
    (
        "dra-ayacucho",
        OrganizationKind.TITLING_AUTHORITY,
        "Dirección Regional Agraria Ayacucho (demo)",
        "",
        ["050407", "050408", "050409", "050502", "050507", "050509"],
    ),
    (
        "coop-pangoa",
        OrganizationKind.BUYER,
        "Cooperativa Agraria Pangoa (demo)",
        "20131312955",
        [],
    ),
    (
        "fondo-cooperacion",
        OrganizationKind.FUNDER,
        "Fondo de Cooperación Internacional (demo)",
        "",
        [],
    ),
    (
        "tesoro-pp0072",
        OrganizationKind.FUNDER,
        "Tesoro Público – Programa Presupuestal 0072 PIRDAIS (demo)",
        "",
        [],
    ),
]

# IATI organisation identifiers of the demo organizations that have no RUC (the others publish
# under PE-RUC-<RUC>): an "XX-DEMO" prefix, which no register uses, so the demo's IATI file
# (reports/iati/) validates and is never taken for a real publisher's.
DEMO_IATI_IDENTIFIERS = {
    "devida": "XX-DEMO-DEVIDA",
    "fondo-cooperacion": "XX-DEMO-FCI",
    "tesoro-pp0072": "XX-DEMO-PP0072",
}

# Funding agreements of the demo funders with the demo programme: code, funder, period, budget.
FUNDING_AGREEMENTS = [
    (
        "fci-pirdais-2024",
        "fondo-cooperacion",
        "Convenio de cooperación PIRDAIS 2024–2027 (demo)",
        (date(2024, 1, 1), date(2027, 12, 31)),
        (Decimal("1500000.00"), Currency.USD),
    ),
    (
        "pp0072-2026",
        "tesoro-pp0072",
        "PP 0072 – asignación 2026 (demo)",
        (date(2026, 1, 1), date(2026, 12, 31)),
        (Decimal("12000000.00"), Currency.PEN),
    ),
]

PEOPLE = [
    # username, first, last, organization, role, districts, is_staff
    (
        "tecnico.pichari",
        "Rosa",
        "Quispe Huamán",
        "implementa-vraem",
        Role.FIELD_OFFICER,
        ["080910", "080907"],
        False,
    ),
    ("supervisor.vraem", "Julio", "Cárdenas Rojas", "implementa-vraem", Role.SUPERVISOR, [], True),
    ("personal.devida", "Ana", "Torres Vílchez", "devida", Role.PROGRAM_STAFF, [], True),
    # Manages organizations, programmes, keys and memberships (registry.policies), not families.
    ("admin.plataforma", "Luz", "Mendoza Ríos", "devida", Role.ADMINISTRATOR, [], True),
]


def seed_demo(write: Writer, success: Callable[[str], str] = str) -> None:
    """Create or refresh the demo data of every app; print the logins and a demo API key."""
    for code, kind, name, ruc, districts in ORGANIZATIONS:
        organization_upsert(
            code=code,
            kind=kind,
            name=name,
            ruc=ruc,
            district_ubigeos=districts,
            iati_identifier=DEMO_IATI_IDENTIFIERS.get(code),
        )
    program, _created = program_upsert(
        code="pirdais",
        name="Programa de Desarrollo Alternativo Integral y Sostenible (demo)",
        agency_code="devida",
        funder_code="fondo-cooperacion",
        budget_pen=Decimal("25000000.00"),
        starts_on=date(2024, 1, 1),
        ends_on=date(2028, 12, 31),
    )
    for code, funder, name, (starts_on, ends_on), (amount, currency) in FUNDING_AGREEMENTS:
        funding_agreement_upsert(
            code=code,
            funder_code=funder,
            program_code=program.code,
            starts_on=starts_on,
            ends_on=ends_on,
            budget_amount=amount,
            currency=currency,
            name=name,
        )
    Organization.objects.get(code="implementa-vraem").programs.add(program)
    role_groups_sync()

    user_model = get_user_model()
    admin_password = secrets.token_urlsafe(9)
    admin, _created = user_model.objects.get_or_create(
        username="admin", defaults={"email": "admin@example.org"}
    )
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.set_password(admin_password)
    admin.save()

    demo_password = secrets.token_urlsafe(9)
    for username, first, last, org_code, role, districts, is_staff in PEOPLE:
        user, _created = user_model.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.is_staff = first, last, is_staff
        user.set_password(demo_password)
        user.save()
        membership_assign(
            user=user,
            organization=Organization.objects.get(code=org_code),
            role=role,
            district_ubigeos=districts,
        )

    implementer = Organization.objects.get(code="implementa-vraem")
    for old in ApiKey.objects.filter(
        organization=implementer, name=DEMO_KEY_NAME, revoked_at__isnull=True
    ):
        api_key_revoke(api_key=old)
    _api_key, raw_key = api_key_create(
        organization=implementer,
        name=DEMO_KEY_NAME,
        scopes=[
            Scope.HOUSEHOLDS_READ,
            Scope.HOUSEHOLDS_WRITE,
            Scope.TITLES_READ,
            Scope.CONTRACTS_READ,
            Scope.INDICATORS_READ,
        ],
    )

    run_seeders(write)
    # The periodic checks (stage sweep, compliance, overdue titles) so that the dashboard and
    # the alert queues show the demo families' state at once; reruns raise nothing new. Not the
    # annual report's stored rows: the sweep's recomputes land when the seed commits, so the
    # demo's report is computed live until the nightly refresh (or the page's button).
    call_command("run_periodic", "--skip", "annual-report-rows", stdout=io.StringIO())

    write(success("Demo data ready (datos de demostración listos)."))
    write(f"Admin login:      http://127.0.0.1:8000/admin/  admin / {admin_password}")
    people = ", ".join(p[0] for p in PEOPLE)
    write(f"Demo users:       {people} / {demo_password}")
    write("API docs:         http://127.0.0.1:8000/api/v1/docs/")
    write(f"Demo API key:     {raw_key}")
    write(
        f'Try:              curl -H "Authorization: Api-Key {raw_key}" '
        '"http://127.0.0.1:8000/api/v1/districts/?vraem=true"'
    )
