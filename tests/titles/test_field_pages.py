"""The titles part of the field officers' pages (``/campo/``): the household panel of title files
and the no-JavaScript filing page (the outbox path is in tests/field/test_browser_titles.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from registry.models import ChangeRecord, Organization
from tests.factories import OrganizationFactory
from tests.titles.conftest import PDF, S, make_household, square
from titles import services
from titles.models import TitleApplication, TitleDocument, TitleStatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(officer: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(officer)
    return client


def test_panel_lists_the_household_files_with_status_due_date_and_missing_documents(
    officer_client: Client, make_file: Any
) -> None:
    application = make_file(S.DRAFT)
    TitleApplication.objects.filter(pk=application.pk).update(
        due_on=timezone.localdate() - timedelta(days=3)
    )
    submitted = make_file(S.SUBMITTED)
    TitleApplication.objects.filter(pk=submitted.pk).update(
        due_on=timezone.localdate() - timedelta(days=3)
    )
    html = officer_client.get(f"/campo/hogares/{application.household_id}/").content.decode()
    assert 'data-panel="titles"' in html
    assert "Expedientes de titulación" in html
    assert "Borrador" in html
    assert "Vence el" in html  # a draft is not overdue (its clock is not an SLA)
    assert "Vencido" not in html
    other = officer_client.get(f"/campo/hogares/{submitted.household_id}/").content.decode()
    assert "Presentado" in other and "Vencido" in other
    assert "Documentos faltantes" not in other  # it has every document of its next steps
    assert "Solicitar título" in html


def test_panel_names_the_missing_documents_of_a_new_draft(
    officer_client: Client, household_plot: Any, authority: Organization
) -> None:
    household, plot = household_plot
    services.title_application_create(
        actor=services_actor(), household=household.pk, plot=plot.pk, authority=authority.code
    )
    html = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert "Documentos faltantes" in html
    assert "Copia del documento de identidad" in html


def services_actor() -> Any:
    from tests.titles.conftest import SYSTEM

    return SYSTEM


def test_panel_absent_outside_the_officer_area(
    officer: Any, program: Any, authority: Organization
) -> None:
    # A household in Sivia (Ayacucho): outside the officer's districts → 404, no panel.
    household, _plot = make_household(program, "050407", lon=-73.5)
    client = Client()
    client.force_login(officer)
    response = client.get(f"/campo/hogares/{household.pk}/")
    assert response.status_code == 404
    assert b'data-panel="titles"' not in response.content
    assert client.get(f"/campo/hogares/{household.pk}/titulo/").status_code == 404


def test_panel_hidden_without_titles_read(
    partner: Organization, household_plot: Any, authority: Organization
) -> None:
    from registry.actors import Actor
    from registry.choices import Scope
    from registry.services import api_key_create
    from titles.pages import title_panel

    household, plot = household_plot
    services.title_application_create(
        actor=services_actor(), household=household.pk, plot=plot.pk, authority=authority.code
    )
    households_only, _raw = api_key_create(organization=partner, scopes=[Scope.HOUSEHOLDS_READ])
    assert title_panel(Actor.for_api_key(households_only), household) is None
    with_titles, _raw = api_key_create(
        organization=partner, scopes=[Scope.HOUSEHOLDS_READ, Scope.TITLES_READ]
    )
    rendered = title_panel(Actor.for_api_key(with_titles), household)
    assert rendered is not None and len(rendered[1]["title_files"]) == 1


def test_apply_page_signed_out_redirects_and_unknown_household_is_404(
    officer_client: Client, household_plot: Any
) -> None:
    household, _plot = household_plot
    url = f"/campo/hogares/{household.pk}/titulo/"
    response = Client().get(url)
    assert response.status_code == 302 and "/campo/ingresar/" in response["Location"]
    assert officer_client.get(f"/campo/hogares/{uuid.uuid4()}/titulo/").status_code == 404


def test_apply_page_offers_the_plots_and_only_authorities_covering_the_district(
    officer_client: Client, household_plot: Any, authority: Organization
) -> None:
    household, plot = household_plot
    OrganizationFactory.create(code="dra-lejos", name="DRA Lejana", kind="titling_authority")
    far = Organization.objects.get(code="dra-lejos")
    from registry.models import District

    far.districts.set(District.objects.filter(ubigeo="050407"))
    response = officer_client.get(f"/campo/hogares/{household.pk}/titulo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Solicitar un título de propiedad" in html
    assert f'value="{plot.pk}"' in html
    assert f'value="{authority.code}"' in html
    assert 'value="dra-lejos"' not in html
    assert 'data-api="/api/v1/title-applications/"' in html
    assert 'data-files-api="/api/v1/title-applications/{id}/documents/"' in html


def test_no_js_filing_creates_one_application_with_its_document_and_history(
    officer_client: Client, officer: Any, household_plot: Any, authority: Organization
) -> None:
    household, plot = household_plot
    client_id = str(uuid.uuid4())
    data = {
        "id": client_id,
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": authority.code,
        "note": "Posesión desde 2005",
        "type": "proof_of_possession",
    }
    url = f"/campo/hogares/{household.pk}/titulo/"
    response = officer_client.post(
        url, {**data, "file": SimpleUploadedFile("constancia.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/campo/hogares/{household.pk}/"
    application = TitleApplication.objects.get(pk=client_id)
    assert application.status == S.DRAFT
    assert application.created_by == officer
    assert list(application.documents.values_list("type", flat=True)) == ["proof_of_possession"]
    assert TitleStatusChange.objects.filter(application=application).count() == 1
    records = ChangeRecord.objects.filter(object_id=str(application.pk))
    assert records.count() == 2 and set(records.values_list("channel", flat=True)) == {"web"}
    # A retry of the same form (same client id) creates nothing more.
    again = officer_client.post(
        url, {**data, "file": SimpleUploadedFile("constancia.pdf", PDF, "application/pdf")}
    )
    assert again.status_code == 302
    assert TitleApplication.objects.filter(household=household).count() == 1
    assert TitleDocument.objects.filter(application=application).count() == 1
    assert ChangeRecord.objects.filter(object_id=str(application.pk)).count() == 2
    panel = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert "Borrador" in panel and plot.name in panel


def test_no_js_filing_errors_are_in_spanish_and_write_nothing(
    officer_client: Client, household_plot: Any, authority: Organization
) -> None:
    household, plot = household_plot
    url = f"/campo/hogares/{household.pk}/titulo/"
    base = {"id": str(uuid.uuid4()), "household": str(household.pk)}
    response = officer_client.post(url, {**base, "plot": "", "authority": "nadie"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Elija un predio activo de este hogar." in html
    assert "No hay una entidad de titulación activa con el código" in html
    # A document that is not a PDF/JPEG/PNG is refused and the application is not kept either.
    bad = officer_client.post(
        url,
        {
            **base,
            "plot": str(plot.pk),
            "authority": authority.code,
            "type": "plot_plan",
            "file": SimpleUploadedFile("plano.txt", b"hola", "text/plain"),
        },
    )
    assert bad.status_code == 400
    assert "Envíe el documento en PDF, JPEG o PNG." in bad.content.decode()
    assert not TitleApplication.objects.filter(household=household).exists()


def test_retried_api_filing_with_the_same_id_is_not_duplicated(
    officer: Any, household_plot: Any, authority: Organization
) -> None:
    """The outbox path: POST /api/v1/title-applications/ with the client id, twice."""
    from rest_framework.test import APIClient

    household, plot = household_plot
    client = APIClient()
    client.force_authenticate(officer)
    payload = {
        "id": str(uuid.uuid4()),
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": authority.code,
        "type": "id_copy",  # a field of the form meant for the document: ignored here
    }
    first = client.post("/api/v1/title-applications/", payload, format="json")
    second = client.post("/api/v1/title-applications/", payload, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert TitleApplication.objects.filter(household=household).count() == 1
    assert (
        services.title_application_file(
            actor=services_actor(),
            id=payload["id"],
            household=household.pk,
            plot=plot.pk,
            authority=authority.code,
            documents=[("id_copy", SimpleUploadedFile("dni.pdf", PDF))],
        )[1]
        is False
    )
    assert not TitleDocument.objects.filter(application_id=uuid.UUID(payload["id"])).exists()


def test_panel_query_count_does_not_grow_with_files(
    officer_client: Client, program: Any, authority: Organization
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from farmers import services as farmers_services

    household, plot = make_household(program)
    services.title_application_create(
        actor=services_actor(), household=household.pk, plot=plot.pk, authority=authority.code
    )
    url = f"/campo/hogares/{household.pk}/"
    officer_client.get(url)
    with CaptureQueriesContext(connection) as one:
        officer_client.get(url)
    for n in range(4):
        extra, _created = farmers_services.plot_create(
            actor=services_actor(),
            household=household.pk,
            name=f"Chacra {n}",
            tenure="possession",
            geometry=square(-73.90 + 0.01 * n, -12.52),
        )
        services.title_application_create(
            actor=services_actor(), household=household.pk, plot=extra.pk, authority=authority.code
        )
    with CaptureQueriesContext(connection) as five:
        response = officer_client.get(url)
    assert response.content.decode().count("Borrador") >= 5
    assert len(five.captured_queries) == len(one.captured_queries)
