"""The IATI file (issue 17, point 4): ``reports/iati/`` and ``export_iati`` produce an
``iati-activities`` 2.03 file that validates against the schema (loaded from the project's test
data, network refused), whose figures are the indicators service's, which names the funders and
implementers, carries no personal data, and is read only by the programme's staff and funders."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree
from rest_framework.test import APIClient

from farmers.models import Household, Member
from farmers.reporting import iati, indicators
from farmers.services import support_record, training_event_create
from registry.actors import Actor
from registry.choices import IatiOrganisationType, OrganizationKind, Role, Scope
from registry.funding import funding_agreement_upsert
from registry.iati import organization_ref, organization_type, program_identifier
from registry.models import Organization, Program
from registry.services import membership_assign, organization_upsert, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory, valid_ruc
from tests.farmers.conftest import ClientMaker
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/iati/"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "iati-2.03"
YEAR = timezone.localdate().year - 1  # a whole year, in the past
SYSTEM = Actor(unrestricted=True)
READ = [Scope.INDICATORS_READ]


class LocalOnly(etree.Resolver):
    """Resolves nothing itself; records every URL the schema asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        self.asked.append(system_url)
        return None


def schema() -> tuple[etree.XMLSchema, LocalOnly]:
    """The IATI 2.03 activity schema from tests/data, with network access refused."""
    resolver = LocalOnly()
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(resolver)
    document = etree.parse(str(SCHEMA_DIR / "iati-activities-schema.xsd"), parser)
    return etree.XMLSchema(document), resolver


def parse(xml: bytes) -> Any:
    return etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))


@pytest.fixture
def funded(program: Program, partner: Organization) -> dict[str, Any]:
    """PIRDAIS with an identified agency, two funders (its own and one by agreement), an
    implementer, six families in Pichari and Kimbiri with support and a training event."""
    agency = program.agency
    agency.ruc = valid_ruc(415455)
    agency.save()
    usaid = OrganizationFactory.create(
        code="usaid",
        name="USAID",
        kind=OrganizationKind.FUNDER,
        ruc="",
        iati_identifier="US-GOV-1",
    )
    eu = OrganizationFactory.create(
        code="ue",
        name="Unión Europea",
        kind=OrganizationKind.FUNDER,
        ruc="",
        iati_identifier="XI-IATI-EC_INTPA",
        iati_type=IatiOrganisationType.MULTILATERAL,
    )
    program.funder = usaid
    program.starts_on = date(YEAR - 2, 1, 1)
    program.save()
    agreement, _created = funding_agreement_upsert(
        code="ue-2024",
        funder_code="ue",
        program_code=program.code,
        starts_on=date(YEAR, 7, 1),
        ends_on=date(YEAR + 1, 6, 30),
        budget_amount="365000",
        currency="eur",
    )
    households = [
        make_household(program, district="080910" if i < 4 else "080907") for i in range(6)
    ]
    members = []
    for n, household in enumerate(households):
        members.append(
            Member.objects.create(
                household=household,
                given_names=f"Nombreúnico{n}",
                surnames="Apellidoraro",
                document_type="dni",
                document_number=f"4{n:07d}",
                sex="f" if n % 2 else "m",
                birth_date=date(1980, 1, 1),
                relationship="head",
                is_head=True,
                phone="+51987654321",
            )
        )
        support_record(
            actor=SYSTEM,
            household=household.pk,
            kind="inputs",
            cost_pen="100.50",
            given_on=date(YEAR, 8, 10),
            funding_source="ue",
            funding_agreement="ue-2024",
            description="Plantones para la señora Nombreúnico",
        )
    support_record(
        actor=SYSTEM,
        household=households[0].pk,
        kind="titling_fees",
        cost_pen="80",
        given_on=date(YEAR, 3, 5),
        funding_source="usaid",
    )
    training_event_create(
        actor=SYSTEM,
        program=program.code,
        district="080910",
        date=date(YEAR, 9, 2),
        topic="pruning_grafting",
        facilitator="Ing. Facilitadorúnico",
        place="Local comunal",
        cost_pen="1200",
        funding_source="usaid",
        attendees=[str(m.pk) for m in members],
        channel="test",
    )
    return {"usaid": usaid, "eu": eu, "agreement": agreement, "households": households}


