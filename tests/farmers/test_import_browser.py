"""The household import in a real headless Chromium at 1280 px: a file with errors after row 500
is uploaded, checked in the background, and its report shows those errors (nothing capped at
500 rows), in Spanish ("Se crearán", never "Creado"); confirmed without a new upload, it imports.
Nothing is fetched from outside; no serious accessibility problem (axe-core)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from farmers.models import Household
from registry.geography import load_geography
from registry.models import Department, District, Province
from tests.factories import ProgramFactory
from tests.farmers.test_import_jobs import csv_bytes, families
from tests.field.browser import serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "clave-segura-123"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def staff() -> Any:
    if not District.objects.exists():
        load_geography(Department, Province, District)
    ProgramFactory.create(code="pirdais", name="PIRDAIS")
    return get_user_model().objects.create_superuser("importadora", "i@example.org", PASSWORD)


def test_import_of_a_file_with_errors_after_row_500(
    chromium: Any, live_server: Any, artifacts_dir: Any, staff: Any, tmp_path: Any
) -> None:
    rows = families(620, bad={2: {"sex": "x"}, 560: {"birth_date": "31/02/1980"}})
    path = tmp_path / "hogares.csv"
    path.write_bytes(csv_bytes(rows))
    context = chromium.new_context(viewport=DESKTOP, locale="es-PE")
    context.set_default_timeout(60_000)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    url = reverse("admin:farmers_household_import")
    page.goto(f"{live_server.url}/admin/login/?next={url}")
    page.fill("#id_username", "importadora")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{live_server.url}{url}")
    page.screenshot(path=str(artifacts_dir / "admin-import-upload-1280.png"), full_page=True)

    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Subir y revisar").click()
    page.wait_for_selector("#import-summary")
    summary = page.locator("#import-summary").inner_text()
    assert "Hogares que se crearán" in summary and "618" in summary
    assert "Creado" not in page.locator("#content-main").inner_text()
    errors = page.locator("#result_list tbody tr")
    assert errors.count() == 2
    last = errors.nth(1).inner_text()
    assert "562" in last and "Fecha de nacimiento" in last  # row 562: after row 500, shown
    assert page.get_by_role("link", name="Descargar los errores (.xlsx)").is_visible()
    page.screenshot(path=str(artifacts_dir / "admin-import-report-1280.png"), full_page=True)
    violations = serious_violations(page)

    page.locator("#import-confirm").click()
    page.wait_for_selector("text=Hogares creados")
    assert Household.objects.count() == 618
    page.screenshot(path=str(artifacts_dir / "admin-import-done-1280.png"), full_page=True)
    context.close()
    assert violations == []
    assert outside == []
