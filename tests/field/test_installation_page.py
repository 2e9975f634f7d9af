"""The field page that adds a crop installation to a plot (issue 16, point 2): the same service
as the API (decimal comma accepted), Spanish field errors with nothing written, and the
household page listing what stands on its plots."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from farmers.models import CropInstallation
from tests.farmers.evidence_helpers import give_plot
from tests.field.conftest import HouseholdMaker

pytestmark = pytest.mark.django_db


def test_an_officer_adds_a_crop_to_a_plot(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    plot = give_plot(household.pk)
    url = f"/campo/hogares/{household.pk}/cultivo/"
    form = officer_client.get(url).content.decode()
    assert "Agregar una instalación de cultivo" in form and "CCN-51" in form
    values = {
        "plot": str(plot.pk),
        "crop": "cacao",
        "variety": "ccn51",
        "area_ha": "1,25",
        "plants": "1300",
        "planting_date": "2019-10-01",
    }
    bad = officer_client.post(url, {**values, "variety": "catimor", "plants": "0"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Variedad desconocida" in html and not CropInstallation.objects.exists()
    saved = officer_client.post(url, values)
    assert saved.status_code == 302 and saved["Location"] == f"/campo/hogares/{household.pk}/"
    record = CropInstallation.objects.get()
    assert (str(record.area_ha), record.plants, record.created_by) == ("1.2500", 1300, officer)
    page = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert "CCN-51" in page and "01/10/2019" in page
