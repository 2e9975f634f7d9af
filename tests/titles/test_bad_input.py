"""A title application's authority must cover the plot's district: otherwise the file would be
stuck where neither the filer's authority view nor the authority could reach it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.choices import OrganizationKind
from registry.models import District
from tests.factories import OrganizationFactory
from titles.models import TitleApplication

pytestmark = pytest.mark.django_db


def test_an_authority_that_does_not_cover_the_district_is_a_field_error(
    household_plot: Any, clients: dict[str, APIClient]
) -> None:
    household, plot = household_plot  # in Pichari (Cusco)
    elsewhere = OrganizationFactory.create(
        code="dra-junin", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
    )
    elsewhere.districts.set(District.objects.filter(ubigeo__in=["120606"]))
    response = clients["officer"].post(
        "/api/v1/title-applications/",
        {"household": str(household.pk), "plot": str(plot.pk), "authority": "dra-junin"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        ("authority", "authority_out_of_area")
    ]
    assert not TitleApplication.objects.exists()
    covered = clients["officer"].post(
        "/api/v1/title-applications/",
        {"household": str(household.pk), "plot": str(plot.pk), "authority": "dra-cusco"},
        format="json",
    )
    assert covered.status_code == 201, covered.content