def build(program: Program) -> bytes:
    return iati.iati_activities(program=program, year=YEAR)


def test_the_file_validates_against_the_2_03_schema_without_network(
    program: Program, funded: dict[str, Any]
) -> None:
    xsd, resolver = schema()
    xml = build(program)
    document = parse(xml)
    assert xsd.validate(document), xsd.error_log
    assert document.get("version") == "2.03"
    # xml.xsd came from tests/data (the schema names it by a relative location), nothing else.
    assert all(not url.startswith(("http:", "https:", "ftp:")) for url in resolver.asked)
    assert (SCHEMA_DIR / "xml.xsd").exists()


def test_identity_organizations_sector_country_and_locations(
    program: Program, funded: dict[str, Any], partner: Organization
) -> None:
    activity = parse(build(program)).find("iati-activity")
    agency_ref = f"PE-RUC-{program.agency.ruc}"
    assert activity.findtext("iati-identifier") == f"{agency_ref}-PIRDAIS"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type")) == (agency_ref, "10")
    title = {n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in activity.find("title")}
    assert title == {"es", "en"}
    description = activity.find("description")
    assert [n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in description] == [
        "es",
        "en",
    ]
    assert "programa de desarrollo alternativo a cargo de" in description[0].text
    roles = {
        (o.get("role"), o.get("ref"), o.get("type")) for o in activity.findall("participating-org")
    }
    assert ("1", "US-GOV-1", "10") in roles  # the programme's funder
    assert ("1", "XI-IATI-EC_INTPA", "40") in roles  # a funder by agreement
    assert ("2", agency_ref, "10") in roles
    assert ("4", f"PE-RUC-{partner.ruc}", "22") in roles  # the implementer
    assert activity.find("sector").attrib == {
        "vocabulary": "1",
        "code": "31165",
        "percentage": "100",
    }
    assert activity.find("recipient-country").get("code") == "PE"
    locations = {loc.get("ref"): loc for loc in activity.findall("location")}
    assert set(locations) == {"PE-UBIGEO-080907", "PE-UBIGEO-080910"}
    pichari = locations["PE-UBIGEO-080910"]
    assert pichari.findtext("name/narrative").startswith("Pichari (")
    lat, lon = (float(v) for v in pichari.findtext("point/pos").split())
    assert -13.0 < lat < -12.0 and -74.3 < lon < -73.3  # in the VRAEM
    assert pichari.find("feature-designation").get("code") == "ADM3"


def test_budget_and_transactions_by_funding_source(
    program: Program, funded: dict[str, Any]
) -> None:
    activity = parse(build(program)).find("iati-activity")
    (budget,) = activity.findall("budget")
    # Half of the agreement's days fall in the year: 184 of 365 days of 365,000 EUR.
    assert budget.find("period-start").get("iso-date") == f"{YEAR}-07-01"
    assert budget.find("period-end").get("iso-date") == f"{YEAR}-12-31"
    assert budget.find("value").get("currency") == "EUR"
    assert Decimal(budget.findtext("value")) == Decimal("184000.00")
    transactions = [
        (
            t.find("transaction-type").get("code"),
            t.find("transaction-date").get("iso-date"),
            Decimal(t.findtext("value")),
            t.find("provider-org").get("ref") if t.find("provider-org") is not None else None,
        )
        for t in activity.findall("transaction")
    ]
    assert transactions == [
        ("11", f"{YEAR}-07-01", Decimal("365000.00"), "XI-IATI-EC_INTPA"),
        ("4", f"{YEAR}-03-31", Decimal("80.00"), "US-GOV-1"),  # titling fees
        ("4", f"{YEAR}-08-31", Decimal("603.00"), "XI-IATI-EC_INTPA"),  # 6 x 100.50 inputs
        ("4", f"{YEAR}-09-30", Decimal("1200.00"), "US-GOV-1"),  # the training event
    ]


def figures(xml: bytes) -> dict[str, str | None]:
    activity = parse(xml).find("iati-activity")
    return {
        indicator.find("reference").get("code"): indicator.find("period/actual").get("value")
        for indicator in activity.iter("indicator")
    }


