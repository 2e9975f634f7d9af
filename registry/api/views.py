"""Reference endpoints: districts, organizations, programmes (every key may read them)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from registry import selectors
from registry.choices import Scope
from registry.filters import DistrictFilterSet, OrganizationFilterSet, ProgramFilterSet
from registry.models import District, Organization, Program

from .authentication import get_actor
from .mixins import ETagMixin
from .serializers import DistrictSerializer, OrganizationSerializer, ProgramSerializer


class ReadOnlyViewSet(
    ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve, with ETags."""

    read_scope = Scope.REFERENCE_READ


class DistrictViewSet(ReadOnlyViewSet):
    """INEI districts; filter by department, province, VRAEM membership or name."""

    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet
    lookup_field = "ubigeo"
    lookup_value_regex = r"\d{6}"
    ordering = "ubigeo"

    def get_queryset(self) -> QuerySet[District]:
        return selectors.district_list(actor=get_actor(self.request))


class OrganizationViewSet(ReadOnlyViewSet):
    """Organizations taking part in the programmes."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organization_list(actor=get_actor(self.request))


class ProgramViewSet(ReadOnlyViewSet):
    """Alternative-development programmes."""

    serializer_class = ProgramSerializer
    filterset_class = ProgramFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering = "code"

    def get_queryset(self) -> QuerySet[Program]:
        return selectors.program_list(actor=get_actor(self.request))
