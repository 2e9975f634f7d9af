"""INEI geography and VRAEM flags loaded by the data migration."""

import pytest

from registry.geography import VRAEM_DISTRICTS, load_geography
from registry.models import Department, District, Province

pytestmark = pytest.mark.django_db


def test_migration_loads_every_inei_unit() -> None:
    assert Department.objects.count() == 25
    assert Province.objects.count() == 196
    assert District.objects.count() == 1891


def test_spurious_package_codes_are_dropped() -> None:
    assert not District.objects.filter(ubigeo__in=["090708", "090712"]).exists()
    assert District.objects.get(ubigeo="090709").name == "Huaribamba"
    assert District.objects.get(ubigeo="090714").name == "Salcabamba"


def test_vraem_flags_match_the_decree_list() -> None:
    flagged = set(District.objects.filter(is_vraem=True).values_list("ubigeo", flat=True))
    assert flagged == VRAEM_DISTRICTS
    assert len(flagged) == 42
    pichari = District.objects.select_related("province", "department").get(ubigeo="080910")
    assert (pichari.name, pichari.province.name, pichari.department.name) == (
        "Pichari",
        "La Convención",
        "Cusco",
    )
    assert pichari.is_vraem
    assert not District.objects.get(ubigeo="150101").is_vraem  # Lima


def test_every_district_belongs_to_its_province_and_department() -> None:
    for ubigeo, province_id, department_id in District.objects.values_list(
        "ubigeo", "province_id", "department_id"
    ):
        assert ubigeo[:4] == province_id
        assert ubigeo[:2] == department_id


def test_reloading_is_idempotent_and_restores_edits() -> None:
    District.objects.filter(ubigeo="080910").update(name="cambiado", is_vraem=False)
    assert load_geography(Department, Province, District) == 1891
    assert District.objects.count() == 1891
    pichari = District.objects.get(ubigeo="080910")
    assert pichari.name == "Pichari"
    assert pichari.is_vraem