def test_results_equal_the_indicators(program: Program, funded: dict[str, Any]) -> None:
    published = figures(build(program))
    window: dict[str, Any] = {
        "program": program.code,
        "date_from": date(YEAR, 1, 1),
        "date_to": date(YEAR, 12, 31),
    }
    training = indicators.indicator_rows(
        actor=SYSTEM,
        query=indicators.IndicatorQuery(metric="training", group_by=("program",), **window),
    )
    assert len(training) == 1 and not training[0]["suppressed"]
    assert published["training.attendees"] == str(training[0]["attendees"]) == "6"
    assert published["training.households"] == str(training[0]["households"]) == "6"
    assert published["training.events"] == str(training[0]["events"]) == "1"
    december = indicators.indicator_rows(
        actor=SYSTEM,
        query=indicators.IndicatorQuery(
            metric="households",
            group_by=("program", "month"),
            program=program.code,
            date_from=date(YEAR, 12, 1),
            date_to=date(YEAR, 12, 31),
        ),
    )
    assert published["households"] == str(december[0]["households"]) == "6"
    assert Household.objects.filter(program=program).count() == 6
    # No member of a producer organisation: the cell is empty, not invented.
    assert "producer_organisations.sales_pen" in published
    # A past year: the tenure track (no history) is left out.
    assert "tenure" not in published
    # The annual report's sections, as its indicator metrics give them (zero cells are not
    # listed: 0; suppressed ones: no value).
    for code, metric, key, field in (
        ("licit_hectares.installed", "licit_hectares", "total", "installed_ha"),
        ("licit_hectares.maintained", "licit_hectares", "total", "maintained_ha"),
        ("coca_reduced.hectares", "coca_reduced", "total", "hectares"),
        ("titles.issued", "titles", "issued", "titles"),
        ("titles.registered", "titles", "registered", "titles"),
    ):
        cells = indicators.indicator_rows(
            actor=SYSTEM,
            query=indicators.IndicatorQuery(metric=metric, suppress=True, **window),
        )
        cell = next((c for c in cells if c["key"] == key), None)
        expected = (
            "0"
            if cell is None
            else None
            if cell["suppressed"] or cell[field] is None
            else str(Decimal(str(cell[field])))
        )
        assert code in published
        got = published[code]
        assert (got if got is None else str(Decimal(got))) == expected, code


def test_small_cells_are_suppressed_with_a_comment(program: Program) -> None:
    agency = program.agency
    agency.iati_identifier = "PE-RUC-20415455041"
    agency.save()
    for _n in range(3):
        make_household(program)
    activity = parse(build(program)).find("iati-activity")
    (families,) = [
        i for i in activity.iter("indicator") if i.find("reference").get("code") == "households"
    ]
    actual = families.find("period/actual")
    assert actual.get("value") is None
    assert "5" in actual.findtext("comment/narrative")
    xsd, _resolver = schema()
    assert xsd.validate(parse(build(program))), xsd.error_log


def test_no_personal_data(program: Program, funded: dict[str, Any]) -> None:
    text = build(program).decode("utf-8")
    for household in funded["households"]:
        assert household.code not in text
        assert str(household.pk) not in text
    for member in Member.objects.all():
        assert member.given_names not in text
        assert member.document_number not in text
    for secret in (
        "Apellidoraro",
        "Nombreúnico",
        "Juana Quispe",  # the heads' names on the household
        "Facilitadorúnico",
        "Plantones",  # a support item's free text
        "987654321",
    ):
        assert secret not in text


def test_running_year_adds_the_tenure_track(program: Program, funded: dict[str, Any]) -> None:
    xml = iati.iati_activities(program=program, year=YEAR + 1, today=date(YEAR + 1, 3, 1))
    published = figures(xml)
    assert "tenure" in published
    # Up to today: the families now (the households metric without months).
    now = indicators.indicator_rows(
        actor=SYSTEM,
        query=indicators.IndicatorQuery(group_by=("program",), program=program.code),
    )
    assert published["households"] == str(now[0]["households"]) == "6"
    xsd, _resolver = schema()
    assert xsd.validate(parse(xml)), xsd.error_log


