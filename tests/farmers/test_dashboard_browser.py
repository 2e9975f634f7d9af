"""The dashboard in a real headless Chromium: login through the form, charts drawn with the
seeded figures at desktop and phone widths, nothing fetched from outside the server."""

from __future__ import annotations

from typing import Any

import pytest

from registry.choices import Role
from registry.geography import load_geography
from registry.models import Department, District, Program, Province
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.ledger import seed_ledger
from tests.farmers.test_dashboard import raise_alerts

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
    # Headline figures: 10 families, 3 coca-free or beyond, 2 relapses, 4 open alerts.
    figures = page.locator(".dash-figure .value").all_inner_texts()
    assert [f.split("\n")[0].replace("30%", "").strip() for f in figures] == ["10", "3", "2", "4"]
    charts = page.locator("svg.chart")
    assert charts.count() >= 6
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    funnel = page.locator("#funnel svg")
    assert funnel.get_by_text("Inscrito", exact=True).is_visible()
    assert "10" in funnel.locator("text").all_text_contents()
    assert page.locator("#cost svg").get_by_text("S/ 64.00", exact=True).is_visible()
    assert page.locator("#map svg").get_by_text("Pichari", exact=True).is_visible()
    assert page.locator("#overdue svg").get_by_text("Sivia", exact=True).is_visible()
    # No horizontal scrolling on a phone.
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
             .filter(e => !e.closest('.dash-table'))  // tables scroll inside their box
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
             .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' +
                              Math.round(e.getBoundingClientRect().right))"""
    )
    assert wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.screenshot(path=str(artifacts_dir / f"dashboard-{name}.png"), full_page=True)
    for card in ("funnel", "stages", "map", "cost"):
        page.locator(f"#{card}").screenshot(
            path=str(artifacts_dir / f"dashboard-{name}-{card}.png")
        )
    context.close()
    assert outside == []
