"""Issue 19 point 2 on the field pages: the officer records the family's withdrawal or
narrowing of its consent (a new version, with the reason), shown with the earlier versions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from farmers.models import Consent
from registry.models import ChangeRecord
from tests.field.conftest import HouseholdMaker

pytestmark = pytest.mark.django_db


def test_the_officer_records_a_narrower_consent(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    url = f"/campo/hogares/{household.pk}/consentimiento/"
    page = officer_client.get(url)
    assert page.status_code == 200
    assert "Versiones del consentimiento" in page.content.decode()
    assert f'href="{url}"' in officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    # Without a reason: a field error in Spanish, nothing written.
    refused = officer_client.post(url, {"purposes": ["registry"], "reason": ""})
    assert refused.status_code == 400
    assert 'data-error-for="reason"' in refused.content.decode()
    assert Consent.objects.filter(household=household).count() == 1
    done = officer_client.post(url, {"purposes": [], "reason": "La familia retira todo"})
    assert done.status_code == 302
    latest = Consent.objects.filter(household=household).order_by("-created_at", "-id").first()
    assert latest is not None and latest.purposes == [] and latest.created_by == officer
    assert latest.reason == "La familia retira todo"
    assert ChangeRecord.objects.filter(
        object_id=str(household.pk), channel="web", changes__has_key="consent"
    ).exists()


def test_another_area_answers_404(
    officer_client: Client, make_household: HouseholdMaker, other_officer: Any
) -> None:
    household = make_household(other_officer, district="050407")
    assert officer_client.get(f"/campo/hogares/{household.pk}/consentimiento/").status_code == 404