def test_without_identifier_it_is_a_409(program: Program, client_for: ClientMaker) -> None:
    client = client_for(READ, org=program.agency)
    response = client.get(URL, {"program": "pirdais", "year": str(YEAR)})
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "iati_identifier_missing"
    program.iati_identifier = "PE-RUC-20415455041-PIRDAIS"
    program.agency.iati_identifier = "PE-RUC-20415455041"
    program.agency.save()
    program.save()
    assert client.get(URL, {"program": "pirdais", "year": str(YEAR)}).status_code == 200


def test_api_answers_xml_to_funders_and_staff(
    program: Program, funded: dict[str, Any], client_for: ClientMaker
) -> None:
    for org in (funded["usaid"], funded["eu"], program.agency):
        client = client_for(READ, org=org)
        response = client.get(
            URL, {"program": "pirdais", "year": str(YEAR)}, HTTP_ACCEPT="application/xml"
        )
        assert response.status_code == 200, (org.code, response.content)
        assert response["Content-Type"].startswith("application/xml")
        assert f'filename="iati-pirdais-{YEAR}.xml"' in response["Content-Disposition"]
        xsd, _resolver = schema()
        served = parse(response.content)
        assert xsd.validate(served), xsd.error_log
        # The service's file, but for the moment it was generated.
        built = parse(build(program))
        served.set("generated-datetime", built.get("generated-datetime"))
        assert etree.tostring(served) == etree.tostring(built)


def test_who_may_read(
    program: Program, funded: dict[str, Any], client_for: ClientMaker, partner: Organization
) -> None:
    query = {"program": "pirdais", "year": str(YEAR)}
    other_funder = OrganizationFactory.create(code="otro", kind=OrganizationKind.FUNDER)
    ProgramFactory.create(code="otro-prog", funder=other_funder)
    refused = [
        client_for(READ, org=partner),  # an implementer's key: not staff, not a funder
        client_for(READ, org=other_funder),  # another programme's funder
        client_for([Scope.REFERENCE_READ], org=funded["usaid"]),  # no indicators:read
    ]
    for client in refused:
        response = client.get(URL, query)
        assert response.status_code == 403, response.content
        assert response.json()["type"] == "client_error"
    assert APIClient().get(URL, query).status_code in (401, 403)
    # People: programme staff of the agency yes, a supervisor there no.
    role_groups_sync()
    staff, supervisor = UserFactory.create(is_staff=True), UserFactory.create(is_staff=True)
    membership_assign(user=staff, organization=program.agency, role=Role.PROGRAM_STAFF)
    membership_assign(user=supervisor, organization=program.agency, role=Role.SUPERVISOR)
    for user, status in ((staff, 200), (supervisor, 403)):
        browser = Client()
        browser.force_login(user)
        assert browser.get(URL, query).status_code == status


@pytest.mark.parametrize(
    ("query", "attr", "code"),
    [
        ({"year": "2025"}, "program", "required"),
        ({"program": "pirdais"}, "year", "required"),
        ({"program": "pirdais", "year": "dosmil"}, "year", "invalid"),
        ({"program": "pirdais", "year": "1850"}, "year", "min_value"),
        ({"program": "pirdais", "year": "2999"}, "year", "date_out_of_range"),
        ({"program": "pirdais", "year": "2025", "funder": "usaid"}, "funder", "unknown_parameter"),
    ],
)
def test_bad_parameters_are_400(
    program: Program,
    funded: dict[str, Any],
    client_for: ClientMaker,
    query: Any,
    attr: str,
    code: str,
) -> None:
    response = client_for(READ, org=funded["usaid"]).get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert (attr, code) in {(e["attr"], e["code"]) for e in body["errors"]}


