"""Reference endpoints: districts, organizations, programmes and funding agreements (every key
may read them)."""

from __future__ import annotations

from django.db.models import QuerySet

from registry import selectors
from registry.filters import (
    DistrictFilterSet,
    FundingAgreementFilterSet,
    OrganizationFilterSet,
    ProgramFilterSet,
)
from registry.models import District, FundingAgreement, Organization, Program

from .base import ReadOnlyViewSet
from .serializers import (
    DistrictSerializer,
    FundingAgreementSerializer,
    OrganizationSerializer,
    ProgramSerializer,
)


class DistrictViewSet(ReadOnlyViewSet):
    """INEI districts; filter by department, province, VRAEM membership or name."""

    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet
    lookup_field = "ubigeo"
    lookup_value_regex = r"\d{6}"
    ordering = "ubigeo"

    def get_queryset(self) -> QuerySet[District]:
        return selectors.district_list(actor=self.actor)


class OrganizationViewSet(ReadOnlyViewSet):
    """Organizations taking part in the programmes."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organization_list(actor=self.actor)


class ProgramViewSet(ReadOnlyViewSet):
    """Alternative-development programmes."""

    serializer_class = ProgramSerializer
    filterset_class = ProgramFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Program]:
        return selectors.program_list(actor=self.actor)


class FundingAgreementViewSet(ReadOnlyViewSet):
    """Funding agreements: which funder pays for which programme, when, and how much."""

    serializer_class = FundingAgreementSerializer
    filterset_class = FundingAgreementFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[FundingAgreement]:
        return selectors.funding_agreement_list(actor=self.actor)
