"""A URLconf for plumbing tests: the real routes plus small views exercising scopes and ETags.

The kernel ships no writable resource of its own yet; these views use the same base classes,
permission, error handler and services that the apps' viewsets use.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from config.urls import urlpatterns as project_urlpatterns
from registry.api.authentication import get_actor
from registry.api.mixins import ETagMixin
from registry.choices import Scope
from registry.models import Organization
from registry.services import organization_update


class OrganizationEditSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["code", "name", "ruc", "kind", "version"]
        read_only_fields = ["code", "version"]


class EditableOrganizationViewSet(
    ETagMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet[Any]
):
    """Organizations editable with If-Match; reading needs households:read to test scopes."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationEditSerializer
    lookup_field = "code"
    read_scope = Scope.HOUSEHOLDS_READ
    write_scope = Scope.HOUSEHOLDS_WRITE

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = organization_update(
            organization=serializer.instance,
            data=serializer.validated_data,
            expected_version=self.if_match(serializer.instance),
            actor=get_actor(self.request),
        )

    @action(detail=False, methods=["get"])
    def crash(self, request: Request) -> Response:
        raise RuntimeError("boom")


router = SimpleRouter()
router.register("editable-organizations", EditableOrganizationViewSet, basename="editable-org")

urlpatterns = [path("api/test/", include(router.urls)), *project_urlpatterns]
