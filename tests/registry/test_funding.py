"""Funding sources and agreements (issue 17, point 1): a source is always a funder; an agreement
has an ordered period and a budget of zero or more (a decimal comma accepted), and a cost's
date must lie in its period; the programme's funder is a funder too; the reference endpoint and
the admin."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers import services as farmers_services
from farmers.models import Support
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.funding import funder_resolve, funding_agreement_upsert, funding_resolve
from registry.models import FundingAgreement, Organization, Program
from registry.services import api_key_create, program_upsert
from registry.validators import require_funder
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.transition_helpers import make_household
from tests.test_architecture import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(db: Any, geography: None) -> dict[str, Any]:
    agency = OrganizationFactory.create(code="devida", kind=OrganizationKind.PROGRAM_AGENCY)
    program = ProgramFactory.create(code="pirdais", agency=agency)
    funder = OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)
    other = OrganizationFactory.create(code="ue", kind=OrganizationKind.FUNDER)
    agreement, _c = funding_agreement_upsert(
        code="usaid-2026",
        funder_code="usaid",
        program_code="pirdais",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        budget_amount="1 500 000,50",
        currency="usd",
    )
    return {"program": program, "funder": funder, "other": other, "agreement": agreement}


def errors(exc: ValidationError) -> set[tuple[str, str]]:
    return {(attr, e.code or "") for attr, items in exc.error_dict.items() for e in items}


def test_agreement_amount_is_exact_and_validated(setting: dict[str, Any]) -> None:
    agreement = setting["agreement"]
    assert agreement.budget_amount == Decimal("1500000.50") and agreement.currency == "usd"
    bad: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"ends_on": date(2025, 12, 31)}, ("ends_on", "invalid_period")),
        ({"budget_amount": "-1"}, ("budget_amount", "min_value")),
        ({"budget_amount": "mucho"}, ("budget_amount", "invalid")),
        ({"funder_code": "devida"}, ("funder", "not_funder")),
        ({"currency": "btc"}, ("currency", "invalid_choice")),
    ]
    for change, expected in bad:
        fields: dict[str, Any] = {
            "code": "nuevo",
            "funder_code": "usaid",
            "program_code": "pirdais",
            "starts_on": date(2026, 1, 1),
            "ends_on": date(2026, 6, 30),
            "budget_amount": "100",
            **change,
        }
        with pytest.raises(ValidationError) as caught:
            funding_agreement_upsert(**fields)
        assert expected in errors(caught.value)
    assert not FundingAgreement.objects.filter(code="nuevo").exists()


def test_funding_rules(setting: dict[str, Any]) -> None:
    program = setting["program"]
    assert funder_resolve("usaid") == setting["funder"]
    assert funder_resolve("") is None
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"source": "devida"}, ("funding_source", "not_funder")),
        ({"source": "nadie"}, ("funding_source", "does_not_exist")),
        ({"agreement": "nada"}, ("funding_agreement", "does_not_exist")),
        ({"source": "ue", "agreement": "usaid-2026"}, ("funding_agreement", "funder_mismatch")),
        ({"agreement": "usaid-2026", "on": date(2027, 1, 1)}, ("date", "outside_agreement")),
        (
            {"agreement": "usaid-2026", "program_id": program.pk + 1000},
            ("funding_agreement", "program_mismatch"),
        ),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ValidationError) as caught:
            funding_resolve(**kwargs)
        assert expected in errors(caught.value), kwargs
    both_ends = [date(2026, 1, 1), date(2026, 12, 31)]
    for day in both_ends:
        funding = funding_resolve(agreement="usaid-2026", on=day, program_id=program.pk)
        assert (funding.source, funding.agreement) == (setting["funder"], setting["agreement"])


def test_support_carries_a_funder_and_its_agreement(setting: dict[str, Any]) -> None:
    household = make_household(setting["program"])
    actor = Actor(user=UserFactory.create(), unrestricted=True)
    common: dict[str, Any] = {
        "actor": actor,
        "household": household.pk,
        "kind": "inputs",
        "cost_pen": "850,50",
    }
    with pytest.raises(ValidationError) as caught:
        farmers_services.support_record(
            **common, given_on=date(2026, 3, 1), funding_source="devida"
        )
    assert ("funding_source", "not_funder") in errors(caught.value)
    with pytest.raises(ValidationError) as caught:
        farmers_services.support_record(
            **common, given_on=date(2025, 3, 1), funding_agreement="usaid-2026"
        )
    assert ("given_on", "outside_agreement") in errors(caught.value)
    assert not Support.objects.exists()
    support = farmers_services.support_record(
        **common, given_on=date(2026, 3, 1), funding_agreement="usaid-2026"
    )
    assert support.cost_pen == Decimal("850.50")
    assert (support.funding_source, support.funding_agreement) == (
        setting["funder"],
        setting["agreement"],
    )


def test_programme_funder_is_a_funder(setting: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        program_upsert(code="otro", name="Otro", agency_code="devida", funder_code="devida")
    assert ("funder", "not_funder") in errors(caught.value)
    program, _c = program_upsert(
        code="otro",
        name="Otro",
        agency_code="devida",
        funder_code="usaid",
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    assert (program.starts_on, program.ends_on) == (date(2026, 1, 1), date(2027, 12, 31))


def test_reference_endpoint_and_query_budget(setting: dict[str, Any]) -> None:
    _key, raw = api_key_create(organization=setting["funder"], scopes=[Scope.INDICATORS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    url = "/api/v1/funding-agreements/"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        body = client.get(f"{url}?page_size=100").json()
    assert [(r["code"], r["funder"], r["budget_amount"]) for r in body["results"]] == [
        ("usaid-2026", "usaid", "1500000.50")
    ]
    for n in range(99):
        FundingAgreement.objects.create(
            code=f"a-{n}",
            funder=setting["other"],
            program=setting["program"],
            starts_on=date(2020, 1, 1),
            ends_on=date(2020, 12, 31),
        )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{url}?page_size=100").json()["results"]) == 100
    assert len(one.captured_queries) == len(many.captured_queries)
    assert len(client.get(f"{url}?funder=usaid&active_on=2026-06-01").json()["results"]) == 1
    assert client.get(f"{url}?funder=usaid&active_on=2027-06-01").json()["results"] == []


def test_admin_takes_a_decimal_comma_and_checks_the_period(setting: dict[str, Any]) -> None:
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    form = {
        "code": "ue-2026",
        "name": "Convenio UE",
        "funder": setting["other"].pk,
        "program": setting["program"].pk,
        "starts_on": "01/01/2026",
        "ends_on": "31/12/2025",
        "budget_amount": "2 000 000,75",
        "currency": "eur",
        "is_active": "on",
    }
    url = "/admin/registry/fundingagreement/add/"
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert re.search(r"errorlist", refused.content.decode())
    assert not FundingAgreement.objects.filter(code="ue-2026").exists()
    not_funder = client.post(
        url, {**form, "ends_on": "31/12/2026", "funder": Organization.objects.get(code="devida").pk}
    )
    assert not_funder.status_code == 200
    assert not FundingAgreement.objects.filter(code="ue-2026").exists()
    done = client.post(url, {**form, "ends_on": "31/12/2026"})
    assert done.status_code == 302, done.content
    assert FundingAgreement.objects.get(code="ue-2026").budget_amount == Decimal("2000000.75")
    assert Program.objects.get(code="pirdais").funding_agreements.count() == 2


def test_support_list_filters_by_funder_and_period(setting: dict[str, Any]) -> None:
    from tests.farmers.conftest import WRITE

    household = make_household(setting["program"])
    implementer = OrganizationFactory.create(code="implementa", kind=OrganizationKind.IMPLEMENTER)
    implementer.programs.add(setting["program"])
    _key, raw = api_key_create(organization=implementer, scopes=WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    url = "/api/v1/support/"
    Support.objects.create(
        household=household,
        kind="inputs",
        cost_pen=Decimal("850.00"),
        given_on=date(2026, 3, 1),
        funding_source=setting["funder"],
        funding_agreement=setting["agreement"],
    )
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        body = client.get(f"{url}?page_size=100").json()["results"]
    assert [(r["cost_pen"], r["funding_source"], r["funding_agreement"]) for r in body] == [
        ("850.00", "usaid", "usaid-2026")
    ]
    Support.objects.bulk_create(
        Support(
            household=household,
            kind="training",
            cost_pen=Decimal("10.00"),
            given_on=date(2025, 1, 1 + n % 28),
            funding_source=setting["other"],
        )
        for n in range(99)
    )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{url}?page_size=100").json()["results"]) == 100
    assert len(one.captured_queries) == len(many.captured_queries)
    assert len(client.get(f"{url}?funder=usaid").json()["results"]) == 1
    period = client.get(f"{url}?given_after=2026-01-01&given_before=2026-12-31").json()
    assert [r["kind"] for r in period["results"]] == ["inputs"]
    assert client.get(f"{url}?given_after=nope").status_code == 400


def test_one_rule_says_who_may_pay_wherever_a_funder_is_named(setting: dict[str, Any]) -> None:
    """The programme's funder, an agreement's funder and a cost's funding source are checked by
    the one validator (``registry.validators.require_funder``): the same code and message from
    the models' ``clean()`` (admin forms) and from the services (API, field pages)."""
    agency = Organization.objects.get(code="devida")
    program, agreement = setting["program"], setting["agreement"]
    raised: list[ValidationError] = []
    for check in (
        lambda: require_funder(agency, "funder"),
        lambda: funder_resolve("devida", attr="funder"),
        lambda: program_upsert(
            code="pirdais", name="P", agency_code="devida", funder_code="devida"
        ),
    ):
        with pytest.raises(ValidationError) as caught:
            check()
        raised.append(caught.value)
    program.funder = agency
    agreement.funder = agency
    for record in (program, agreement):
        with pytest.raises(ValidationError) as caught:
            record.clean()
        raised.append(caught.value)
    assert {(frozenset(errors(e)), str(e.message_dict["funder"])) for e in raised} == {
        (
            frozenset({("funder", "not_funder")}),
            "['La fuente de financiamiento debe ser una organización financiadora.']",
        )
    }
    require_funder(None)  # no source: nothing to check
    require_funder(setting["funder"])
    # The rule is written once.
    sources = [
        path
        for app in ("registry", "farmers", "titles", "markets")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        and "A funding source must be a funder organization." in path.read_text(encoding="utf-8")
    ]
    assert [p.relative_to(ROOT).as_posix() for p in sources] == ["registry/validators.py"]
