"""The field pages end to end in headless Chromium at phone size: register, visit with GPS,
walk a plot, and sync records made offline exactly once (or show why they were refused)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from farmers.models import Household, Member, Plot, Verification
from registry.models import ChangeRecord
from tests.farmers.evidence_helpers import give_plot
from tests.field.browser import (
    ALL_FILES_SENT,
    HEAD,
    SPOUSE,
    check_page,
    fill_member,
    phone_context,
    sign_in,
    wait_cached,
    wait_outbox,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1×1 PNG, the visit's photo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_register_household_with_two_members(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    existing = make_household(officer, dni="11223344", given="Marta", surnames="Ccori Pari")
    context = phone_context(chromium)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    checks: list[tuple[str, str]] = []
    page.on(
        "request", lambda r: checks.append((r.method, r.url)) if "/duplicados/" in r.url else None
    )
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/registrar/")
    check_page(page, artifacts_dir, "registrar-paso1")
    page.fill("#community", "Natividad")
    page.click("[data-step='1'] [data-next]")
    # A DNI already registered is flagged while typing, naming the household the officer may see.
    fill_member(page, 0, dict(HEAD, document_number="11223344"))
    warning = page.locator("[data-member='0'] [data-dedup-result] .alert")
    warning.wait_for()
    assert "ya está registrado" in warning.inner_text()
    assert existing.code in warning.inner_text()
    # The check is a POST: the ID number never appears in a URL.
    assert checks and {method for method, _url in checks} == {"POST"}
    assert not [url for _method, url in checks if "?" in url or "11223344" in url]
    page.fill("[name='members.0.document_number']", HEAD["document_number"])
    page.click("[data-add-member]")
    fill_member(page, 1, SPOUSE)
    check_page(page, artifacts_dir, "registrar-paso2")
    page.click("[data-step='2'] [data-next]")
    check_page(page, artifacts_dir, "registrar-paso3")
    page.click("[data-step='3'] button[type=submit]")
    page.wait_for_url(re.compile(r"/campo/hogares/[0-9a-f-]{36}/$"))
    household_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    household = Household.objects.get(pk=household_id)
    assert household.status == "pending_review"
    assert household.created_by == officer
    assert sorted(
        Member.objects.filter(household=household).values_list("document_number", flat=True)
    ) == ["20304050", "30405060"]
    assert ChangeRecord.objects.filter(object_id=str(household.pk)).exists()
    assert "Rosa Huamán Ccori" in page.inner_text("h1")
    check_page(page, artifacts_dir, "hogar")
    context.close()
    assert outside == []


def test_record_visit_with_gps_and_photo(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    household = make_household(officer)
    plot = give_plot(household.pk)  # the licit crops must fit on the family's plots
    context = phone_context(chromium, geolocation={"latitude": -12.4401, "longitude": -73.9802})
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/visita/")
    page.check(f"[name='plots'][value='{plot.pk}']")  # the plots seen: the API's ``plots``
    page.select_option("[name='licit_crops.0.crop']", "cacao")
    page.fill("[name='licit_crops.0.ha']", "1,5")  # decimal comma
    page.click("[data-gps]")
    page.wait_for_function("() => document.querySelector(\"[name='location.lat']\").value !== ''")
    page.set_input_files(
        "#photo", files=[{"name": "visita.png", "mimeType": "image/png", "buffer": PNG}]
    )
    check_page(page, artifacts_dir, "visita")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{household.pk}/")
    visit = Verification.objects.get(household=household)
    assert (str(visit.latitude), str(visit.longitude)) == ("-12.440100", "-73.980200")
    assert visit.licit_crops == [{"crop": "cacao", "ha": "1.5000"}]
    assert list(visit.plots.all()) == [plot]
    assert visit.created_by == officer
    wait_outbox(page, ALL_FILES_SENT)
    visit.refresh_from_db()
    assert len(visit.photo_sha256) == 64
    context.close()


def test_capture_plot_by_walking_and_by_file(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    household = make_household(officer)
    corners = [
        (-12.4400, -73.9800),
        (-12.4400, -73.9790),
        (-12.4410, -73.9790),
        (-12.4410, -73.9800),
    ]
    context = phone_context(
        chromium, geolocation={"latitude": corners[0][0], "longitude": corners[0][1]}
    )
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/parcela/")
    page.fill("#name", "Chacra Alta")
    page.select_option("#tenure", "possession")
    page.click("[data-walk-start]")
    page.wait_for_function(
        "() => document.querySelector('[data-walk-status]').textContent.startsWith('1 ')"
    )
    for lat, lon in corners[1:]:
        context.set_geolocation({"latitude": lat, "longitude": lon})
        page.click("[data-walk-point]")
    page.wait_for_function(
        "() => document.querySelector('[data-walk-status]').textContent.startsWith('4 ')"
    )
    page.click("[data-walk-close]")
    assert page.locator("#map path.leaflet-interactive").count() == 1
    check_page(page, artifacts_dir, "parcela")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{household.pk}/")
    plot = Plot.objects.get(household=household)
    assert plot.name == "Chacra Alta"
    assert 1.0 < float(plot.area_ha) < 1.4  # about 110 m × 108 m
    assert page.locator("#map path.leaflet-interactive").count() == 1

    # The same from a KML file (e.g. exported from a GPS).
    kml = (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon>'
        "<outerBoundaryIs><LinearRing><coordinates>-73.970,-12.430 -73.969,-12.430 "
        "-73.969,-12.431 -73.970,-12.431 -73.970,-12.430</coordinates></LinearRing>"
        "</outerBoundaryIs></Polygon></Placemark></kml>"
    )
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/parcela/")
    page.fill("#name", "Chacra Baja")
    page.set_input_files(
        "#file",
        files=[{"name": "chacra.kml", "mimeType": "application/xml", "buffer": kml.encode()}],
    )
    page.wait_for_function("() => document.querySelector('[data-geometry]').value !== ''")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{household.pk}/")
    assert Plot.objects.filter(household=household).count() == 2
    assert page.locator("#map path.leaflet-interactive").count() == 2
    context.close()


def test_every_page_at_phone_size_is_accessible(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    from datetime import date

    from farmers.services import plot_create, verification_create
    from registry.actors import Actor
    from registry.alerts import AlertSpec, alert_raise
    from registry.choices import AlertKind

    household = make_household(officer)
    actor = Actor.for_user(officer)
    plot_create(
        actor=actor,
        household=household.pk,
        name="Chacra Alta",
        tenure="possession",
        geometry={
            "type": "Polygon",
            "coordinates": [
                [[-73.98, -12.44], [-73.979, -12.44], [-73.979, -12.441], [-73.98, -12.44]]
            ],
        },
    )
    verification_create(
        actor=actor,
        household=household.pk,
        visited_on=date(2026, 11, 2),
        method="field_visit",
        coca_ha="0",
        licit_crops=[{"crop": "cacao", "ha": "0.5"}],  # fits on the ~0.6 ha plot
        location={"lat": -12.44, "lon": -73.98},
    )
    alert_raise(
        AlertSpec(
            kind=AlertKind.VISIT_DUE,
            key=f"visit:{household.pk}",
            message=f"{household.code}: visita de verificación en 30 días",
            district_id=household.district_id,
            program_id=household.program_id,
            household_id=household.pk,
            due_on=date(2026, 12, 28),
        )
    )
    context = phone_context(chromium)
    page = context.new_page()
    page.goto(f"{live_server.url}/campo/ingresar/")
    check_page(page, artifacts_dir, "ingresar")
    sign_in(page, live_server, "tecnico")
    check_page(page, artifacts_dir, "mi-trabajo")
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/")
    assert page.locator("#map path.leaflet-interactive").count() == 1
    check_page(page, artifacts_dir, "hogar-con-parcela")
    # English through the language switch.
    page.select_option("#language", "en")
    page.click("footer button:has-text('Modificar')")
    page.wait_for_selector("html[lang=en]")
    assert page.get_by_role("heading", name="Members").is_visible()
    check_page(page, artifacts_dir, "hogar-en")
    # Signing out forgets the pages cached for offline use (they hold personal data).
    wait_cached(page, "/campo/")
    page.click("footer button:has-text('Sign out')")
    page.wait_for_url(f"{live_server.url}/campo/ingresar/")
    assert page.evaluate("caches.match('/campo/').then(hit => !hit)")
    context.close()
