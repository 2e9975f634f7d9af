"""The annual results report (issue 17 point 3): the demo data's report checked figure by figure
against a hand computation from the ORM rows (not the service), small cells suppressed with
complementary suppression, no personal data in JSON, XLSX or the page, Spanish workbook, 400s,
scope and a fixed number of queries."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from rest_framework.test import APIClient

from farmers.choices import EradicationStatus, HouseholdStatus, Stage, VerificationStatus
from farmers.models import (
    CropInstallation,
    Eradication,
    Household,
    Member,
    Support,
    TrainingAttendance,
    TrainingEvent,
    Verification,
)
from farmers.reporting import annual
from farmers.reporting.indicators import IndicatorQuery, indicator_rows
from markets.models import Delivery, ProducerMembership
from markets.workflow import ACCEPTED_DELIVERY_STATES
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.models import District, Program
from registry.services import api_key_create, membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, UserFactory
from tests.farmers.ledger import PICHARI, SIVIA, household, many_households, seed_ledger
from titles.models import TitleApplication

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/annual/"
PAGE = "/admin/reports/annual/"
STAFF = Actor(unrestricted=True)
CENT = Decimal("0.01")


@pytest.fixture
def demo(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--force", stdout=StringIO())


def report(start: date, end: date, suppress: bool = False, **kw: Any) -> annual.Report:
    query = IndicatorQuery(date_from=start, date_to=end, suppress=suppress, **kw)
    return annual.annual_report(actor=STAFF, query=query)


def total(
    rep: annual.Report, section: str, key: str, split: str = "all", group: str = "all"
) -> Any:
    """The whole area's cell of ``section`` for ``key`` (and ``split`` / ``group``), or None."""
    cells = [
        c
        for c in rep.cells[section]
        if c["level"] == "total" and c["split"] == split and c["group"] == group and c["key"] == key
    ]
    assert len(cells) <= 1
    return cells[0] if cells else None


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the hand computation (plain Python over ORM rows) ------------------------------------------


def age_band(born: date | None, on: date) -> str:
    if born is None:
        return "unknown"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 30:
        return "under_30"
    if age < 45:
        return "30_44"
    if age < 60:
        return "45_59"
    return "60_plus"


