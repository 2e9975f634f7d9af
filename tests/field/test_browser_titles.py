"""Filing a title application with a document from the field household page, through the phone's
outbox (headless Chromium at 360 px): sent once to the partner API with its client id, the
document after it, and shown in the household's title panel."""

from __future__ import annotations

from typing import Any

import pytest

from farmers import services as farmers_services
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.models import ChangeRecord, District, Organization
from tests.factories import OrganizationFactory, UserFactory
from tests.field.browser import ALL_FILES_SENT, check_page, phone_context, sign_in, wait_outbox
from titles.models import TitleApplication, TitleDocument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% constancia de posesion\n%%EOF\n"


@pytest.fixture
def authority(geography: None) -> Organization:
    org = OrganizationFactory.create(
        code="dra-cusco", name="DRA Cusco", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
    )
    org.districts.set(District.objects.filter(ubigeo__in=["080910", "080907"]))
    return org


def test_file_title_application_with_document_through_the_outbox(
    chromium: Any,
    live_server: Any,
    artifacts_dir: Any,
    officer: Any,
    make_household: Any,
    authority: Organization,
) -> None:
    household = make_household(officer)
    checker = Actor(user=UserFactory.create(), unrestricted=True)
    household = farmers_services.household_transition(
        actor=checker, household=household, to="active"
    )
    ring = [[-73.98, -12.44], [-73.979, -12.44], [-73.979, -12.441], [-73.98, -12.441]]
    plot, _created = farmers_services.plot_create(
        actor=checker,
        household=household.pk,
        name="Chacra Alta",
        tenure="possession",
        geometry={"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    )
    context = phone_context(chromium)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    sign_in(page, live_server, "tecnico")
    page.goto(f"{live_server.url}/campo/hogares/{household.pk}/")
    page.click("text=Solicitar título")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{household.pk}/titulo/")
    assert "Solicitar un título de propiedad" in page.inner_text("h1")
    client_id = page.input_value("[name='id']")
    page.select_option("#plot", str(plot.pk))
    page.select_option("#authority", "dra-cusco")
    page.fill("#note", "Posesión desde 2005")
    page.select_option("#type", "proof_of_possession")
    page.set_input_files(
        "#file", files=[{"name": "constancia.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    check_page(page, artifacts_dir, "titulo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/hogares/{household.pk}/")
    rows = wait_outbox(page, ALL_FILES_SENT)
    assert [r["id"] for r in rows if r["kind"] == "title"] == [client_id]
    application = TitleApplication.objects.get(household=household)
    assert str(application.pk) == client_id
    assert (application.plot_id, application.authority_id) == (plot.pk, authority.pk)
    assert application.created_by == officer
    document = TitleDocument.objects.get(application=application)
    assert (document.type, document.content_type) == ("proof_of_possession", "application/pdf")
    # Sending again (a retry) creates nothing: the API is idempotent on the client id.
    page.evaluate("id => window.FieldOutbox.retry(id)", client_id)
    wait_outbox(page, ALL_FILES_SENT)
    assert TitleApplication.objects.filter(household=household).count() == 1
    assert TitleDocument.objects.filter(application=application).count() == 1
    assert ChangeRecord.objects.filter(object_id=client_id).count() == 2
    page.reload()
    panel = page.locator("[data-panel='titles']")
    assert "Chacra Alta" in panel.inner_text() and "Borrador" in panel.inner_text()
    check_page(page, artifacts_dir, "hogar-titulos")
    context.close()
    assert outside == []
