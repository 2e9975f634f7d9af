"""FilterSets for reference data, plus strict filter fields shared by every app's FilterSets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from .choices import AlertKind, AlertSeverity, AlertStatus, OrganizationKind
from .models import Alert, District, FundingAgreement, Organization, Program


class StrictBooleanField(forms.Field):
    """A boolean query parameter that rejects anything but true/false (or 1/0)."""

    TRUE = {"true", "1"}
    FALSE = {"false", "0"}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """``BooleanFilter`` whose bad values give a 400 instead of being ignored."""

    field_class = StrictBooleanField


class SearchFilterSet(django_filters.FilterSet):
    """Base FilterSet with a ``q`` free-text search over ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = extend_schema_field({"type": "string", "maxLength": 100})(
        django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    )

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class DistrictFilterSet(SearchFilterSet):
    """Filters for ``districts/``: department (2 digits), province (4 digits), vraem, q."""

    search_fields = ("name", "ubigeo")
    department = extend_schema_field(
        {"type": "string", "pattern": "^[0-9]{2}$", "description": "Department code (2 digits)"}
    )(
        django_filters.CharFilter(
            field_name="department_id",
            label=_("Department code (2 digits)"),
            validators=[
                RegexValidator(r"\A[0-9]{2}\Z", _("Use the 2-digit INEI department code."))
            ],
        )
    )
    province = extend_schema_field(
        {"type": "string", "pattern": "^[0-9]{4}$", "description": "Province code (4 digits)"}
    )(
        django_filters.CharFilter(
            field_name="province_id",
            label=_("Province code (4 digits)"),
            validators=[RegexValidator(r"\A[0-9]{4}\Z", _("Use the 4-digit INEI province code."))],
        )
    )
    vraem = StrictBooleanFilter(field_name="is_vraem", label=_("In the VRAEM"))

    class Meta:
        model = District
        fields: list[str] = []


class OrganizationFilterSet(SearchFilterSet):
    """Filters for ``organizations/``: kind and q."""

    search_fields = ("code", "name", "ruc")
    kind = django_filters.ChoiceFilter(choices=OrganizationKind.choices, label=_("Kind"))

    class Meta:
        model = Organization
        fields: list[str] = []


class ProgramFilterSet(SearchFilterSet):
    """Filters for ``programs/``: agency, funder (organization codes) and q."""

    search_fields = ("code", "name")
    agency = django_filters.CharFilter(field_name="agency__code", label=_("Agency code"))
    funder = django_filters.CharFilter(field_name="funder__code", label=_("Funder code"))

    class Meta:
        model = Program
        fields: list[str] = []


class FundingAgreementFilterSet(SearchFilterSet):
    """Filters for ``funding-agreements/``: funder, program (codes), ``active_on`` (a date the
    period holds) and q."""

    search_fields = ("code", "name")
    funder = django_filters.CharFilter(field_name="funder__code", label=_("Funder code"))
    program = django_filters.CharFilter(field_name="program__code", label=_("Programme code"))
    active_on = extend_schema_field({"type": "string", "format": "date"})(
        django_filters.DateFilter(method="filter_active_on", label=_("In force on"))
    )

    class Meta:
        model = FundingAgreement
        fields: list[str] = []

    def filter_active_on(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class AlertFilterSet(django_filters.FilterSet):
    """Filters for ``alerts/``: kind, status, district, program, household, raised_after."""

    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label=_("Status"))
    severity = django_filters.ChoiceFilter(choices=AlertSeverity.choices, label=_("Severity"))
    district = extend_schema_field(
        {"type": "string", "pattern": "^[0-9]{6}$", "description": "District ubigeo (6 digits)"}
    )(
        django_filters.CharFilter(
            field_name="district_id",
            label=_("District ubigeo"),
            validators=[RegexValidator(r"\A[0-9]{6}\Z", _("Use the 6-digit INEI ubigeo."))],
        )
    )
    program = django_filters.CharFilter(field_name="program__code", label=_("Programme code"))
    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    raised_after = django_filters.IsoDateTimeFilter(
        field_name="raised_at", lookup_expr="gt", label=_("Raised after")
    )

    class Meta:
        model = Alert
        fields: list[str] = []