def test_unknown_programme_is_a_404(program: Program, client_for: ClientMaker) -> None:
    response = client_for(READ, org=program.agency).get(URL, {"program": "nada", "year": "2025"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["attr"] == "program"


def test_command_writes_the_file(program: Program, funded: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "iati.xml"
    stdout = io.StringIO()
    call_command("export_iati", program="pirdais", year=YEAR, out=str(out), stdout=stdout)
    xsd, _resolver = schema()
    assert xsd.validate(parse(out.read_bytes())), xsd.error_log
    assert "iati.xml" in stdout.getvalue()


def test_admin_programme_page_links_the_file(program: Program, funded: dict[str, Any]) -> None:
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    page = browser.get(f"/admin/registry/program/{program.pk}/change/")
    assert page.status_code == 200
    assert f"/api/v1/reports/iati/?program=pirdais&amp;year={YEAR}" in page.content.decode()


def test_identifiers_defaults_shape_and_uniqueness(program: Program) -> None:
    agency = program.agency
    assert (organization_ref(agency), program_identifier(program)) == ("", "")
    agency.ruc = valid_ruc(77)
    assert organization_ref(agency) == f"PE-RUC-{agency.ruc}"
    assert program_identifier(program) == f"PE-RUC-{agency.ruc}-PIRDAIS"
    assert organization_type(agency) == "10"
    funder, _created = organization_upsert(
        code="bid", kind=OrganizationKind.FUNDER, name="BID", iati_identifier="XI-IATI-IADB"
    )
    assert (organization_ref(funder), organization_type(funder)) == ("XI-IATI-IADB", "10")
    # None leaves it as it is; a bad shape or a taken identifier is refused.
    organization_upsert(code="bid", kind=OrganizationKind.FUNDER, name="BID")
    funder.refresh_from_db()
    assert funder.iati_identifier == "XI-IATI-IADB"
    for bad in ("XI IATI IADB", "IADB", "XI-IATI-a/b"):
        with pytest.raises(ValidationError) as shape:
            organization_upsert(
                code="bid", kind=OrganizationKind.FUNDER, name="B", iati_identifier=bad
            )
        assert "iati_identifier" in shape.value.message_dict
    with pytest.raises(ValidationError) as taken:
        organization_upsert(
            code="otro", kind=OrganizationKind.FUNDER, name="O", iati_identifier="XI-IATI-IADB"
        )
    assert "Otra organización ya tiene este identificador IATI." in str(taken.value)


def test_queries_do_not_grow_with_the_programme(program: Program, funded: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as small:
        build(program)
    for n in range(12):  # twice the families, in a third district, with their support
        household = make_household(program, district="050407" if n % 2 else "080910")
        support_record(
            actor=SYSTEM,
            household=household.pk,
            kind="technical_assistance",
            cost_pen="10",
            given_on=date(YEAR, 1 + n, 1),
            funding_source="usaid",
        )
    with CaptureQueriesContext(connection) as large:
        xml = build(program)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(parse(xml).findall("iati-activity/location")) == 3


def test_admin_link_for_programme_staff_only(program: Program, funded: dict[str, Any]) -> None:
    role_groups_sync()
    staff, supervisor = UserFactory.create(is_staff=True), UserFactory.create(is_staff=True)
    membership_assign(user=staff, organization=program.agency, role=Role.PROGRAM_STAFF)
    membership_assign(user=supervisor, organization=program.agency, role=Role.SUPERVISOR)
    link = f"/api/v1/reports/iati/?program=pirdais&amp;year={YEAR}"
    for user, shown in ((staff, True), (supervisor, False)):
        browser = Client()
        browser.force_login(user)
        page = browser.get(f"/admin/registry/program/{program.pk}/change/")
        if page.status_code == 200:
            assert (link in page.content.decode()) is shown, user
        else:
            assert not shown and page.status_code in (302, 403, 404)


def test_demo_programme_file_validates_and_its_staff_gets_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--force", stdout=io.StringIO())
    this_year = timezone.localdate().year
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="personal.devida"))
    response = browser.get(URL, {"program": "pirdais", "year": str(this_year)})
    assert response.status_code == 200, response.content
    document = parse(response.content)
    xsd, _resolver = schema()
    assert xsd.validate(document), xsd.error_log
    activity = document.find("iati-activity")
    assert activity.findtext("iati-identifier") == "XX-DEMO-DEVIDA-PIRDAIS"
    funders = {o.get("ref") for o in activity.findall("participating-org") if o.get("role") == "1"}
    assert funders == {"XX-DEMO-FCI", "XX-DEMO-PP0072"}
    text = response.content.decode("utf-8")
    for member in Member.objects.all():
        assert member.given_names not in text and member.surnames not in text
    for household in Household.objects.all():
        assert household.code not in text