def by_hand(start: date, end: date) -> dict[str, Any]:
    """Every figure of the report for the whole area, computed row by row."""
    active = {h.pk: h for h in Household.objects.filter(status=HouseholdStatus.ACTIVE)}
    heads = {m.household_id: m for m in Member.objects.filter(is_head=True, is_active=True)}

    def enrolled(h: Household) -> date:
        return h.enrolled_on or timezone.localtime(h.created_at).date()

    served = [h for h in active.values() if enrolled(h) <= end]
    out: dict[str, Any] = {
        "served": len(served),
        "new": sum(1 for h in served if enrolled(h) >= start),
        "stages": defaultdict(int),
        "tenure": sum(1 for h in served if "tenure" in h.milestones),
        "served_by_sex": defaultdict(int),
        "served_by_band": defaultdict(int),
        "served_by_district": defaultdict(int),
    }
    for h in served:
        out["stages"][h.stage] += 1
        head = heads.get(h.pk)
        out["served_by_sex"][head.sex if head else "unknown"] += 1
        out["served_by_band"][age_band(head.birth_date if head else None, end)] += 1
        out["served_by_district"][h.district_id] += 1
    # Licit hectares.
    installed: dict[str, Decimal] = defaultdict(Decimal)
    maintained: dict[str, Decimal] = defaultdict(Decimal)
    crop_households: dict[str, set[Any]] = defaultdict(set)
    with_installations = set(CropInstallation.objects.values_list("household_id", flat=True))
    for ci in CropInstallation.objects.filter(household_id__in=active):
        if start <= ci.planted_on <= end:
            installed[ci.crop] += ci.area_ha
        elif ci.planted_on < start and (ci.lost_on is None or ci.lost_on >= start):
            maintained[ci.crop] += ci.area_ha
        else:
            continue
        crop_households[ci.crop].add(ci.household_id)
        crop_households["total"].add(ci.household_id)
    latest: dict[Any, Verification] = {}
    for v in Verification.objects.filter(
        status=VerificationStatus.CONFIRMED, visited_on__gte=start, visited_on__lte=end
    ):
        if v.household_id not in active or v.household_id in with_installations:
            continue
        best = latest.get(v.household_id)
        if best is None or (v.visited_on, v.created_at, str(v.pk)) > (
            best.visited_on,
            best.created_at,
            str(best.pk),
        ):
            latest[v.household_id] = v
    observed: dict[str, Decimal] = defaultdict(Decimal)
    for v in latest.values():
        for item in v.licit_crops:
            observed[item["crop"]] += Decimal(str(item["ha"]))
    out["installed"], out["maintained"], out["observed"] = installed, maintained, observed
    out["crop_households"] = crop_households
    # Coca.
    coca: dict[str, Decimal] = defaultdict(Decimal)
    for e in Eradication.objects.filter(
        status=EradicationStatus.VERIFIED, eradicated_on__gte=start, eradicated_on__lte=end
    ):
        if e.household_id in active:
            coca[e.kind] += e.hectares
    out["coca"] = coca
    # Producer organisations.
    members = [
        m
        for m in ProducerMembership.objects.filter(joined_on__lte=end)
        if m.household_id in active and (m.left_on is None or m.left_on >= start)
    ]
    out["org_households"] = len({m.household_id for m in members})
    out["organisations"] = len({m.organization_id for m in members})
    # Titles.
    issued = [
        t
        for t in TitleApplication.objects.all()
        if t.household_id in active and t.title_issued_on and start <= t.title_issued_on <= end
    ]
    out["issued"] = len(issued)
    timed = [(t.title_issued_on - t.submitted_on).days for t in issued if t.submitted_on]
    out["days"] = (Decimal(sum(timed)) / len(timed)).quantize(Decimal("0.1")) if timed else None
    out["registered"] = sum(
        1
        for t in TitleApplication.objects.all()
        if t.household_id in active and t.registered_on and start <= t.registered_on <= end
    )
    # Sales.
    kg: dict[str, Decimal] = defaultdict(Decimal)
    pen = Decimal(0)
    for d in Delivery.objects.filter(
        status__in=ACCEPTED_DELIVERY_STATES,
        confirmed_at__isnull=False,
        delivered_on__gte=start,
        delivered_on__lte=end,
    ).select_related("contract"):
        if d.household_id in active:
            kg[d.contract.product_form] += d.weight_kg
            pen += d.amount_pen
    out["kg"], out["sales_pen"] = kg, pen
    # Training.
    attendances = [
        a
        for a in TrainingAttendance.objects.select_related("event")
        if a.household_id in active and a.event.is_active and start <= a.event.held_on <= end
    ]
    out["events"] = len({a.event_id for a in attendances})
    out["attendees"] = len({a.member_id for a in attendances})
    out["trained_households"] = len({a.household_id for a in attendances})
    # Spend.
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for s in Support.objects.filter(is_active=True, given_on__gte=start, given_on__lte=end):
        if s.household_id in active:
            code = s.funding_source.code if s.funding_source else "none"
            spend[code] += s.cost_pen
            spend["total"] += s.cost_pen
    training_cost: dict[str, Decimal] = defaultdict(Decimal)
    for event in TrainingEvent.objects.filter(is_active=True, held_on__gte=start, held_on__lte=end):
        code = event.funding_source.code if event.funding_source else "none"
        training_cost[code] += event.cost_pen
        training_cost["total"] += event.cost_pen
    out["support_pen"], out["training_pen"] = spend, training_cost
    return out


