"""FilterSets of the farmers app (the same for API, admin and pages)."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.filters import StrictBooleanFilter

from .choices import (
    Crop,
    EradicationKind,
    EradicationStatus,
    HouseholdStatus,
    InstallationStatus,
    Practice,
    Stage,
    SupportKind,
    TrainingTopic,
    VerificationStatus,
)
from .identity import normalize_name
from .models import (
    Agreement,
    CropInstallation,
    Eradication,
    Household,
    Member,
    Plot,
    PracticeAdoption,
    StageChange,
    Support,
    TrainingEvent,
    Verification,
)

DOCUMENT_RE = re.compile(r"\A[0-9A-Za-z]{8,12}\Z")


@extend_schema_field({"type": "string", "pattern": "^[0-9]{6}$"})
class UbigeoFilter(django_filters.CharFilter):
    """A district by its 6-digit ubigeo."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validators", [RegexValidator(r"\A[0-9]{6}\Z", _("Use the 6-digit INEI ubigeo."))]
        )
        super().__init__(*args, **kwargs)


def search_households(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    """Households whose code or a live member's ID number is ``value``, or with every word of
    ``value`` beginning a word of a member's names, in any order, accents and case ignored.

    ``names_search`` holds the words of every active member's given names and surnames, each
    after a space (" ayala elmer palomino quispe rosa": ``farmers.identity.search_words``), so
    "Elmer", "elmer ayala", "Ayala Elmer", a second surname ("Palomino"), the start of a word
    ("palom", "qu") and the spouse's or a child's name all find the household. Each word is a
    ``LIKE '% word%'``; on PostgreSQL the trigram index ``hh_names_trgm_idx`` (farmers 0031)
    answers it, the leading space making the word's first letters count as a word start
    (selective even for one or two letters). SQLite runs the same filters by scanning.
    """
    value = value.strip()
    if not value:
        return queryset
    if value.upper().startswith("HH-"):
        return queryset.filter(code=value.upper())
    if DOCUMENT_RE.match(value) and any(ch.isdigit() for ch in value):
        # Exact match on the keyed blind index (the number is encrypted at rest): one probe of
        # member_document_index_idx, whatever the document type.
        holders = Member.objects.filter(
            document_index=blind_index(PURPOSE_DOCUMENT, value.upper()), is_active=True
        ).values("household_id")
        return queryset.filter(pk__in=holders)
    words = normalize_name(value).split()
    if not words:
        return queryset.none()
    # A word that begins another one adds nothing ("elm elmer"): longest first, prefixes dropped.
    kept: list[str] = []
    for word in sorted(set(words), key=len, reverse=True):
        if not any(other.startswith(word) for other in kept):
            kept.append(word)
    for word in kept:
        queryset = queryset.filter(names_search__contains=f" {word}")
    return queryset


class HouseholdFilterSet(django_filters.FilterSet):
    """``district``, ``program``, ``status``, ``stage``, ``updated_after`` and ``q`` (code, ID
    number or the beginnings of any words of the members' names: :func:`search_households`)."""

    district = UbigeoFilter(field_name="district_id", label=_("District ubigeo"))
    program = django_filters.CharFilter(field_name="program__code", label=_("Programme code"))
    status = django_filters.ChoiceFilter(choices=HouseholdStatus.choices, label=_("Status"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("Stage"))
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gt", label=_("Changed after")
    )
    q = extend_schema_field({"type": "string", "maxLength": 100})(
        django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    )

    class Meta:
        model = Household
        fields: list[str] = []

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return search_households(queryset, value)


class PlotFilterSet(django_filters.FilterSet):
    """``household`` and ``active``."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    active = StrictBooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Plot
        fields: list[str] = []


class AgreementFilterSet(django_filters.FilterSet):
    """``household``."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )

    class Meta:
        model = Agreement
        fields: list[str] = []


class VerificationFilterSet(django_filters.FilterSet):
    """``household``, ``status`` and visit date range."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    status = django_filters.ChoiceFilter(choices=VerificationStatus.choices, label=_("Status"))
    visited_after = django_filters.DateFilter(
        field_name="visited_on", lookup_expr="gte", label=_("Visited on or after")
    )
    visited_before = django_filters.DateFilter(
        field_name="visited_on", lookup_expr="lte", label=_("Visited on or before")
    )

    class Meta:
        model = Verification
        fields: list[str] = []


class EradicationFilterSet(django_filters.FilterSet):
    """``household``, ``plot``, ``status``, ``kind`` (coca data: needs coca:read) and an
    ``eradicated_on`` date range."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    plot = django_filters.UUIDFilter(field_name="plot_id", label=_("Plot"), strip=False)
    status = django_filters.ChoiceFilter(choices=EradicationStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=EradicationKind.choices, label=_("Kind"))
    eradicated_after = django_filters.DateFilter(
        field_name="eradicated_on", lookup_expr="gte", label=_("Eradicated on or after")
    )
    eradicated_before = django_filters.DateFilter(
        field_name="eradicated_on", lookup_expr="lte", label=_("Eradicated on or before")
    )

    class Meta:
        model = Eradication
        fields: list[str] = []


class CropInstallationFilterSet(django_filters.FilterSet):
    """``household``, ``plot``, ``crop`` and ``status``."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    plot = django_filters.UUIDFilter(field_name="plot_id", label=_("Plot"), strip=False)
    crop = django_filters.ChoiceFilter(choices=Crop.choices, label=_("Crop"))
    status = django_filters.ChoiceFilter(choices=InstallationStatus.choices, label=_("Status"))

    class Meta:
        model = CropInstallation
        fields: list[str] = []


@extend_schema_field({"type": "integer", "minimum": 0})
class EventIdFilter(django_filters.NumberFilter):
    """A whole, non-negative event id (``0.5`` is a 400)."""

    field_class = forms.IntegerField


class StageChangeFilterSet(django_filters.FilterSet):
    """``after`` (an event id: only later events, for incremental sync), ``household``,
    ``district``, ``program``, ``to_stage`` and an ``effective_on`` date range."""

    after = EventIdFilter(field_name="id", lookup_expr="gt", min_value=0, label=_("After event id"))
    household = django_filters.UUIDFilter(field_name="household_id", label=_("Household"))
    district = UbigeoFilter(field_name="district_id", label=_("District ubigeo"))
    program = django_filters.CharFilter(field_name="program__code", label=_("Programme code"))
    to_stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("New stage"))
    effective_from = django_filters.DateFilter(
        field_name="effective_on", lookup_expr="gte", label=_("Effective from")
    )
    effective_to = django_filters.DateFilter(
        field_name="effective_on", lookup_expr="lte", label=_("Effective until")
    )

    class Meta:
        model = StageChange
        fields: list[str] = []


class TrainingEventFilterSet(django_filters.FilterSet):
    """Filters for ``trainings/``: program, district, topic, funder, agreement and the period
    (``held_after`` / ``held_before``, both included)."""

    program = django_filters.CharFilter(field_name="program__code", label=_("Programme code"))
    district = UbigeoFilter(field_name="district_id", label=_("District ubigeo"))
    topic = django_filters.ChoiceFilter(choices=TrainingTopic.choices, label=_("Topic"))
    funder = django_filters.CharFilter(
        field_name="funding_source__code", label=_("Funder code"), max_length=50
    )
    funding_agreement = django_filters.CharFilter(
        field_name="funding_agreement__code", label=_("Funding agreement code"), max_length=50
    )
    held_after = django_filters.DateFilter(
        field_name="held_on", lookup_expr="gte", label=_("Held on or after")
    )
    held_before = django_filters.DateFilter(
        field_name="held_on", lookup_expr="lte", label=_("Held on or before")
    )

    class Meta:
        model = TrainingEvent
        fields: list[str] = []


class PracticeAdoptionFilterSet(django_filters.FilterSet):
    """Filters for ``practices/``: household, event, practice and the period
    (``adopted_after`` / ``adopted_before``)."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    event = django_filters.UUIDFilter(field_name="event_id", label=_("Training event"), strip=False)
    practice = django_filters.ChoiceFilter(choices=Practice.choices, label=_("Practice"))
    adopted_after = django_filters.DateFilter(
        field_name="adopted_on", lookup_expr="gte", label=_("Adopted on or after")
    )
    adopted_before = django_filters.DateFilter(
        field_name="adopted_on", lookup_expr="lte", label=_("Adopted on or before")
    )

    class Meta:
        model = PracticeAdoption
        fields: list[str] = []


class SupportFilterSet(django_filters.FilterSet):
    """Filters for ``support/``: household, kind, funder, agreement and the period
    (``given_after`` / ``given_before``, both included)."""

    household = django_filters.UUIDFilter(
        field_name="household_id", label=_("Household"), strip=False
    )
    kind = django_filters.ChoiceFilter(choices=SupportKind.choices, label=_("Kind"))
    funder = django_filters.CharFilter(
        field_name="funding_source__code", label=_("Funder code"), max_length=50
    )
    funding_agreement = django_filters.CharFilter(
        field_name="funding_agreement__code", label=_("Funding agreement code"), max_length=50
    )
    given_after = django_filters.DateFilter(
        field_name="given_on", lookup_expr="gte", label=_("Given on or after")
    )
    given_before = django_filters.DateFilter(
        field_name="given_on", lookup_expr="lte", label=_("Given on or before")
    )

    class Meta:
        model = Support
        fields: list[str] = []
