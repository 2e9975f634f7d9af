"""The lean list path (issue 19): a list page read as ``values()`` rows and rendered by a plan
compiled once from the list's own serializer, without a model instance nor a serializer per row.

The output is the serializer's, field for field: the plan keeps each readable field's name, the
column it reads (its ``source`` as an ORM path: ``program.code`` → ``program__code``) and the
field's own ``to_representation``; ``None`` stays ``None`` as DRF renders it. The OpenAPI schema
is unchanged (the view still names the same serializer). A nested list (a household's members)
is one more query for the whole page (``Children``), grouped by its foreign key.

What the serializer did per record in ``to_representation`` beyond its fields (dropping fields
the caller may not see) the view does in ``mask_row(context, row, data)``, fed by the row's
columns (``Row``: a dict readable as attributes, so policies taking a record work on it
unchanged) and by any column the view adds in ``lean_queryset`` (e.g. an annotation that a
masking policy reads): never by a query per row.

Use: a ``RegistryViewSet`` with ``LeanListMixin`` and ``lean_children``; its serializer must be
made of plain fields (and nested lists of them), except those it names in ``lean_computed``,
which ``mask_row`` sets. ``compile_plan`` raises ``ImproperlyConfigured``
on a field it cannot read from a column (a method field, a nested object), so a serializer that
grows one fails loudly in the tests instead of rendering something else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PKOnlyObject, RelatedField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

__all__ = ["Children", "LeanListMixin", "Plan", "Row", "RowIterable", "compile_plan"]


class Row(dict[str, Any]):
    """One ``values()`` row, also readable as attributes (``row.district_id``, ``row.pk``) by
    the policies and the access log, which take records."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pk(self) -> Any:
        """The row's primary key (its ``id`` column)."""
        return self["id"]


@dataclass(frozen=True)
class Children:
    """A nested list read in one query for the whole page: ``queryset`` filtered by ``fk``
    (the column naming the parent) in the page's ids, in the queryset's order."""

    queryset: Callable[[], QuerySet[Any]]
    fk: str