def check_against_hand(start: date, end: date) -> None:
    rep = report(start, end)
    hand = by_hand(start, end)
    assert total(rep, "families", "served")["households"] == hand["served"]
    new = total(rep, "families", "new")
    assert (new["households"] if new else 0) == hand["new"]
    continuing = total(rep, "families", "continuing")
    assert (continuing["households"] if continuing else 0) == hand["served"] - hand["new"]
    for stage in Stage.values:
        cell = total(rep, "families", f"stage:{stage}")
        assert (cell["households"] if cell else 0) == hand["stages"].get(stage, 0), stage
    tenure = total(rep, "families", "tenure_held")
    assert (tenure["households"] if tenure else 0) == hand["tenure"]
    for sex, n in hand["served_by_sex"].items():
        assert total(rep, "families", "served", "sex", sex)["households"] == n, sex
    for band, n in hand["served_by_band"].items():
        assert total(rep, "families", "served", "age_band", band)["households"] == n, band
    districts = {
        c["area"]: c["households"]
        for c in rep.cells["families"]
        if c["level"] == "district" and c["split"] == "all" and c["key"] == "served"
    }
    assert districts == dict(hand["served_by_district"])
    # Licit hectares by crop.
    crops = set(hand["installed"]) | set(hand["maintained"]) | set(hand["observed"])
    for crop in crops:
        cell = total(rep, "hectares", crop)
        assert cell["installed_ha"] == money(hand["installed"].get(crop, 0)), crop
        assert cell["maintained_ha"] == money(hand["maintained"].get(crop, 0)), crop
        assert cell["observed_ha"] == money(hand["observed"].get(crop, 0)), crop
    if crops:
        everything = total(rep, "hectares", "total")
        assert everything["installed_ha"] == money(sum(hand["installed"].values()))
        assert everything["maintained_ha"] == money(sum(hand["maintained"].values()))
        assert everything["observed_ha"] == money(sum(hand["observed"].values()))
    # Coca reduced.
    for kind, hectares in hand["coca"].items():
        assert total(rep, "coca", kind)["hectares"] == money(hectares)
    assert bool(rep.cells["coca"]) == bool(hand["coca"])
    # Producer organisations.
    orgs = total(rep, "organisations", "total")
    if hand["org_households"]:
        assert orgs["households"] == hand["org_households"]
        assert orgs["organisations"] == hand["organisations"]
    else:
        assert orgs is None
    # Titles.
    issued = total(rep, "titles", "issued")
    assert (issued["titles"] if issued else 0) == hand["issued"]
    if issued:
        assert issued["days_to_title"] == hand["days"]
    registered = total(rep, "titles", "registered")
    assert (registered["titles"] if registered else 0) == hand["registered"]
    # Sales.
    for form, kg in hand["kg"].items():
        assert total(rep, "sales", form)["kg"] == money(kg)
    if hand["kg"]:
        assert total(rep, "sales", "total")["sales_pen"] == money(hand["sales_pen"])
    # Training.
    training = total(rep, "training", "total")
    if hand["attendees"]:
        assert training["events"] == hand["events"]
        assert training["attendees"] == hand["attendees"]
        assert training["households"] == hand["trained_households"]
    # Spend by funding source and cost per family served.
    for code in set(hand["support_pen"]) | set(hand["training_pen"]):
        cell = total(rep, "spend", code)
        assert cell["support_pen"] == money(hand["support_pen"].get(code, 0)), code
        assert cell["training_pen"] == money(hand["training_pen"].get(code, 0)), code
    spent = hand["support_pen"].get("total", 0) + hand["training_pen"].get("total", 0)
    if spent:
        per_family = total(rep, "cost_per_result", "families")
        assert per_family["cost_pen"] == money(spent)
        assert per_family["cost_per_result_pen"] == money(Decimal(spent) / hand["served"])


