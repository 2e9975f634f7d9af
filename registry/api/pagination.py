"""Cursor pagination: ``{"next", "previous", "results"}``, ``page_size`` up to 100, no counts.

A keyset cursor over the whole ordering. Every ordering ends in a unique key (``created_at, id``),
and the cursor carries the value of each ordering field of the row it stops at; the next page is
the rows after that position in row-value order, ``(a > x) OR (a = x AND b > y)`` (``<`` for a
descending field, the other way round for a previous page). Rows with equal timestamps are
therefore never skipped nor repeated, however many there are (DRF's own cursor positions on the
first field alone, with an offset for ties that stops at 1,000). The cursor is signed: a token
that was not issued by this server, or was edited, is a 400 on ``cursor``.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import F, Field, Model, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_SALT = "registry.api.cursor"


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, Field) or field.many_to_many or field.one_to_many:
        raise ImproperlyConfigured(f"{model.__name__} cannot be paged by {name!r}.")
    return field


def _dump(value: Any) -> Any:
    """A position value as JSON: text for dates, times, UUIDs and decimals."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, Model):
        return _dump(value.pk)
    return value


class CursorPagination(pagination.CursorPagination):
    """Stable, count-free keyset pages; a bad ``cursor`` or ``page_size`` is a 400 with a field
    error. ``ordering`` (here or on the view) must end in a unique, non-null field; a nullable
    field before it sorts its NULLs as the largest value."""

    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering: Any = "pk"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Use a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                },
                code="invalid",
            )
        return value

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    # --- the cursor ---------------------------------------------------------------------------

    def _invalid(self) -> exceptions.ValidationError:
        return exceptions.ValidationError(
            {self.cursor_query_param: [_("Invalid cursor: start again from the first page.")]},
            code="invalid",
        )

    def _encode(self, *, reverse: bool, position: list[Any]) -> str:
        return signing.dumps(
            {"o": list(self.ordering), "r": int(reverse), "p": [_dump(v) for v in position]},
            salt=CURSOR_SALT,
            compress=False,
        )

    def _decode(self, request: Request) -> tuple[bool, list[Any]] | None:
        """``(reverse, position)`` from the ``cursor`` parameter; a 400 on any token this server
        did not issue for this ordering, or whose values do not fit the ordering's fields."""
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        try:
            data = signing.loads(token, salt=CURSOR_SALT)
        except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
            raise self._invalid() from exc
        if (
            not isinstance(data, dict)
            or data.get("o") != list(self.ordering)
            or data.get("r") not in (0, 1)
            or not isinstance(data.get("p"), list)
            or len(data["p"]) != len(self._fields)
        ):
            raise self._invalid()
        position: list[Any] = []
        for field, raw in zip(self._fields, data["p"], strict=True):
            if raw is None and field.null:
                position.append(None)
                continue
            if raw is None or isinstance(raw, (bool, list, dict, float)):
                raise self._invalid()
            try:
                value = field.to_python(raw)
                field.get_prep_value(value)
            except (ValidationError, TypeError, ValueError, OverflowError) as exc:
                raise self._invalid() from exc
            if value is None or (isinstance(value, str) and "\x00" in value):
                raise self._invalid()
            position.append(value)
        return bool(data["r"]), position

    @staticmethod
    def _value(instance: Any, name: str) -> Any:
        if isinstance(instance, dict):
            return instance[name]
        return getattr(instance, name)

    def _compare(self, index: int, lookup: str, value: Any) -> Q:
        """``field <lookup> value`` where NULL sorts after every value (as PostgreSQL puts it
        last going up and first going down); ``lookup`` is ``gt``, ``lt``, ``gte``, ``lte`` or
        ``exact``."""
        name = self._names[index]
        nullable = self._fields[index].null
        if value is None:
            return {
                "gt": Q(pk__in=[]),
                "lt": Q(**{f"{name}__isnull": False}),
                "gte": Q(**{f"{name}__isnull": True}),
                "lte": Q(),
                "exact": Q(**{f"{name}__isnull": True}),
            }[lookup]
        condition = Q(**{name: value} if lookup == "exact" else {f"{name}__{lookup}": value})
        if nullable and lookup in ("gt", "gte"):
            condition |= Q(**{f"{name}__isnull": True})
        return condition

    def _after(self, position: list[Any], *, backwards: bool) -> Q:
        """Rows strictly after ``position`` in the ordering (before it when ``backwards``):
        ``(a > x) OR (a = x AND b > y)``, with ``<`` for a descending field."""
        condition = Q(pk__in=[])
        for index in range(len(self._names)):
            ascending = not self.ordering[index].startswith("-")
            step = self._compare(index, "gt" if ascending != backwards else "lt", position[index])
            for earlier in range(index):
                step &= self._compare(earlier, "exact", position[earlier])
            condition |= step
        # The leading bound lets an index on the ordering start its scan at the position.
        ascending = not self.ordering[0].startswith("-")
        return self._compare(0, "gte" if ascending != backwards else "lte", position[0]) & condition

    # --- paging --------------------------------------------------------------------------------

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self._names = [name.lstrip("-") for name in self.ordering]
        self._fields = [_field(queryset.model, name) for name in self._names]
        last = self._fields[-1]
        if not (last.primary_key or last.unique) or last.null:
            raise ImproperlyConfigured(
                f"Paging {queryset.model.__name__} by {self.ordering} needs an ordering that "
                "ends in a unique, non-null key."
            )
        cursor = self._decode(request)
        reverse, position = cursor if cursor is not None else (False, None)
        self._position = position
        order = []
        for name, descending in zip(
            self._names, [n.startswith("-") for n in self.ordering], strict=True
        ):
            # NULL counts as the largest value: last going up, first going down.
            if descending != reverse:
                order.append(F(name).desc(nulls_first=True))
            else:
                order.append(F(name).asc(nulls_last=True))
        queryset = queryset.order_by(*order)
        if position is not None:
            queryset = queryset.filter(self._after(position, backwards=reverse))
        if getattr(view, "page_keys_first", False):
            # The page's primary keys in a subquery that reads only the filtered and ordering
            # columns (answerable from a covering index without visiting the table, however
            # many rows the filter skips), then the page's rows by key: still one query.
            keys = queryset.values("pk")[: self.page_size + 1]
            queryset = queryset.filter(pk__in=Subquery(keys))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_next, self.has_previous = more, position is not None
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def _link(self, *, reverse: bool, position: list[Any] | None) -> str:
        if position is None:
            # Nothing before this page: its previous page is the first page itself.
            return remove_query_param(str(self.base_url), self.cursor_query_param)
        token = self._encode(reverse=reverse, position=position)
        return replace_query_param(str(self.base_url), self.cursor_query_param, token)

    def _position_of(self, instance: Any) -> list[Any]:
        return [self._value(instance, name) for name in self._names]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.page:
            return self._link(reverse=False, position=self._position_of(self.page[-1]))
        # An empty previous page: the rows from the first page on follow.
        return self._link(reverse=False, position=None)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if self.page:
            return self._link(reverse=True, position=self._position_of(self.page[0]))
        # An empty page past the end (its rows were deleted): the rows before its position.
        return self._link(reverse=True, position=self._position)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters
