"""Reads of sensitive fields (coca data, and the stage, which is coca data) logged in the access
log: every response carrying them to a caller holding ``coca:read`` writes one row (who, which
records, which request), list pages and single reads alike (a 304 writes none)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.choices import Scope
from registry.history import access_log_record

from .mixins import conditional_response, etag_for


class LoggedReadsMixin:
    """For a ``RegistryViewSet``: ``coca_resource`` names what is logged, ``coca_fields`` which
    fields, ``coca_shown(context, record)`` whether a record's sensitive fields were shown."""

    coca_resource: str | None = None
    coca_fields: tuple[str, ...] = ()

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        """Whether this response shows ``record``'s sensitive fields (each view says)."""
        raise NotImplementedError

    def log_coca_read(self, objects: list[Any]) -> None:
        """Every response carrying coca fields is logged: who, which records, which request."""
        actor = self.actor  # type: ignore[attr-defined]
        if not self.coca_resource or not actor.has_scope(Scope.COCA_READ):
            return
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        shown = [o for o in objects if self.coca_shown(context, o)]
        access_log_record(
            actor=actor,
            resource=self.coca_resource,
            object_ids=[str(o.pk) for o in shown],
            fields=list(self.coca_fields),
            path=self.request.get_full_path(),  # type: ignore[attr-defined]
        )

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        """One page of a list, its coca reads logged."""
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self.log_coca_read(page)
        return page

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One record with its ETag: 304 while the client's copy is current (not logged). No
        # docstring: the schema describes the endpoint with the viewset's.
        instance = self.get_object()  # type: ignore[attr-defined]
        data = self.representation(instance)  # type: ignore[attr-defined]
        response = conditional_response(request, data, etag_for(instance, data))
        if response.status_code != status.HTTP_304_NOT_MODIFIED:
            self.log_coca_read([instance])
        return response