def test_demo_report_matches_a_hand_computation(demo: None) -> None:
    today = timezone.localdate()
    check_against_hand(date(today.year, 1, 1), date(today.year, 12, 31))
    # A long period, so installations planted years ago count as installed.
    check_against_hand(date(2010, 1, 1), today)
    check_against_hand(today - timedelta(days=400), today - timedelta(days=30))


# --- small cells ----------------------------------------------------------------------------------


def line_violations(rep: annual.Report) -> list[tuple[Any, ...]]:
    """Lines (independently defined here) holding exactly one suppressed cell."""
    places = {
        d.ubigeo: (d.province_id, d.department_id, d.is_vraem) for d in District.objects.all()
    }
    provinces = {p: d for p, d, _v in places.values()}
    bad = []
    for section in annual.all_sections():
        if section.name == "cost_per_result":
            continue
        lines: dict[tuple[Any, ...], list[bool]] = defaultdict(list)
        for c in rep.cells[section.name]:
            rest = (c["split"], c["group"], c["key"])
            level, area, hidden = c["level"], c["area"], c["suppressed"]
            if level == "district":
                lines[("districts of", places[area][0], *rest)].append(hidden)
            if level == "province":
                lines[("districts of", area, *rest)].append(hidden)
                lines[("provinces of", provinces[area], *rest)].append(hidden)
            if level == "department":
                lines[("provinces of", area, *rest)].append(hidden)
            if level in ("department", "total"):
                lines[("departments", *rest)].append(hidden)
            if level in ("vraem", "total"):
                lines[("vraem", *rest)].append(hidden)
            for split in ("sex", "age_band", "community") if section.split else ():
                if c["split"] in (split, "all"):
                    lines[("groups", split, level, area, c["key"])].append(hidden)
            for n, (top, parts) in enumerate(section.lines):
                if c["key"] == top or (c["key"] in parts if parts else True):
                    lines[("keys", n, level, area, c["split"], c["group"])].append(hidden)
        bad += [(section.name, *k) for k, flags in lines.items() if sum(flags) == 1]
    return bad


def test_small_cells_are_suppressed_with_their_complements(demo: None) -> None:
    today = timezone.localdate()
    rep = report(date(2010, 1, 1), today, suppress=True)
    assert not line_violations(rep)
    shown = 0
    for name, cells in rep.cells.items():
        for c in cells:
            if c["suppressed"]:
                section = next(s for s in annual.all_sections() if s.name == name)
                assert all(c[f.name] is None for f in section.figures)
            elif "households" in c:
                shown += 1
                assert c["households"] >= 5, (name, c)
    assert shown > 0
    # The totals are published: 20 reviewed demo families is no small cell.
    assert total(rep, "families", "served")["households"] >= 5


def test_complementary_suppression_on_a_known_grid() -> None:
    """Two districts of one province: 12 and 3 families. The 3 is suppressed (primary) and the
    12 too (else province − 12 = 3); the province and the total stay published."""
    section = annual._sections["families"]
    rows = [
        {"district": "080910", "split": "all", "sex": None, "band": None, "community": None,
         "key": "served", "households": 12},
        {"district": "080907", "split": "all", "sex": None, "band": None, "community": None,
         "key": "served", "households": 3},
    ]  # fmt: skip
    places = annual.places_of(["080910", "080907"])
    cells = annual._protect(section, annual.roll_up(section, rows, places), enabled=True)
    hidden = {(c["level"], c["area"]): c["suppressed"] for c in cells}
    assert hidden[("district", "080907")] and hidden[("district", "080910")]
    assert not hidden[("province", "0809")] and not hidden[("total", "total")]
    assert not hidden[("vraem", "in")]


# --- no personal data, Spanish workbook, page ---------------------------------------------------


def personal_data() -> list[str]:
    secrets = []
    for m in Member.objects.all():
        secrets.append(f"{m.given_names} {m.surnames}")
        secrets += [m.document_number, m.phone]
    for h in Household.objects.all():
        secrets += [h.head_name, h.code, str(h.pk)]
    return [s for s in secrets if s and len(s) >= 6]


