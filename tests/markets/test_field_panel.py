"""The markets panel of the field household page (``/campo/hogares/<id>/``): the household's
contracts, read-only, for people whose area covers the household."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from markets.choices import ContractStatus
from registry.actors import Actor
from registry.choices import Role, Scope
from registry.services import api_key_create, membership_assign
from tests.factories import UserFactory
from tests.markets.conftest import Market

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(market: Market) -> Client:
    user = UserFactory.create(username="tecnico")
    membership_assign(user=user, organization=market.implementer, role=Role.FIELD_OFFICER)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(user)
    return client


def test_panel_lists_the_household_contracts(
    officer_client: Client, market: Market, make_contract: Any
) -> None:
    make_contract(ContractStatus.ACTIVE)
    make_contract(
        ContractStatus.DRAFT, buyer="exportadora", crop="coffee", product_form="coffee_parchment"
    )
    response = officer_client.get(f"/campo/hogares/{market.household.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="markets"' in html
    assert "Contratos de venta" in html
    assert "Cooperativa Agraria Pangoa" in html and "Exportadora VRAEM" in html
    assert "Activo" in html and "Borrador" in html
    assert "cumplimiento 0,0 %" in html or "cumplimiento 0.0 %" in html
    assert "(0 / 1500 kg)" in html
    # Read-only: no form or link to change a contract.
    section = html.split('data-panel="markets"', 1)[1].split("</section>", 1)[0]
    assert "<form" not in section and "<a " not in section
    # The other household's page shows no contract of this one.
    other = officer_client.get(f"/campo/hogares/{market.other_household.pk}/").content.decode()
    assert "Aún no hay contratos de venta." in other
    assert "Cooperativa Agraria Pangoa" not in other


def test_panel_query_count_does_not_grow_with_contracts(
    officer_client: Client, market: Market, make_contract: Any
) -> None:
    url = f"/campo/hogares/{market.household.pk}/"
    make_contract(ContractStatus.ACTIVE)
    officer_client.get(url)
    with CaptureQueriesContext(connection) as one:
        officer_client.get(url)
    for n in range(6):
        make_contract(ContractStatus.DRAFT, buyer="exportadora", volume_kg=str(100 + n))
    with CaptureQueriesContext(connection) as seven:
        response = officer_client.get(url)
    assert response.content.decode().count("Exportadora VRAEM") == 6
    assert len(seven.captured_queries) == len(one.captured_queries)


def test_panel_hidden_without_contracts_read_and_absent_outside_the_area(
    market: Market, make_contract: Any
) -> None:
    from markets.pages import contract_panel

    make_contract(ContractStatus.ACTIVE)
    key, _raw = api_key_create(organization=market.implementer, scopes=[Scope.HOUSEHOLDS_READ])
    assert contract_panel(Actor.for_api_key(key), market.household) is None
    reader, _raw = api_key_create(
        organization=market.implementer, scopes=[Scope.HOUSEHOLDS_READ, Scope.CONTRACTS_READ]
    )
    rendered = contract_panel(Actor.for_api_key(reader), market.household)
    assert rendered is not None and len(rendered[1]["contracts"]) == 1
    # A field officer of another programme's implementer: the household page is a 404.
    from registry.choices import OrganizationKind
    from registry.models import District
    from tests.factories import OrganizationFactory

    elsewhere = OrganizationFactory.create(code="lejos", kind=OrganizationKind.IMPLEMENTER)
    elsewhere.districts.set(District.objects.filter(ubigeo="050407"))
    elsewhere.programs.add(market.other_program)
    user = UserFactory.create(username="otro")
    membership_assign(user=user, organization=elsewhere, role=Role.FIELD_OFFICER)
    client = Client()
    client.force_login(user)
    response = client.get(f"/campo/hogares/{market.household.pk}/")
    assert response.status_code == 404
    assert b"Cooperativa Agraria Pangoa" not in response.content
