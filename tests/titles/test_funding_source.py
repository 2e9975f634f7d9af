"""A title file names who pays for it (issue 17): a funder organization, or a field error; the
list filters by ``funder`` and by the days titles were issued and registered."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.choices import OrganizationKind
from tests.factories import OrganizationFactory
from titles.models import TitleApplication

pytestmark = pytest.mark.django_db
URL = "/api/v1/title-applications/"


def test_funding_source_is_a_funder(household_plot: Any, clients: dict[str, APIClient]) -> None:
    household, plot = household_plot
    OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)
    body = {
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": "dra-cusco",
        "possession_started_on": "2012-03-01",
    }
    officer = clients["officer"]
    refused = officer.post(URL, {**body, "funding_source": "dra-cusco"}, format="json")
    assert refused.status_code == 400
    assert [(e["attr"], e["code"]) for e in refused.json()["errors"]] == [
        ("funding_source", "not_funder")
    ]
    assert not TitleApplication.objects.exists()
    made = officer.post(URL, {**body, "funding_source": "usaid"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["funding_source"] == "usaid"
    assert [r["id"] for r in officer.get(f"{URL}?funder=usaid").json()["results"]] == [
        made.json()["id"]
    ]
    assert officer.get(f"{URL}?funder=otro").json()["results"] == []
    TitleApplication.objects.update(
        title_issued_on=date(2026, 5, 4), registered_on=date(2026, 7, 1)
    )
    inside = officer.get(f"{URL}?issued_after=2026-05-04&issued_before=2026-05-04")
    assert len(inside.json()["results"]) == 1
    assert officer.get(f"{URL}?issued_after=2026-05-05").json()["results"] == []
    assert officer.get(f"{URL}?registered_before=2026-06-30").json()["results"] == []
    assert len(officer.get(f"{URL}?registered_after=2026-07-01").json()["results"]) == 1
