"""Offline in headless Chromium: registrations made without connection wait in the phone and
reach the registry exactly once when it returns; a refused one shows the registry's reason."""

from __future__ import annotations

from typing import Any

import pytest

from farmers.models import Household
from registry.models import ChangeRecord
from tests.field.browser import (
    ALL_SENT,
    HEAD,
    SPOUSE,
    check_page,
    outbox_rows,
    phone_context,
    register,
    sign_in,
    wait_cached,
    wait_outbox,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_offline_registrations_sync_exactly_once(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any
) -> None:
    context = phone_context(chromium)
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/registrar/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_cached(page, "/campo/")

    context.set_offline(True)
    page.wait_for_function("() => document.getElementById('net-status').classList.contains('off')")
    register(page, HEAD, SPOUSE)
    page.locator("[data-saved-notice]").wait_for()
    assert "Guardado en este celular" in page.inner_text("[data-saved-notice]")
    second = dict(HEAD, given_names="Elena", surnames="Rojas Quispe", document_number="40506070")
    register(page, second)
    wait_outbox(page, "rows => rows.length === 2")
    rows = outbox_rows(page)
    assert [r["status"] for r in rows] == ["pending", "pending"]
    ids = [r["id"] for r in rows]
    assert Household.objects.count() == 0

    # Without signal the app still opens from the phone's cache, with the records waiting.
    page.goto(f"{live_server.url}/campo/")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-outbox-list] li[data-status=pending]').length === 2"
    )
    check_page(page, artifacts_dir, "sin-conexion")

    context.set_offline(False)
    wait_outbox(page, ALL_SENT)
    assert sorted(str(pk) for pk in Household.objects.values_list("pk", flat=True)) == sorted(ids)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-outbox-list] li[data-status=sent]').length === 2"
    )
    check_page(page, artifacts_dir, "enviados")

    # A retried sync (e.g. the answer was lost on the way back) creates nothing new.
    page.evaluate(
        "() => window.FieldOutbox.all()"
        ".then(rows => Promise.all(rows.map(r => window.FieldOutbox.retry(r.id))))"
    )
    wait_outbox(page, ALL_SENT)
    assert Household.objects.count() == 2
    assert ChangeRecord.objects.filter(object_id__in=ids, action="create").count() == 2
    context.close()


def test_rejected_offline_record_shows_its_error(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    existing = make_household(officer, dni="11223344", given="Marta", surnames="Ccori Pari")
    context = phone_context(chromium)
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/registrar/")
    context.set_offline(True)
    register(page, dict(HEAD, document_number="11223344"))
    page.locator("[data-saved-notice]").wait_for()
    context.set_offline(False)
    error = page.locator("[data-outbox-list] li[data-status=error]")
    error.wait_for()
    assert "ya está registrado" in error.inner_text()
    assert existing.code in error.inner_text()
    assert Household.objects.count() == 1
    check_page(page, artifacts_dir, "rechazado")

    # The officer fixes the record in its form and sends it again, with the same id.
    record_id = outbox_rows(page)[0]["id"]
    error.get_by_role("link", name="Corregir").click()
    page.wait_for_function(
        "() => document.querySelector(\"[name='members.0.document_number']\").value === '11223344'"
    )
    assert "ya está registrado" in page.inner_text("[data-form-errors]")
    page.click("[data-step='1'] [data-next]")
    page.fill("[name='members.0.document_number']", "55667788")
    page.click("[data-step='2'] [data-next]")
    page.click("[data-step='3'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{record_id}/")
    assert Household.objects.filter(pk=record_id).exists()
    context.close()


def test_offline_visit_with_photo_and_plot_are_kept_and_sent(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    from farmers.models import Plot, Verification
    from tests.field.browser import ALL_FILES_SENT
    from tests.field.test_browser_flows import PNG

    household = make_household(officer)
    context = phone_context(chromium, geolocation={"latitude": -12.44, "longitude": -73.98})
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    plot_page = f"/campo/hogares/{household.pk}/parcela/"
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(f"{live_server.url}{plot_page}")  # visited once with signal: kept for offline use
    wait_cached(page, plot_page)
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/visita/")
    context.set_offline(True)
    page.click("[data-gps]")
    page.wait_for_function("() => document.querySelector(\"[name='location.lat']\").value !== ''")
    page.set_input_files(
        "#photo", files=[{"name": "visita.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("button[type=submit]")
    page.locator("[data-saved-notice]").wait_for()
    page.goto(f"{live_server.url}{plot_page}")  # still offline: from the phone's cache
    page.fill("#name", "Chacra del río")
    geojson = (
        '{"type": "Polygon", "coordinates": [[[-73.98, -12.44], [-73.979, -12.44], '
        "[-73.979, -12.441], [-73.98, -12.44]]]}"
    )
    page.set_input_files(
        "#file",
        files=[{"name": "r.geojson", "mimeType": "application/json", "buffer": geojson.encode()}],
    )
    page.wait_for_function("() => document.querySelector('[data-geometry]').value !== ''")
    page.click("button[type=submit]")
    page.locator("[data-saved-notice]").wait_for()
    rows = wait_outbox(page, "rows => rows.length === 2")
    assert sorted(r["kind"] for r in rows) == ["plot", "visit"]
    assert not Verification.objects.exists() and not Plot.objects.exists()

    context.set_offline(False)
    wait_outbox(page, ALL_FILES_SENT)
    visit = Verification.objects.get(household=household)
    assert len(visit.photo_sha256) == 64 and str(visit.latitude) == "-12.440000"
    assert Plot.objects.get(household=household).name == "Chacra del río"
    context.close()


def test_search_without_signal_opens_the_cached_page(
    chromium: Any, live_server: Any, officer: Any
) -> None:
    """The search posts its query (no ID number in a URL); without signal the phone shows the
    cached "my work" page, not the browser's error page."""
    context = phone_context(chromium)
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_cached(page, "/campo/")
    page.reload()  # now controlled by the service worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.fill("#q", "40506070")
    page.click("form.search button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#hh-title").count() == 1  # "my work", from the phone's cache
    assert "40506070" not in page.url
    context.close()


def test_offline_training_attendance_is_kept_and_sent(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    """Attendance taken without signal (issue 17): the page opened once with signal comes from
    the phone's cache, the event waits in the outbox and reaches ``trainings/`` once."""
    from farmers.models import TrainingEvent

    household = make_household(officer)
    head = household.members.get()
    context = phone_context(chromium)
    page = context.new_page()
    sign_in(page, live_server, "tecnico")
    training_page = "/campo/capacitacion/080910/"
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(f"{live_server.url}{training_page}")
    wait_cached(page, training_page)
    context.set_offline(True)
    page.goto(f"{live_server.url}{training_page}")  # without signal: from the phone's cache
    page.select_option("#topic", "post_harvest")
    page.fill("#facilitator", "Téc. Elena Huamaní")
    page.fill("#cost_pen", "980,50")
    page.check(f"input[name=attendees][value='{head.pk}']")
    check_page(page, artifacts_dir, "training-offline")
    page.click("button[type=submit]")
    page.locator("[data-saved-notice]").wait_for()
    rows = wait_outbox(page, "rows => rows.length === 1")
    assert [r["kind"] for r in rows] == ["training"]
    assert not TrainingEvent.objects.exists()

    context.set_offline(False)
    wait_outbox(page, ALL_SENT)
    event = TrainingEvent.objects.get()
    assert str(event.cost_pen) == "980.50" and event.topic == "post_harvest"
    assert list(event.attendances.values_list("member_id", flat=True)) == [head.pk]
    context.close()
