"""Admin for the INEI geography (departments, provinces, districts): read-only reference data."""

from __future__ import annotations

from django.contrib import admin

from ..models import (
    Department,
    District,
    Province,
)
from .base import (
    ReadOnlyAdmin,
)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Province)
class ProvinceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "department"]
    list_filter = ["department"]
    list_select_related = ["department"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(ReadOnlyAdmin):
    list_display = ["ubigeo", "name", "province", "department", "is_vraem"]
    list_filter = ["is_vraem", "department"]
    list_select_related = ["province__department", "department"]
    search_fields = ["ubigeo", "name", "province__name"]