def workbook_text(content: bytes) -> tuple[list[str], str]:
    book = load_workbook(io.BytesIO(content))
    texts = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row]
    return book.sheetnames, "\n".join(texts)


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="director", is_staff=True, is_superuser=True))
    return client


def test_no_personal_data_in_json_xlsx_or_page(demo: None) -> None:
    secrets = personal_data()
    assert len(secrets) > 50
    client = APIClient()
    client.force_authenticate(UserFactory.create(username="api", is_superuser=True))
    body = client.get(URL, {"from": "2010-01-01", "to": str(timezone.localdate())})
    assert body.status_code == 200
    text = json.dumps(body.json())
    xlsx = client.get(URL, {"from": "2010-01-01", "format": "xlsx"})
    assert xlsx.status_code == 200
    _names, cells = workbook_text(xlsx.content)
    page = staff_client().get(PAGE, {"from": "2010-01-01", "level": "district"})
    assert page.status_code == 200
    html = page.content.decode()
    for where, content in (("json", text), ("xlsx", cells), ("page", html)):
        leaked = [s for s in secrets if s in content]
        assert not leaked, (where, leaked[:3])


def test_workbook_opens_with_spanish_sheets_and_numbers(demo: None) -> None:
    client = APIClient()
    client.force_authenticate(UserFactory.create(username="api", is_superuser=True))
    response = client.get(URL, {"year": timezone.localdate().year}, HTTP_ACCEPT=annual_xlsx())
    assert response.status_code == 200
    assert response["Content-Type"] == annual_xlsx()
    assert "attachment" in response["Content-Disposition"]
    names, text = workbook_text(response.content)
    assert names == [
        "Resumen",
        "Familias atendidas",
        "Hectáreas lícitas",
        "Hectáreas de coca reducidas",
        "Organizaciones de productores",
        "Titulación de predios",
        "Ventas",
        "Capacitación y asistencia",
        "Gasto por fuente",
        "Costo por resultado",
    ]
    book = load_workbook(io.BytesIO(response.content))
    families = book["Familias atendidas"]
    header = [c.value for c in families[1]]
    assert header[:5] == ["Nivel", "Ámbito", "Desagregación", "Grupo", "Cifra"]
    first = [c.value for c in families[2]]
    assert first[:5] == ["Todos los ámbitos", "Todos los ámbitos", "Todos los hogares",
                         "Todos los hogares", "Familias atendidas"]  # fmt: skip
    assert isinstance(first[5], int) and first[5] >= 5
    assert "stage:" not in text and "coca_free" not in text and "tenure_held" not in text
    assert "Etapa: Libre de coca" in text


