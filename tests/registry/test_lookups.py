"""``any_of``: the same rows as ``in``, the values bound as one array on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import District, Organization
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds() -> None:
    wanted = list(District.objects.order_by("ubigeo").values_list("ubigeo", flat=True)[:300])
    assert len(wanted) == 300
    with CaptureQueriesContext(connection) as queries:
        found = set(District.objects.filter(ubigeo__any_of=wanted).values_list("ubigeo", flat=True))
    assert found == set(District.objects.filter(ubigeo__in=wanted).values_list("ubigeo", flat=True))
    assert found == set(wanted)
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and sql.count(wanted[0]) == 1
    else:
        assert " IN (" in sql
    assert not District.objects.filter(ubigeo__any_of=[]).exists()


def test_any_of_on_a_foreign_key() -> None:
    first, second, _third = (OrganizationFactory.create() for _n in range(3))
    districts = list(District.objects.order_by("ubigeo")[:2])
    first.districts.add(districts[0])
    second.districts.add(districts[1])
    by_id = Organization.objects.filter(districts__ubigeo__any_of=[d.ubigeo for d in districts])
    assert set(by_id) == {first, second}
    assert set(Organization.objects.filter(districts__any_of=districts[:1])) == {first}
