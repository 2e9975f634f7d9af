"""The dashboard in a real headless Chromium: login through the form, charts and the district map
drawn with the seeded figures at 1280 and 360 px, nothing cut off (the cost and sales tables
show labels and wrap or scroll inside their cards), the land-title and sales cards, the filters
and the links to the households and deliveries behind a figure working, nothing fetched from
outside the server and no serious accessibility problem (axe-core). Screenshots are saved in the
test artefacts."""

from __future__ import annotations

from typing import Any

import pytest

from farmers.reporting import summaries
from registry.choices import Role
from registry.geography import load_geography
from registry.models import Department, District, Program, Province
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.ledger import seed_ledger, seed_titles_and_sales
from tests.farmers.test_dashboard import raise_alerts
from tests.field.browser import serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "clave-segura-123"


@pytest.fixture
def staff_program() -> Program:
    # A transactional test empties every table when it ends, geography included: reload it.
    if not District.objects.exists():
        load_geography(Department, Province, District)
    agency = OrganizationFactory.create(code="devida", kind="program_agency", ruc="")
    program = ProgramFactory.create(code="pirdais", name="PIRDAIS", agency=agency)
    data = seed_ledger(program)
    raise_alerts(program, data["other"])
    seed_titles_and_sales(program, data["other"])
    summaries.rebuild()  # the synthetic rows bypass the services
    role_groups_sync()
    user = UserFactory.create(username="personal", is_staff=True)
    membership_assign(user=user, organization=agency, role=Role.PROGRAM_STAFF)
    return program


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("360", {"width": 360, "height": 740})],
)
def test_dashboard_charts_render_with_seeded_figures(
    chromium: Any,
    live_server: Any,
    artifacts_dir: Any,
    staff_program: Program,
    name: str,
    viewport: dict[str, int],
) -> None:
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/dashboard/")
    page.fill("#id_username", "personal")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{live_server.url}/admin/dashboard/")
    assert page.locator("h1").inner_text() == "Tablero del programa"

    # Headline figures: 10 families, 3 coca-free or beyond, 10 registered and 2 relapses in the
    # period, none with tenure, S/ 640 spent, 3 overdue titles and deliveries.
    def figures(where: str) -> list[str]:
        return list(
            page.evaluate(
                f"() => [...document.querySelectorAll('{where} .dash-figure .value')]"
                ".map(e => e.firstChild.textContent.trim())"
            )
        )

    assert figures("#headline") == ["10", "3", "10", "2", "0", "S/ 640.00", "3"]
    # Land titles: 4 files submitted in the period, 1 title issued and registered after 123
    # days, 2 files open; sales: 346 kg worth S/ 3,354.75 in 3 deliveries, 1 active contract.
    assert figures("#titles") == ["4", "1", "1", "123", "2"]
    assert figures("#sales") == ["346 kg", "S/ 3,354.75", "3", "1"]
    charts = page.locator("svg.chart")
    assert charts.count() >= 11
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    funnel = page.locator("#funnel svg")
    assert funnel.get_by_text("Inscrito", exact=True).is_visible()
    assert "10" in funnel.locator("text").all_text_contents()
    assert page.locator("#cost svg").get_by_text("S/ 64.00", exact=True).is_visible()
    # The choropleth: one linked outline per district, named in its tooltip, and its legend.
    titles = page.locator("#map svg a title").all_text_contents()
    assert sorted(titles) == ["Pichari: 6 hogares", "Sivia: 4 hogares"]
    assert page.locator("#map svg rect").count() >= 1  # the legend's classes
    # The cost table: labels, never codes, and nothing cut off inside its card.
    cost_text = page.locator("#cost table").inner_text()
    assert "PIRDAIS" in cost_text and "Coca-free" not in cost_text and "Libre de coca" in cost_text
    assert "pirdais" not in cost_text and "coca_free" not in cost_text
    card = page.locator("#cost").bounding_box()
    table_box = page.locator("#cost .dash-table").bounding_box()
    assert card is not None and table_box is not None
    assert table_box["x"] + table_box["width"] <= card["x"] + card["width"] + 1
    assert page.locator("#overdue svg").get_by_text("Sivia", exact=True).is_visible()
    # The title and sales cards: labels, never codes, and the sales table inside its card.
    assert page.locator("#titles svg").get_by_text("En calificación legal", exact=True).is_visible()
    sales_text = page.locator("#sales table").inner_text()
    assert "Cacao en grano seco fermentado" in sales_text and "cacao_dry" not in sales_text
    card = page.locator("#sales").bounding_box()
    table_box = page.locator("#sales .dash-table").bounding_box()
    assert card is not None and table_box is not None
    assert table_box["x"] + table_box["width"] <= card["x"] + card["width"] + 1
    # No horizontal scrolling on a phone.
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
             .filter(e => !e.closest('.dash-table'))  // tables scroll inside their box
             // an SVG clips its content to its own box (checked above for every chart)
             .filter(e => !e.closest('svg') || e.tagName.toLowerCase() === 'svg')
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
             .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' +
                              Math.round(e.getBoundingClientRect().right))"""
    )
    assert wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.screenshot(path=str(artifacts_dir / f"dashboard-{name}.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], [(v["id"], v["help"], v["nodes"]) for v in violations]
    for card in ("funnel", "stages", "map", "cost", "titles", "sales"):
        page.locator(f"#{card}").screenshot(
            path=str(artifacts_dir / f"dashboard-{name}-{card}.png")
        )
    # The deliveries behind the sales figures, then back.
    page.locator("#sales .dash-figure a").first.click()
    page.wait_for_url("**/admin/markets/delivery/**")
    assert page.locator("#result_list tbody tr").count() == 3
    page.go_back()
    page.wait_for_url(f"{live_server.url}/admin/dashboard/")
    # The filters: Sivia only (labels in the form), then the households behind the first figure.
    page.select_option("#id_district", label="Sivia (Huanta)")
    page.get_by_role("button", name="Aplicar").click()
    page.wait_for_url("**district=050407**")
    assert page.locator(".dash-figure .value").first.inner_text().strip() == "4"
    assert figures("#titles") == ["1", "0", "0", "—", "0"]
    assert figures("#sales")[0] == "46 kg"
    page.screenshot(path=str(artifacts_dir / f"dashboard-{name}-sivia.png"), full_page=True)
    page.locator(".dash-figure a").first.click()
    page.wait_for_url("**/admin/farmers/household/**")
    assert page.locator("#result_list tbody tr").count() == 4
    context.close()
    assert outside == []