def annual_xlsx() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_printable_page(demo: None) -> None:
    client = staff_client()
    index = client.get("/admin/")
    assert 'href="/admin/reports/annual/"' in index.content.decode()
    response = client.get(PAGE, {"from": "2010-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "@media print" in html and "size: A4" in html
    assert html.count("<svg") >= 4
    assert "Familias atendidas" in html and "Informe anual de resultados" in html
    today = timezone.localdate()
    assert f"01/01/2010 – 31/12/{today.year}" in html
    # Codes are sent by the filter form (option values) but never shown.
    shown = re.sub(r'value="[^"]*"', "", html)
    assert "stage:" not in shown and "tenure_held" not in shown
    assert "fondo-cooperacion" not in shown and "Fondo de Cooperación Internacional" in shown
    # Decimal comma: the spend of the demo is written with a comma.
    assert any(f",{n:02d}<" in html for n in range(100))
    bad = client.get(PAGE, {"year": "2026", "from": "2026-01-01"})
    assert bad.status_code == 200 and "no ambos" in bad.content.decode()


def test_page_needs_the_indicators_scope(program: Program) -> None:
    role_groups_sync()
    user = UserFactory.create(username="tecnico", is_staff=True)
    membership_assign(user=user, organization=program.agency, role=Role.FIELD_OFFICER)
    client = Client()
    client.force_login(user)
    assert client.get(PAGE).status_code == 403
    assert 'href="/admin/reports/annual/"' not in client.get("/admin/").content.decode()


# --- API: 400s, scope, queries, indicators -------------------------------------------------------


@pytest.fixture
def funder_client(program: Program) -> APIClient:
    data = seed_ledger(program)
    funder = OrganizationFactory.create(code="fondo", kind=OrganizationKind.FUNDER)
    funder.districts.set(District.objects.filter(ubigeo__in=[PICHARI]))
    funder.programs.add(program, data["other"])
    _key, raw = api_key_create(organization=funder, scopes=[Scope.INDICATORS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.mark.parametrize(
    ("params", "attr", "code"),
    [
        ({"bogus": "1"}, "bogus", "unknown_parameter"),
        ({"year": "2026", "from": "2026-01-01"}, "year", "invalid_period"),
        ({"from": "2026-05-01", "to": "2026-01-01"}, "from", "invalid_period"),
        ({"district": "12"}, "district", "invalid"),
        ({"year": "1800"}, "year", "min_value"),
        ({"vraem": "maybe"}, "vraem", "invalid"),
        ({"bogus": "1", "format": "xlsx"}, "bogus", "unknown_parameter"),
    ],
)
def test_bad_parameters_are_400(
    funder_client: APIClient, params: dict[str, str], attr: str, code: str
) -> None:
    response = funder_client.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["type"] == "validation_error"
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {(attr, code)}


def test_scope_and_area(funder_client: APIClient, client_for: Any) -> None:
    assert APIClient().get(URL).status_code == 401
    assert client_for([Scope.HOUSEHOLDS_READ]).get(URL).status_code == 403
    body = funder_client.get(URL, {"year": "2026"}).json()
    families = next(s for s in body["sections"] if s["name"] == "families")
    districts = {c["area"] for c in families["cells"] if c["level"] == "district"}
    assert districts == {PICHARI}  # the funder's area: Sivia's families are not its to see
    served = [
        c for c in families["cells"]
        if c["level"] == "total" and c["split"] == "all" and c["key"] == "served"
    ]  # fmt: skip
    assert (
        served[0]["values"]["households"]
        == Household.objects.filter(district_id=PICHARI, status=HouseholdStatus.ACTIVE).count()
    )
    assert served[0]["area_label"] == "Todos los ámbitos"
    assert body["suppression_threshold"] == 5 and body["period_from"] == "2026-01-01"


def test_queries_do_not_grow_with_households(program: Program) -> None:
    seed_ledger(program)
    query = IndicatorQuery(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    with CaptureQueriesContext(connection) as few:
        annual.annual_report(actor=STAFF, query=query)
    many_households(program, SIVIA, 100, "X")
    with CaptureQueriesContext(connection) as many:
        annual.annual_report(actor=STAFF, query=query)
    # One query a section on PostgreSQL (GROUPING SETS), one per grouping on SQLite.
    assert len(few) == len(many) <= 80


def test_report_figures_are_indicators(funder_client: APIClient) -> None:
    response = funder_client.get(
        "/api/v1/indicators/", {"metric": "families_served", "from": "2026-01-01"}
    )
    assert response.status_code == 200, response.json()
    cells = response.json()["results"]
    served = next(c for c in cells if c["key"] == "served")
    assert (
        served["households"]
        == Household.objects.filter(district_id=PICHARI, status=HouseholdStatus.ACTIVE).count()
    )
    by_district = funder_client.get(
        "/api/v1/indicators/", {"metric": "spend", "group_by": "district", "from": "2026-01-01"}
    ).json()["results"]
    assert {c["district"] for c in by_district} <= {PICHARI}
    for metric in ("licit_hectares", "coca_reduced", "titles", "sales"):
        assert funder_client.get("/api/v1/indicators/", {"metric": metric}).status_code == 200
    rows = indicator_rows(
        actor=STAFF, query=IndicatorQuery(metric="families_served", group_by=("sex",))
    )
    assert all("sex" in r and "key" in r for r in rows)


def test_observed_hectares_take_each_households_latest_confirmed_visit(program: Program) -> None:
    """The licit hectares seen at visits (households without crop installations): only each
    household's latest confirmed visit of the period counts (a later record of the same day
    wins), a crop listed twice is summed, a crop at 0 ha is not shown; by the head's sex too.
    PostgreSQL sums the crops in SQL, SQLite in Python: the same cells."""

    def visit(h: Household, on: date, crops: list[tuple[str, str]], **kw: Any) -> None:
        Verification.objects.create(
            household=h,
            visited_on=on,
            method="field_visit",
            coca_ha=Decimal(0),
            licit_crops=[{"crop": c, "ha": ha} for c, ha in crops],
            status=kw.pop("status", VerificationStatus.CONFIRMED),
            **kw,
        )

    woman, man, earlier = (household(program, PICHARI) for _n in range(3))
    Household.objects.filter(pk=woman.pk).update(head_sex="f", head_birth_date=date(1990, 1, 1))
    Household.objects.filter(pk__in=[man.pk, earlier.pk]).update(head_sex="m")
    noon = timezone.make_aware(datetime(2026, 5, 1, 12))
    visit(woman, date(2026, 3, 1), [("cacao", "1.0")])
    visit(woman, date(2026, 5, 1), [("cacao", "2.0"), ("cafe", "1.0")], created_at=noon)
    visit(
        woman,
        date(2026, 5, 1),
        [("cacao", "1.5"), ("cacao", "0.5"), ("cafe", "0")],
        created_at=noon + timedelta(hours=1),
    )
    visit(man, date(2026, 6, 1), [("cafe", "3.0")])
    visit(man, date(2026, 7, 1), [("cafe", "9.0")], status=VerificationStatus.PENDING)
    visit(earlier, date(2025, 12, 31), [("cacao", "4.0")])

    rep = report(date(2026, 1, 1), date(2026, 12, 31))

    def seen(key: str, split: str = "all", group: str = "all") -> tuple[Decimal, int] | None:
        cell = total(rep, "hectares", key, split, group)
        return None if cell is None else (cell["observed_ha"], cell["households"])

    assert seen("cacao") == (Decimal("2.00"), 1)
    assert seen("cafe") == (Decimal("3.00"), 1)
    assert seen("total") == (Decimal("5.00"), 2)
    assert seen("cacao", "sex", "f") == (Decimal("2.00"), 1)
    assert seen("cafe", "sex", "f") is None
    assert seen("total", "sex", "m") == (Decimal("3.00"), 1)
    assert seen("total", "age_band", "30_44") == (Decimal("2.00"), 1)
    assert seen("total", "age_band", "unknown") == (Decimal("3.00"), 1)


@pytest.mark.postgres
def test_the_sections_sort_and_hash_in_memory_on_postgresql(monkeypatch: Any) -> None:
    """The report's aggregates run with ``REPORT_WORK_MEM`` (at 1M households the families'
    grouping sets otherwise sort on disk), not with the server's default."""
    seen: list[str] = []

    def rows(actor: Actor, query: IndicatorQuery) -> list[dict[str, Any]]:
        with connection.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            seen.append(cursor.fetchone()[0])
        return []

    probe = annual.Section(
        name="probe", title=gettext_lazy("Probe"), figures=(), rows=rows, key_label=str, split=False
    )
    monkeypatch.setattr(annual, "_sections", {"probe": probe})
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]
    annual.annual_report(actor=Actor(unrestricted=True), query=IndicatorQuery())
    assert seen == [annual.REPORT_WORK_MEM] != [before]
