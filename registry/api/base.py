"""The one base of every API viewset: the actor, request validation, responses with ETags.

Every app's viewsets derive from ``RegistryViewSet`` (or ``ReadOnlyViewSet``) and add only what
is theirs: the queryset (from the app's selectors, scoped by its policies), the serializers and
the actions that call the app's services. The error shape is ``registry.api.errors`` (set as
DRF's exception handler), scopes are ``registry.api.permissions.HasScope`` (reading the
``read_scope`` / ``write_scope`` / ``action_scopes`` declared here), ETags and conditional
requests are ``registry.api.mixins.ETagMixin``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status, viewsets
from rest_framework.response import Response

from registry.actors import Actor
from registry.choices import Scope

from .authentication import get_actor
from .lean import LeanListMixin
from .mixins import ETagMixin, etag_for

__all__ = ["ReadOnlyViewSet", "RegistryViewSet"]


class RegistryViewSet(LeanListMixin, ETagMixin, viewsets.GenericViewSet[Any]):
    """Scopes, the actor, request validation and responses that carry the record's ETag.

    - ``read_scope`` / ``write_scope`` / ``action_scopes``: what each action needs (HasScope).
    - ``actor``: who is acting (one ``Actor`` per request, memoised by the authentication).
    - ``validated(serializer_class)``: the request body checked, or a 400 in the error shape.
    - ``respond(instance)``: the record as GET returns it, with its ETag (201 when created).
    - ``list`` (``registry.api.lean``): rows rendered by a plan of the list's serializer where
      it can, else a serializer per row (``serializer_list``).
    - ``retrieve`` (ETagMixin): ``If-None-Match`` → 304; ``if_match()`` for writes → 412.
    """

    read_scope: str = Scope.REFERENCE_READ
    write_scope: str | None = None

    @property
    def actor(self) -> Actor:
        """The person or key making the request."""
        return get_actor(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["actor"] = self.actor
        return context

    def validated(self, serializer_class: type[Any], **kwargs: Any) -> dict[str, Any]:
        """The request body checked by ``serializer_class`` (400 with field errors if not)."""
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(self, instance: Any, *, created: bool | None = False, data: Any = None) -> Response:
        """``instance`` as GET returns it (or ``data``), with its ETag; 201 when ``created``."""
        body = self.representation(instance) if data is None else data
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(body, status=code, headers={"ETag": etag_for(instance, body)})


class ReadOnlyViewSet(RegistryViewSet):
    """List and retrieve only (reference data and read-only ledgers)."""

    http_method_names = ["get", "head", "options"]
