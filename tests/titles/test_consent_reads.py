"""Issue 19 point 2 for title files: the titling authority sees the SUNARP partida, the note
and the documents only while the family's current consent includes ``partner_sharing``;
without it the file is pseudonymised and a document download is a 403 ``consent_missing``. The
programme's own people keep seeing them under ``registry``."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from farmers.models import Consent
from titles.choices import TitleStatus as S

from .conftest import FileMaker

pytestmark = pytest.mark.django_db

URL = "/api/v1/title-applications/"


def test_the_authority_loses_the_partida_and_documents_when_sharing_is_withdrawn(
    make_file: FileMaker, clients: dict[str, APIClient]
) -> None:
    application = make_file(S.REGISTERED)
    authority, programme = clients["authority"], clients["programme"]
    detail = f"{URL}{application.pk}/"
    assert authority.get(detail).json()["partida_number"] == "11012345"
    document = authority.get(f"{detail}documents/").json()["results"][0]
    file_url = f"{detail}documents/{document['id']}/file/"
    assert authority.get(file_url).status_code == 200
    Consent.objects.create(
        household_id=application.household_id,
        signed_on=timezone.localdate(),
        purposes=["registry"],
        reason="La familia retira el permiso de compartir",
    )
    masked = authority.get(detail).json()
    assert masked["partida_number"] == "" and masked["note"] == ""
    assert masked["status"] == "registered"  # the file's progress is not personal: kept
    (listed,) = authority.get(URL).json()["results"]
    assert listed["partida_number"] == ""
    refused = authority.get(file_url)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "consent_missing"
    # The programme's staff still see everything.
    assert programme.get(detail).json()["partida_number"] == "11012345"
    assert programme.get(file_url).status_code == 200
