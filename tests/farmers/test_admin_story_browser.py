"""The household's whole story in a real headless Chromium at 1280 px, with the demo data: every
kind of evidence on the page (plots drawn on the map, visits with their photo, title files with
their documents, contracts with deliveries, alerts, stage history, history in words), the
evidence opening within scope, nothing fetched from outside and no serious accessibility
problem (axe-core)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from registry.geography import load_geography
from registry.models import Department, District, Province
from tests.farmers.test_admin_story import the_fullest_household
from tests.field.browser import serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "clave-segura-123"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo_staff() -> Any:
    # A transactional test empties every table when it ends, geography included: reload it.
    if not District.objects.exists():
        load_geography(Department, Province, District)
    call_command("seed_demo", "--force", stdout=StringIO())
    user = get_user_model().objects.get(username="personal.devida")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_household_page_with_every_kind_of_evidence(
    chromium: Any, live_server: Any, artifacts_dir: Any, demo_staff: Any
) -> None:
    household = the_fullest_household()
    context = chromium.new_context(viewport=DESKTOP, locale="es-PE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    url = reverse("admin:farmers_household_change", args=[household.pk])
    page.goto(f"{live_server.url}/admin/login/?next={url}")
    page.fill("#id_username", "personal.devida")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{live_server.url}{url}")

    # The plots drawn on the server, visible and inside the page width.
    plot_map = page.locator("#story-map svg.plot-map")
    assert plot_map.is_visible()
    box = plot_map.bounding_box()
    assert box is not None and box["width"] > 200 and box["x"] + box["width"] <= 1280
    assert page.locator("#story-map svg path").count() >= 1
    # Every kind of evidence has its section, in Spanish.
    for section, heading in [
        ("story-titles", "Solicitudes de título"),
        ("story-contracts", "Contratos y entregas"),
        ("story-alerts", "Alertas"),
        ("story-history", "Historial"),
    ]:
        assert page.locator(f"#{section} h2").inner_text().strip().lower() == heading.lower()
    assert page.get_by_role("heading", name="Visitas de verificación").is_visible()
    assert page.get_by_role("heading", name="Integrantes").is_visible()
    assert page.get_by_role("link", name="Abrir en la app de campo").is_visible()
    # The visit's photo and a title document open (signed in, within scope).
    photo = page.get_by_role("link", name="Ver la foto").first
    photo_response = page.request.get(f"{live_server.url}{photo.get_attribute('href')}")
    assert photo_response.status == 200
    assert photo_response.headers["content-type"] == "image/png"
    document = page.locator("#story-titles td a[target=_blank]").first
    document_response = page.request.get(f"{live_server.url}{document.get_attribute('href')}")
    assert document_response.status == 200
    assert document_response.headers["content-type"] == "application/pdf"

    page.screenshot(path=str(artifacts_dir / "admin-household-story-1280.png"), full_page=True)
    page.screenshot(path=str(artifacts_dir / "admin-household-top-1280.png"))
    for section in ("story-map", "story-tracks", "story-titles", "story-contracts", "story-alerts"):
        page.locator(f"#{section}").screenshot(
            path=str(artifacts_dir / f"admin-household-{section}-1280.png")
        )
    violations = serious_violations(page)
    context.close()
    assert violations == []
    assert outside == []
