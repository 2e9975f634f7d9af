"""A title file completed from the field (issue 18 point 7): its page adds the documents it still
needs and submits it through the titles services (channel ``web``); each action is offered only
when it can succeed, refusals come back in Spanish with the field's label (never its key)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.models import ChangeRecord, Organization
from tests.titles.conftest import FILING_DOCUMENTS, PDF, POSSESSION_SINCE, SYSTEM, S, make_household
from titles import services
from titles.models import TitleApplication, TitleDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(officer: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(officer)
    return client


@pytest.fixture
def draft(household_plot: Any, authority: Organization) -> TitleApplication:
    household, plot = household_plot
    application, _created = services.title_application_create(
        actor=SYSTEM,
        household=household.pk,
        plot=plot.pk,
        authority=authority.code,
        possession_started_on=POSSESSION_SINCE,
    )
    return application


def _upload(client: Client, url: str, kind: str, content: bytes = PDF) -> Any:
    return client.post(
        url,
        {
            "action": "upload",
            "type": kind,
            "file": SimpleUploadedFile(f"{kind}.pdf", content, content_type="application/pdf"),
        },
    )


def test_the_household_panel_links_each_file_to_its_page(
    officer_client: Client, draft: TitleApplication
) -> None:
    html = officer_client.get(f"/campo/hogares/{draft.household_id}/").content.decode()
    assert f'href="/campo/expedientes/{draft.pk}/"' in html


def test_a_draft_is_completed_and_submitted_from_the_field(
    officer_client: Client, officer: Any, draft: TitleApplication
) -> None:
    url = f"/campo/expedientes/{draft.pk}/"
    page = officer_client.get(url).content.decode()
    assert "Para presentar el expediente aún falta" in page
    assert "Copia del documento de identidad" in page
    assert "data-submit-file" not in page  # not offered while documents are missing
    for kind in FILING_DOCUMENTS:
        response = _upload(officer_client, url, kind)
        assert response.status_code == 302, response.content.decode()[:3000]
    assert TitleDocument.objects.filter(application=draft).count() == len(FILING_DOCUMENTS)
    page = officer_client.get(url).content.decode()
    assert "data-complete" in page and "data-submit-file" in page
    version = TitleApplication.objects.get(pk=draft.pk).version
    response = officer_client.post(url, {"action": "submit", "version": str(version)})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    assert draft.status_changes.get(to_status=S.SUBMITTED).created_by == officer
    records = ChangeRecord.objects.filter(object_id=str(draft.pk), created_by=officer)
    assert records.count() == len(FILING_DOCUMENTS) + 1
    assert set(records.values_list("channel", flat=True)) == {"web"}
    page = officer_client.get(url).content.decode()
    assert "Presentado" in page and "data-submit-file" not in page


def test_refusals_are_in_spanish_next_to_their_field(
    officer_client: Client, draft: TitleApplication
) -> None:
    url = f"/campo/expedientes/{draft.pk}/"
    no_file = officer_client.post(url, {"action": "upload", "type": "id_copy"})
    assert no_file.status_code == 400
    assert 'data-error-for="file">Elija el archivo del documento.' in no_file.content.decode()
    not_pdf = _upload(officer_client, url, "id_copy", content=b"GIF89a not a document")
    assert not_pdf.status_code == 400
    assert 'data-error-for="file">Envíe el documento en PDF, JPEG o PNG.' in (
        not_pdf.content.decode()
    )
    # Submitting before the documents are there (a stale page): refused, in words with labels.
    refused = officer_client.post(url, {"action": "submit", "version": str(draft.version)})
    assert refused.status_code == 400
    html = refused.content.decode()
    errors = html[html.index("data-form-errors") : html.index("docs-title")]
    assert "Faltan documentos para este paso: Copia del documento de identidad" in errors
    for key in ("documents", "possession_started_on", "id_copy", "non_field_errors"):
        assert key not in errors, key
    assert TitleDocument.objects.filter(application=draft).count() == 0
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_the_file_page_answers_404_outside_the_officers_area(
    program: Any, authority: Organization, other_authority: Organization, officer_client: Client
) -> None:
    household, plot = make_household(program, "050407", lon=-73.5)
    application, _created = services.title_application_create(
        actor=SYSTEM, household=household.pk, plot=plot.pk, authority=other_authority.code
    )
    assert officer_client.get(f"/campo/expedientes/{application.pk}/").status_code == 404
    assert Client().get(f"/campo/expedientes/{application.pk}/").status_code == 302


def test_a_closed_file_offers_no_upload(officer_client: Client, draft: TitleApplication) -> None:
    services.title_application_transition(
        actor=SYSTEM, application=draft.pk, to=S.WITHDRAWN, note="La familia desiste."
    )
    page = officer_client.get(f"/campo/expedientes/{draft.pk}/").content.decode()
    assert "data-upload-document" not in page and "data-submit-file" not in page
    assert "data-title-status" in page
