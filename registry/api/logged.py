"""Reads of sensitive fields logged in the access log, one row per response (who, which records,
which fields, which request), list pages and single reads alike (a 304 writes none):

* **coca data** (and the stage, which is coca data), for every caller holding ``coca:read``;
* **personal data** (names, ID numbers, phones, birth dates, exact locations, photos), for
  every partner (an API key): Law 29733 asks that reads of personal data be traceable, and a
  breach notice names who read what (``python manage.py access_report``).

A response carrying both writes one row listing both sets of fields: a list page costs one
``INSERT`` whatever its size. On PostgreSQL, outside a transaction, the row's commit overlaps
the rest of the response (``registry.accesslog_writer``): the response is rendered, then waits
for the commit before it leaves (``finalize_response``)."""

from __future__ import annotations

from typing import Any

from django.template.response import SimpleTemplateResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.choices import Scope
from registry.history import access_log_start

from .mixins import conditional_response, etag_for


class LoggedReadsMixin:
    """For a ``RegistryViewSet``: ``logged_resource`` names what is logged; ``coca_fields`` and
    ``personal_fields`` which fields; ``coca_shown(context, record)`` and
    ``personal_shown(context, record)`` whether a record's fields of each kind were shown."""

    logged_resource: str | None = None
    coca_fields: tuple[str, ...] = ()
    personal_fields: tuple[str, ...] = ()

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        """Whether this response shows ``record``'s sensitive fields (each view says)."""
        raise NotImplementedError

    def personal_shown(self, context: dict[str, Any], record: Any) -> bool:
        """Whether this response shows ``record``'s personal fields (by default: it does)."""
        return True

    def log_reads(self, objects: list[Any]) -> None:
        """Log the response's coca reads (callers with ``coca:read``) and personal-data reads
        (partners' keys) in one row: who, which records, which fields, which request."""
        actor = self.actor  # type: ignore[attr-defined]
        if not self.logged_resource or not objects:
            return
        coca = bool(self.coca_fields) and actor.has_scope(Scope.COCA_READ)
        # A write's response echoes what the partner itself sent: only reads are logged.
        personal = (
            bool(self.personal_fields)
            and actor.api_key is not None
            and self.request.method in ("GET", "HEAD")  # type: ignore[attr-defined]
        )
        if not (coca or personal):
            return
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        ids: dict[str, None] = {}
        fields: list[str] = []
        for wanted, shown, names in (
            (coca, self.coca_shown, self.coca_fields),
            (personal, self.personal_shown, self.personal_fields),
        ):
            records = [o for o in objects if wanted and shown(context, o)]
            if records:
                ids.update((str(o.pk), None) for o in records)
                fields += names
        waiter = access_log_start(
            actor=actor,
            resource=self.logged_resource,
            object_ids=list(ids),
            fields=fields,
            path=self.request.get_full_path(),  # type: ignore[attr-defined]
        )
        self.__dict__.setdefault("_log_waiters", []).append(waiter)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """The response, rendered, once its access-log rows are committed (a row that could
        not be written raises: no logged read leaves unlogged)."""
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        waiters = self.__dict__.pop("_log_waiters", [])
        if waiters:
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()  # while the row's commit is on its way
            for wait in waiters:
                wait()
        return response

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        """One page of a list, its coca reads logged."""
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self.log_reads(page)
        return page

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One record with its ETag: 304 while the client's copy is current (not logged). No
        # docstring: the schema describes the endpoint with the viewset's.
        instance = self.get_object()  # type: ignore[attr-defined]
        data = self.representation(instance)  # type: ignore[attr-defined]
        response = conditional_response(request, data, etag_for(instance, data))
        if response.status_code != status.HTTP_304_NOT_MODIFIED:
            self.log_reads([instance])
        return response
