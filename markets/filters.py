"""FilterSets of the markets app (the same for API and admin)."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from farmers.choices import Crop
from registry.filters import StrictBooleanFilter

from .choices import ContractStatus, DeliveryStatus, MemberRole
from .models import Contract, Delivery, ProducerMembership

CODE_SCHEMA = {"type": "string", "maxLength": 50, "pattern": "^[-a-zA-Z0-9_]+$"}


@extend_schema_field(CODE_SCHEMA)
class CodeFilter(django_filters.CharFilter):
    """An organization by its code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault(
            "validators",
            [RegexValidator(r"\A[-a-zA-Z0-9_]+\Z", _("Use an organization code."))],
        )
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 2000, "maximum": 2100})
class YearFilter(django_filters.Filter):
    """A calendar year from 2000 to 2100."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 2000)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


class ContractFilterSet(django_filters.FilterSet):
    """``status``, ``crop``, ``buyer``, ``seller_organization``, ``household``, ``season`` (a year
    the season touches) and a season date window (``season_from``/``season_to``: contracts whose
    season overlaps)."""

    status = django_filters.ChoiceFilter(choices=ContractStatus.choices, label=_("Status"))
    crop = django_filters.ChoiceFilter(choices=Crop.choices, label=_("Crop"))
    buyer = CodeFilter(field_name="buyer__code", label=_("Buyer code"))
    seller_organization = CodeFilter(
        field_name="seller_organization__code", label=_("Selling producer organisation")
    )
    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    funder = CodeFilter(field_name="funding_source__code", label=_("Funder code"))
    season = YearFilter(method="in_season_year", label=_("Season year"))
    season_from = django_filters.DateFilter(
        field_name="season_end", lookup_expr="gte", label=_("Season ends on or after")
    )
    season_to = django_filters.DateFilter(
        field_name="season_start", lookup_expr="lte", label=_("Season starts on or before")
    )

    class Meta:
        model = Contract
        fields: list[str] = []

    def in_season_year(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(
            Q(season_start__lte=date(value, 12, 31)) & Q(season_end__gte=date(value, 1, 1))
        )


class DeliveryFilterSet(django_filters.FilterSet):
    """``contract``, ``status``, ``buyer``, ``household``, ``exceeds_volume`` and a delivery
    date range (``delivered_after``/``delivered_before``, inclusive)."""

    contract = django_filters.UUIDFilter(field_name="contract_id", label=_("Contract"), strip=False)
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    buyer = CodeFilter(field_name="buyer__code", label=_("Buyer code"))
    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    exceeds_volume = StrictBooleanFilter(
        field_name="exceeds_volume", label=_("Exceeds the contracted volume")
    )
    delivered_after = django_filters.DateFilter(
        field_name="delivered_on", lookup_expr="gte", label=_("Delivered on or after")
    )
    delivered_before = django_filters.DateFilter(
        field_name="delivered_on", lookup_expr="lte", label=_("Delivered on or before")
    )

    class Meta:
        model = Delivery
        fields: list[str] = []


class MembershipFilterSet(django_filters.FilterSet):
    """``organization`` (code), ``household``, ``role`` and ``open`` (still a member)."""

    organization = CodeFilter(field_name="organization__code", label=_("Producer organisation"))
    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    role = django_filters.ChoiceFilter(choices=MemberRole.choices, label=_("Role"))
    open = StrictBooleanFilter(
        field_name="left_on", lookup_expr="isnull", label=_("Still a member")
    )

    class Meta:
        model = ProducerMembership
        fields: list[str] = []
