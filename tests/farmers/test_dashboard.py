"""The programme-staff dashboard in the admin: figures from a known ledger, access, scoping and a
bounded number of queries."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from farmers.choices import Stage
from farmers.models import DashboardRelapses
from farmers.reporting import summaries
from farmers.reporting.dashboard import DashboardFilters
from registry.alerts import AlertSpec, alert_raise
from registry.choices import AlertKind, Role
from registry.models import Program
from registry.services import membership_assign, role_groups_sync
from tests.factories import UserFactory
from tests.farmers.ledger import (
    PICHARI,
    SIVIA,
    change,
    household,
    seed_ledger,
    seed_titles_and_sales,
    support,
)

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


def staff_client(program: Program, role: str = Role.PROGRAM_STAFF, is_staff: bool = True) -> Client:
    role_groups_sync()
    user = UserFactory.create(username=f"u-{role}-{is_staff}", is_staff=is_staff)
    membership_assign(user=user, organization=program.agency, role=role)
    client = Client()
    client.force_login(user)
    return client


def raise_alerts(program: Program, other: Program) -> None:
    for n, (kind, district, prog) in enumerate(
        [
            (AlertKind.TITLE_OVERDUE, PICHARI, program),
            (AlertKind.TITLE_OVERDUE, PICHARI, program),
            (AlertKind.DELIVERY_OVERDUE, SIVIA, program),
            (AlertKind.RELAPSE, PICHARI, program),
            (AlertKind.TITLE_OVERDUE, PICHARI, other),  # another programme: not shown
        ]
    ):
        alert_raise(
            AlertSpec(kind=kind, key=f"k{n}", message="x", district_id=district, program_id=prog.pk)
        )


@pytest.fixture
def seeded(program: Program) -> dict[str, Any]:
    data = seed_ledger(program)
    raise_alerts(program, data["other"])
    summaries.rebuild()  # the synthetic rows bypass the services
    return data


def test_dashboard_shows_the_programmes_figures(program: Program, seeded: dict[str, Any]) -> None:
    response = staff_client(program).get(URL)
    assert response.status_code == 200
    context = response.context
    figures = [(f.label, f.value, f.note) for f in context["figures"]]
    # Programme staff of the agency running pirdais: 10 families (6 Pichari + 4 Sivia), all
    # registered in the default period (the 12 months to November 2026), 2 relapses in June,
    # S/ 640 of support, 3 overdue titles and deliveries (the relapse alert is not one).
    assert [value for _label, value, _note in figures] == [
        "10",
        "3",
        "10",
        "2",
        "0",
        "S/ 640.00",
        "3",
    ]
    assert figures[1][2] == "30%"
    html = response.content.decode()
    funnel = str(context["funnel_chart"])
    for text in ("Inscrito", ">10<", ">4<", ">3<", "Reincidente", ">2<"):
        assert text in funnel, text
    district_map = str(context["map_chart"])
    # A choropleth of outlines: one linked path per district, named in its tooltip.
    assert "<title>Sivia: 4 hogares</title>" in district_map
    assert "<title>Pichari: 6 hogares</title>" in district_map
    assert district_map.count("<path") > 2 and "MPL-2.0" in district_map
    assert [(r["district"], r["titles"], r["deliveries"]) for r in context["overdue_rows"]] == [
        ("Sivia", 0, 1),
        ("Pichari", 2, 0),
    ]
    [cost_chart] = context["cost_charts"]
    # Cost per result: all S/ 640 spent on pirdais' 10 families over those reaching each rung.
    for text in ("S/ 64.00", "S/ 106.67", "S/ 128.00"):
        assert text in str(cost_chart), text
    assert html.count("<svg") >= 6
    assert "https://" not in html.split("<body", 1)[1].replace("https://www.djangoproject.com", "")


def test_dashboard_renders_without_any_data(program: Program) -> None:
    response = staff_client(program).get(URL)
    assert response.status_code == 200
    assert "Aún no hay hogares." in response.content.decode()


def test_dashboard_is_linked_from_the_admin_index(program: Program) -> None:
    response = staff_client(program).get("/admin/")
    assert URL in response.content.decode()
    # A field officer in the admin has no indicators:read: no link to a page they cannot open.
    response = staff_client(program, role=Role.FIELD_OFFICER).get("/admin/")
    assert response.status_code == 200 and URL not in response.content.decode()


def test_only_staff_with_indicators_read_see_it(program: Program) -> None:
    assert Client().get(URL).status_code == 302
    assert staff_client(program, is_staff=False).get(URL).status_code == 302
    assert staff_client(program, role=Role.FIELD_OFFICER).get(URL).status_code == 403
    assert staff_client(program, role=Role.SUPERVISOR).get(URL).status_code == 200


def test_query_count_does_not_grow_with_households(
    program: Program, seeded: dict[str, Any]
) -> None:
    client = staff_client(program)
    seed_titles_and_sales(program, seeded["other"])
    summaries.rebuild()
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for n in range(30):
        h = household(program, (PICHARI, SIVIA)[n % 2], stage=Stage.COMMITTED)
        change(h, Stage.ENROLLED, Stage.COMMITTED, date(2026, 5, 1 + n % 20))
        support(h, "5.00", seeded["usaid"])
    for _n in range(5):  # 25 more title files, 30 more contracts and deliveries
        seed_titles_and_sales(program, seeded["other"])
    summaries.rebuild()
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    # Two queries for each card (titles, sales) over their own summary tables.
    assert len(few.captured_queries) == len(many.captured_queries) <= 29
    # None of them reads the ledger, the households, the support, the title files, the
    # contracts or the deliveries.
    records = (
        "farmers_stagechange",
        'farmers_household"',
        "farmers_support",
        'titles_titleapplication"',
        'markets_contract"',
        'markets_delivery"',
    )
    for query in many.captured_queries:
        for table in records:
            assert table not in query["sql"], query["sql"]


def test_demo_data_fills_the_dashboard() -> None:
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from farmers.models import Support

    call_command("seed_demo", "--force", stdout=StringIO())
    items = Support.objects.count()
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Support.objects.count() == items > 0  # idempotent
    client = Client()
    client.force_login(get_user_model().objects.get(username="personal.devida"))
    response = client.get(URL)
    assert response.status_code == 200
    # Reviewed (active) households only: the demo's 4 pending review do not count.
    assert response.context["figures"][0].value == "20"
    [cost_chart] = response.context["cost_charts"]
    assert "S/ " in str(cost_chart)


def changelist_count(client: Client, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200, href
    return int(response.context["cl"].result_count)


def test_every_figure_links_to_the_households_behind_it(
    program: Program, seeded: dict[str, Any]
) -> None:
    client = staff_client(program)
    context = client.get(URL).context
    counted = {f.label: (f.value, f.href) for f in context["figures"]}
    for label in ("Hogares", "Libres de coca o más", "Inscritos en el periodo"):
        value, href = counted[label]
        assert changelist_count(client, href) == int(value), label
    # The two relapsed families, and the 10 that received support in the period.
    assert changelist_count(client, counted["Reincidencias en el periodo"][1]) == 2
    assert changelist_count(client, counted["Gastado en el periodo"][1]) == 10
    # Districts on the map and rows of the cost table link too.
    sivia = f"district__exact={SIVIA}"
    assert sivia in str(context["map_chart"])
    [row] = [
        r for r in context["cost_rows"] if r["stage"] == Stage.COCA_FREE and r["funding_source"]
    ]
    assert changelist_count(client, row["href"].replace("&amp;", "&")) == 5


def test_filters_narrow_every_figure(program: Program, seeded: dict[str, Any]) -> None:
    client = staff_client(program)

    def values(**params: str) -> list[str]:
        response = client.get(URL, params)
        assert response.status_code == 200
        return [f.value for f in response.context["figures"]]

    assert values(district=SIVIA)[:3] == ["4", "0", "4"]
    assert values(department="08")[:3] == ["6", "3", "6"]  # Cusco: Pichari
    assert values(vraem="no")[0] == "0"
    assert values(program="pirdais")[0] == "10"
    # Funded by usaid? pirdais has no funder: nothing.
    # A period before the relapses (January to May 2026): none, and spend from Jan to Mar.
    narrowed = values(month_from="2026-01", month_to="2026-05")
    assert narrowed[3] == "0" and narrowed[5] == "S/ 640.00"
    assert values(month_from="2026-07", month_to="2026-11")[2:4] == ["0", "0"]
    # Labels, never codes, in the form.
    html = client.get(URL).content.decode()
    assert ">Cusco</option>" in html and ">PIRDAIS</option>" in html
    assert ">Pichari (La Convención)</option>" in html
    # A period that ends before it starts is said, and the default one is shown.
    response = client.get(URL, {"month_from": "2026-06", "month_to": "2026-01"})
    assert response.status_code == 200 and response.context["form"].errors


def panel_figures(context: Any, key: str) -> dict[str, tuple[str, str]]:
    [panel] = [p for p in context["panels"] if p.key == key]
    return {f.label: (f.value, f.href) for f in panel.figures}


def test_title_and_sales_cards(program: Program, seeded: dict[str, Any]) -> None:
    """The land-title and sales cards: figures from the summary tables, each linking to the
    admin list of the title files, deliveries or contracts behind it, labels not codes."""
    seed_titles_and_sales(program, seeded["other"])
    summaries.rebuild()
    client = staff_client(program)
    response = client.get(URL, {"month_from": "2026-01", "month_to": "2026-11"})
    titles = panel_figures(response.context, "titles")
    assert [v for v, _h in titles.values()] == ["4", "1", "1", "123", "2"]
    [mean] = [f for f in response.context["panels"][0].figures if f.value == "123"]
    assert mean.note == "1 expediente"
    for (value, href), label in zip(titles.values(), titles, strict=True):
        expected = 1 if value == "123" else int(value)  # the registered files behind the mean
        assert changelist_count(client, href) == expected, label
    sales = panel_figures(response.context, "sales")
    assert [v for v, _h in sales.values()] == ["346 kg", "S/ 3,354.75", "3", "1"]
    counts = [changelist_count(client, href) for _v, href in sales.values()]
    assert counts == [3, 3, 3, 1]
    [panel] = [p for p in response.context["panels"] if p.key == "sales"]
    rows = [[cell.text for cell in row] for row in panel.rows]
    assert [row[1:] for row in rows] == [
        ["300 kg", "S/ 2,854.75", "2", "1"],
        ["46 kg", "S/ 500.00", "1", "0"],
    ]
    # Labels, never codes.
    assert rows[0][0] == "Cacao en grano seco fermentado" and "parchment" not in rows[1][0]
    for row in panel.rows:
        assert changelist_count(client, row[1].href) == int(row[3].text)
    assert changelist_count(client, panel.rows[0][4].href) == 1
    # The open files by status, each bar linking to its files.
    assert "status__exact=legal_review" in str(response.context["panels"][0].charts[2])


def test_title_and_sales_cards_follow_the_filters(program: Program, seeded: dict[str, Any]) -> None:
    seed_titles_and_sales(program, seeded["other"])
    summaries.rebuild()
    client = staff_client(program)

    def values(key: str, **params: str) -> list[str]:
        response = client.get(URL, {"month_from": "2026-01", "month_to": "2026-11", **params})
        assert response.status_code == 200
        return [v for v, _h in panel_figures(response.context, key).values()]

    assert values("titles", district=SIVIA) == ["1", "0", "0", "—", "0"]
    assert values("titles", department="08") == ["3", "1", "1", "123", "2"]
    assert values("titles", vraem="no")[0] == "0"
    assert values("titles", month_from="2026-06", month_to="2026-07")[:3] == ["0", "1", "1"]
    assert values("sales", district=SIVIA) == ["46 kg", "S/ 500.00", "1", "0"]
    assert values("sales", month_from="2026-06", month_to="2026-06")[:3] == [
        "200 kg",
        "S/ 1,900.00",
        "1",
    ]


def test_relapses_per_month_count_households_not_moves(
    program: Program, seeded: dict[str, Any]
) -> None:
    """One of the two relapsed families relapsed twice in June (back to coca-free on the 24th,
    relapsed again on the 28th) and once more in August: June still shows 2 households, not 3
    moves; August shows 1; the period's figure sums the months (3)."""
    twice = seeded["pichari"][4]
    change(twice, Stage.RELAPSED, Stage.COCA_FREE, date(2026, 6, 24))
    change(twice, Stage.COCA_FREE, Stage.RELAPSED, date(2026, 6, 28))
    change(twice, Stage.RELAPSED, Stage.COCA_FREE, date(2026, 7, 20))
    change(twice, Stage.COCA_FREE, Stage.RELAPSED, date(2026, 8, 2))
    summaries.rebuild()
    context = staff_client(program).get(URL).context
    months = [m.isoformat()[:7] for m in DashboardFilters.default().months()]
    chart = str(context["relapse_chart"])
    shown = dict(zip(months, relapse_bars(chart), strict=True))
    assert (shown["2026-06"], shown["2026-07"], shown["2026-08"]) == (2, 0, 1)
    figures = {str(f.label): f.value for f in context["figures"]}
    assert figures["Reincidencias en el periodo"] == "3"
    june = DashboardRelapses.objects.filter(month=date(2026, 6, 1), district_id=PICHARI)
    assert sum(june.values_list("households", flat=True)) == 2


def relapse_bars(chart: str) -> list[int]:
    """The values of the relapse chart's columns, month by month (its description lists them:
    "nov\n2025: 0; dic: 0; …")."""
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", chart, re.S)
    assert desc is not None
    return [int(part.rsplit(": ", 1)[1]) for part in desc.group(1).split("; ")]