@dataclass
class Plan:
    """How to render one row: ``(name, column, to_representation)`` per field, and the plans of
    nested lists by field name (with the attribute the serializer read them from)."""

    fields: list[tuple[str, str, Callable[[Any], Any]]] = field(default_factory=list)
    nested: dict[str, tuple[str, Plan]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The ``values()`` columns this plan reads (its nested lists are read apart, computed
        fields are the view's)."""
        return [
            column for name, column, _convert in self.fields if column and name not in self.nested
        ]

    def render(self, row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Any:
        """The serializer's output for ``row`` (``children``: its nested rows by field)."""
        return self.renderer()(row, children)

    def renderer(self) -> Callable[[dict[str, Any], dict[str, list[dict[str, Any]]]], Any]:
        """A function rendering rows as ``render`` does, its converters bound once (for a
        page: what a converter reads from the request's state, e.g. the current time zone, is
        read once instead of once per value)."""
        nested = {name: plan.renderer() for name, (_source, plan) in self.nested.items()}
        steps = [
            (name, column, _bound(convert))
            for name, column, convert in self.fields
            if name not in nested
        ]
        order = [name for name, _column, _convert in self.fields]

        def render(row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Any:
            data: dict[str, Any] = {}
            for name, column, convert in steps:
                value = row[column] if column else None
                data[name] = None if value is None else convert(value)
            for name, child in nested.items():
                data[name] = [child(item, {}) for item in children.get(name, ())]
            if nested:
                return {name: data[name] for name in order}  # the serializer's field order
            return data

        return render


def _pk_only(field: RelatedField[Any, Any, Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return field.to_representation(PKOnlyObject(pk=value))

    return convert


def _compile(serializer: serializers.Serializer[Any]) -> Plan:
    plan = Plan()
    # Fields the view's ``mask_row`` computes (rendered ``None`` here, in their place).
    computed = set(getattr(serializer, "lean_computed", ()))
    for bound in serializer._readable_fields:  # DRF's own list of the output fields
        name = str(bound.field_name)
        source = str(bound.source)
        if name in computed:
            plan.fields.append((name, "", _computed))
            continue
        if isinstance(bound, serializers.ListSerializer):
            child = bound.child
            if not isinstance(child, serializers.Serializer):
                raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
            plan.fields.append((name, source, _compile_error))
            plan.nested[name] = (source, _compile(child))
            continue
        if isinstance(bound, (serializers.Serializer, serializers.SerializerMethodField)):
            raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
        if source == "*":
            raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
        column = "__".join(bound.source_attrs)
        convert: Callable[[Any], Any] = _fast(bound)
        if isinstance(bound, RelatedField):
            if not bound.use_pk_only_optimization():
                raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
            convert = _pk_only(bound)
        plan.fields.append((name, column, convert))
    return plan


def _fast(bound: serializers.Field[Any, Any, Any, Any]) -> Callable[[Any], Any]:
    """``bound.to_representation``, or a shortcut giving the same value where the column's
    value is already what the field returns (a ``bool`` for a ``BooleanField``, a ``str`` for a
    ``CharField`` or a ``str`` choice, an ``int`` for an ``IntegerField``, any value for a
    ``JSONField``), or computes it as the field does (``str`` of a UUID, ``isoformat()`` of a
    ``date``, of an aware ``datetime`` in the current time zone with ``Z`` for UTC); any other
    value goes to the field."""
    slow = bound.to_representation
    kind = type(bound)
    if kind is serializers.BooleanField:
        return lambda value: value if value is True or value is False else slow(value)
    if kind is serializers.CharField:  # ``str(value)``
        return lambda value: value if type(value) is str else slow(value)
    if kind is serializers.IntegerField:
        return lambda value: value if type(value) is int else slow(value)
    if kind is serializers.UUIDField and getattr(bound, "uuid_format", "") == "hex_verbose":
        return str  # what the field returns for this format
    if kind is serializers.JSONField and not getattr(bound, "binary", False):
        return _same  # ``to_representation`` returns the value as it is
    if kind is serializers.ChoiceField:
        # ``choice_strings_to_values[str(value)]``: the value itself for a ``str`` choice.
        same = frozenset(
            key
            for key, value in bound.choice_strings_to_values.items()  # type: ignore[attr-defined]
            if type(value) is str and value == key
        )
        return lambda value: value if type(value) is str and value in same else slow(value)
    if kind is serializers.DateField and _iso(bound, api_settings.DATE_FORMAT):
        return lambda value: value.isoformat() if type(value) is date else slow(value)
    if (
        kind is serializers.DateTimeField
        and _iso(bound, api_settings.DATETIME_FORMAT)
        and not hasattr(bound, "timezone")
    ):
        return _DateTime(cast(serializers.DateTimeField, bound))
    return slow


def _iso(bound: serializers.Field[Any, Any, Any, Any], default: Any) -> bool:
    """Whether a date or time field renders ISO 8601 (its own format, or the API's)."""
    output_format = getattr(bound, "format", default)
    return output_format is not None and str(output_format).lower() == ISO_8601


def _same(value: Any) -> Any:
    return value


class _DateTime:
    """``DateTimeField.to_representation`` (ISO 8601, the current time zone) for aware
    datetimes, the time zone read once per page (``bind``); anything else goes to the field."""

    def __init__(self, field: serializers.DateTimeField) -> None:
        self.field = field

    def __call__(self, value: Any) -> Any:
        return self.field.to_representation(value)

    def bind(self) -> Callable[[Any], Any]:
        field = self.field
        slow = field.to_representation
        zone: Any = field.default_timezone()
        if zone is None:
            return slow

        def convert(value: Any) -> Any:
            if type(value) is not datetime or value.tzinfo is None:
                return slow(value)
            try:
                text = value.astimezone(zone).isoformat()
            except OverflowError:
                return slow(value)
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return convert


def _bound(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    bind = getattr(convert, "bind", None)
    return bind() if bind is not None else convert


def _computed(value: Any) -> Any:
    raise AssertionError("a computed field is set by the view's mask_row")


def _compile_error(value: Any) -> Any:
    raise AssertionError("a nested list is rendered from its own rows")


_PLANS: dict[type[Any], Plan] = {}
_NO_CHILDREN: dict[str, list[dict[str, Any]]] = {}
# Nested rows of a page: parent id → field name → its rows.
Grouped = dict[Any, dict[str, list[dict[str, Any]]]]


def compile_plan(serializer_class: type[serializers.Serializer[Any]]) -> Plan:
    """The rendering plan of ``serializer_class`` (compiled once per process)."""
    plan = _PLANS.get(serializer_class)
    if plan is None:
        plan = _PLANS[serializer_class] = _compile(serializer_class(context={}))
    return plan


class LeanListMixin:
    """``list()`` on the lean path for a ``RegistryViewSet`` (see the module's docstring):
    one query for the page, one per entry of ``lean_children``, nothing per row."""

    lean_children: dict[str, Children] = {}

    def lean_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The page's queryset before ``values()``: add annotated columns a mask reads here."""
        return queryset

    def lean_columns(self) -> list[str]:
        """Columns read besides the serializer's: what ``mask_row`` and the access log need."""
        return []

    def mask_row(self, context: dict[str, Any], row: Row, data: dict[str, Any]) -> None:
        """Drop or replace what the caller may not see of ``row`` in ``data`` (in place)."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = compile_plan(self.get_serializer_class())  # type: ignore[attr-defined]
        wanted = list(dict.fromkeys(["id", *plan.columns, *self.lean_columns()]))
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        rows = self.lean_queryset(queryset).prefetch_related(None).values(*wanted)
        rows._iterable_class = RowIterable  # rows as ``Row`` objects
        page = self.paginate_queryset(rows)  # type: ignore[attr-defined]
        assert page is not None  # every list endpoint is paginated
        children = self._children([row["id"] for row in page], plan)
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        render = plan.renderer()
        mask_row = self.mask_row
        results = []
        for row in page:
            data = render(row, children.get(row["id"], _NO_CHILDREN))
            mask_row(context, row, data)
            results.append(data)
        return self.get_paginated_response(results)  # type: ignore[attr-defined]

    def _children(self, ids: Iterable[Any], plan: Plan) -> Grouped:
        grouped: Grouped = {}
        ids = list(ids)
        if not ids:
            return grouped
        for name, (_source, child_plan) in plan.nested.items():
            spec = self.lean_children[name]
            columns = list(dict.fromkeys([*child_plan.columns, spec.fk]))
            rows = spec.queryset().filter(**{f"{spec.fk}__in": ids}).values(*columns)
            for child in rows:
                grouped.setdefault(child[spec.fk], {}).setdefault(name, []).append(child)
        return grouped


class RowIterable(ValuesIterable):
    """``values()`` rows as ``Row`` objects."""

    def __iter__(self) -> Any:
        for row in super().__iter__():
            yield Row(row)
