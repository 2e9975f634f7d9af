"""FilterSets of the titles app (the same for API and admin)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from farmers.filters import UbigeoFilter
from registry.filters import StrictBooleanFilter

from .choices import TitleStatus
from .models import TitleApplication
from .selectors import overdue_q


class TitleApplicationFilterSet(django_filters.FilterSet):
    """``status``, ``district``, ``authority``, ``program``, ``household``, ``overdue`` and date
    ranges (submitted, due, changed)."""

    status = django_filters.ChoiceFilter(choices=TitleStatus.choices, label=_("Status"))
    district = UbigeoFilter(field_name="district_id", label=_("District ubigeo"))
    authority = django_filters.CharFilter(
        field_name="authority__code", label=_("Titling authority code"), max_length=50
    )
    program = django_filters.CharFilter(
        field_name="program__code", label=_("Programme code"), max_length=50
    )
    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    overdue = extend_schema_field(OpenApiTypes.BOOL)(
        StrictBooleanFilter(method="filter_overdue", label=_("Overdue"))
    )
    submitted_after = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="gte", label=_("Submitted on or after")
    )
    submitted_before = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="lte", label=_("Submitted on or before")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due on or before")
    )
    funder = django_filters.CharFilter(
        field_name="funding_source__code", label=_("Funder code"), max_length=50
    )
    issued_after = django_filters.DateFilter(
        field_name="title_issued_on", lookup_expr="gte", label=_("Title issued on or after")
    )
    issued_before = django_filters.DateFilter(
        field_name="title_issued_on", lookup_expr="lte", label=_("Title issued on or before")
    )
    registered_after = django_filters.DateFilter(
        field_name="registered_on", lookup_expr="gte", label=_("Registered on or after")
    )
    registered_before = django_filters.DateFilter(
        field_name="registered_on", lookup_expr="lte", label=_("Registered on or before")
    )
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gt", label=_("Changed after")
    )

    class Meta:
        model = TitleApplication
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())
