"""The lean list path (issue 19): a list page read as ``values()`` rows and rendered by a plan
compiled once from the list's own serializer, without a model instance nor a serializer per row.

The output is the serializer's, field for field: the plan keeps each readable field's name, the
column it reads (its ``source`` as an ORM path: ``program.code`` → ``program__code``; a slug
field's ``funder`` → ``funder__code``) and the field's own ``to_representation``; ``None`` stays
``None`` as DRF renders it. The OpenAPI schema is unchanged (the view still names the same
serializer). A nested object (an offer's household) is read from the same row, its fields'
columns under its own (``household__code``), ``None`` where the record has none. A nested list
(a household's members) is one more query for the whole page (``Children``), grouped by its
foreign key.

What the serializer did per record in ``to_representation`` beyond its fields (dropping fields
the caller may not see) the view does in ``mask_row(context, row, data)``, fed by the row's
columns (``Row``: a dict readable as attributes, so policies taking a record work on it
unchanged; ``row.household.district_id`` reads the column ``household__district_id``), by the
columns the view names in ``lean_columns`` and by the queryset's annotations (e.g. the consent's
purposes a masking policy reads): never by a query per row.

A method field the serializer names in ``lean_reads`` (with the columns its method reads) is
its own method called with the row, on a serializer made once a page with the request's context
(a title file's clock, a visit's GPS point): the serializer path and the lean path run the same
method. A field named there whose source is a property of the model (a job's ``percent``) is the
property's getter run on the row; the rows of such a list carry their model's properties and
``get_<field>_display`` (``model_rows``), so that the code reads a row as it reads a record.
A nested serializer (or a list of them) over a ``JSONField`` (a plot's GeoJSON, a visit's
crops) renders the column's value by the nested field itself. Related records a method reads
(``row.documents.all()``) are the view's ``lean_related``: one query a page, set on each row as
``Related`` rows.

Every ``RegistryViewSet`` lists on this path (``LeanListMixin`` is part of the base) where it
can: its serializer made of plain fields (and nested lists of them, read by the view's
``lean_children``), and any change its serializer makes in ``to_representation`` made by a
``lean_row_mask`` class method the serializer's ``to_representation`` also calls (the coca
fields' mask, ``farmers.api.serializers.common.CocaFieldsMixin``; a mixin calls its own through
``own_row_mask``, so that masks of several classes each apply once), or by the view's
``mask_row`` (fields named in the serializer's ``lean_computed`` are set by either). A list
whose serializer has a method field not in ``lean_reads``, a nested object with a mask of its
own or a mask of its own in ``to_representation`` stays on the serializer path
(``serializer_list``); a view with its own ``mask_row`` whose serializer the plan cannot read
raises ``ImproperlyConfigured``, so a serializer that grows such a field fails loudly in the
tests instead of rendering something else. The lists on each path are named in
``tests/registry/test_lean_lists.py``, which holds each lean list byte for byte
equal to its serializer (and its access-log row equal) for several kinds of caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partialmethod
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PKOnlyObject, RelatedField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

__all__ = [
    "Children",
    "LeanListMixin",
    "Plan",
    "Related",
    "Row",
    "RowIterable",
    "compile_plan",
    "model_rows",
    "own_row_mask",
]


class Row(dict[str, Any]):
    """One ``values()`` row, also readable as attributes (``row.district_id``, ``row.pk``) by
    the policies and the access log, which take records."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            pass
        # A related record read as columns ``name__…`` (``row.household.district_id`` from
        # ``household__district_id``), for the policies that reach through a relation.
        prefix = f"{name}__"
        related = Row(
            (key[len(prefix) :], value) for key, value in self.items() if key.startswith(prefix)
        )
        if not related:
            raise AttributeError(name)
        return related

    @property
    def pk(self) -> Any:
        """The row's primary key (its ``id`` column, or ``pk`` where the key is another)."""
        return self["id"] if "id" in self else self["pk"]


class Related(list[Row]):
    """A row's related records read as rows (``LeanListMixin.lean_related``), readable as a
    prefetched relation is: ``row.documents.all()``."""

    __slots__ = ()

    def all(self) -> Related:
        """The rows (a prefetched manager's ``all()``)."""
        return self


@dataclass(frozen=True)
class Children:
    """A nested list read in one query for the whole page: ``queryset`` filtered by ``fk``
    (the column naming the parent) in the page's ids, in the queryset's order; ``columns``:
    what is read besides the nested serializer's own (all that is read for ``lean_related``)."""

    queryset: Callable[[], QuerySet[Any]]
    fk: str
    columns: tuple[str, ...] = ()


@dataclass
class Plan:
    """How to render one row: ``(name, column, to_representation)`` per field, and the plans of
    nested lists by field name (with the attribute the serializer read them from)."""

    fields: list[tuple[str, str, Callable[[Any], Any]]] = field(default_factory=list)
    nested: dict[str, tuple[str, Plan]] = field(default_factory=dict)
    # A nested object (a household's reference on an offer) by field name: the column that is
    # ``None`` when there is none (its primary key), and its plan over the row's own columns.
    objects: dict[str, tuple[str, Plan]] = field(default_factory=dict)
    # The columns the serializer's method fields read (``lean_reads``).
    method_columns: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The ``values()`` columns this plan reads (its nested lists are read apart, computed
        fields are the view's)."""
        columns: list[str] = []
        for name, column, _convert in self.fields:
            if name in self.objects:
                presence, inner = self.objects[name]
                columns += [presence, *inner.columns]
            elif column and name not in self.nested:
                columns.append(column)
        return list(dict.fromkeys([*columns, *self.method_columns]))

    @property
    def has_methods(self) -> bool:
        """Whether rendering calls a method of the serializer (here or in a nested list):
        the renderer then needs the page's serializer."""
        computed = (_Method, _Property)
        return any(isinstance(convert, computed) for _name, _column, convert in self.fields) or any(
            inner.has_methods for _source, inner in (*self.nested.values(), *self.objects.values())
        )

    def render(self, row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Any:
        """The serializer's output for ``row`` (``children``: its nested rows by field)."""
        return self.renderer()(row, children)

    def renderer(
        self, serializer: serializers.Serializer[Any] | None = None
    ) -> Callable[[dict[str, Any], dict[str, list[dict[str, Any]]]], Any]:
        """A function rendering rows as ``render`` does, its converters bound once (for a
        page: what a converter reads from the request's state, e.g. the current time zone, is
        read once instead of once per value; a method field's method is the page's
        ``serializer``'s, with the request's context). The function is one dict display in
        the serializer's field order, generated once per plan (``_source``): no loop over the
        fields, no call for a value the field returns as it is."""
        if self._factory is None:
            self._factory = _factory(self)
        return cast(Callable[..., Any], self._factory(*self._converters(serializer)))

    def _converters(self, serializer: Any) -> list[Callable[..., Any]]:
        """The converters the factory takes, in ``_source``'s order (a nested object's own
        converters in its place)."""
        converters: list[Callable[..., Any]] = []
        for name, _column, convert in self.fields:
            if name in self.nested:
                inner = self.nested[name][1]
                child = None
                if serializer is not None and inner.has_methods:
                    child = serializer.fields[name].child
                converters.append(inner.renderer(child))
            elif name in self.objects:
                converters += self.objects[name][1]._converters(None)
            elif convert is not _same and convert is not _computed:
                converters.append(_bound(convert, serializer))
        return converters

    _factory: Callable[..., Any] | None = field(default=None, repr=False, compare=False)


def _source(plan: Plan) -> str:
    """The source of ``plan``'s row renderer factory: ``make(c0, c1, …)`` returns
    ``render(row, children)`` (``c<i>``: the converters, in field order, of the fields that
    have one; a nested list's ``c<i>`` renders its rows)."""
    arguments: list[str] = []
    body = _display(plan, arguments)
    return (
        f"def make({', '.join(arguments)}):\n"
        "    def render(row, children):\n"
        f"        return {body}\n"
        "    return render\n"
    )


def _display(plan: Plan, arguments: list[str]) -> str:
    """The dict display rendering one row by ``plan`` (a nested object's display inline, read
    from the same row), naming its converters ``c<i>`` in ``arguments``."""
    items: list[str] = []
    for name, column, convert in plan.fields:
        if name in plan.nested:
            converter = f"c{len(arguments)}"
            arguments.append(converter)
            value = f"[{converter}(item, EMPTY) for item in children.get({name!r}, ())]"
        elif name in plan.objects:
            presence, inner = plan.objects[name]
            value = f"None if row[{presence!r}] is None else {_display(inner, arguments)}"
        elif convert is _computed:
            value = "None"  # set by a row mask (the serializer's or the view's)
        elif isinstance(convert, (_Method, _Property)):
            converter = f"c{len(arguments)}"
            arguments.append(converter)
            value = f"{converter}(row)"  # the serializer's method (or property), given the row
        elif convert is _same:
            value = f"row[{column!r}]"
        elif isinstance(convert, _Passing):
            converter = f"c{len(arguments)}"
            arguments.append(converter)
            kind = convert.kind.__name__  # a builtin: ``bool``, ``str``, ``int``
            value = (
                f"v if type(v := row[{column!r}]) is {kind} "
                f"else (None if v is None else {converter}(v))"
            )
        else:
            converter = f"c{len(arguments)}"
            arguments.append(converter)
            value = f"None if (v := row[{column!r}]) is None else {converter}(v)"
        items.append(f"{name!r}: {value}")
    return "{\n        " + ",\n        ".join(items) + "\n        }"


def _factory(plan: Plan) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"EMPTY": _NO_CHILDREN}
    exec(compile(_source(plan), "<lean plan>", "exec"), namespace)  # noqa: S102 - our own text
    return cast(Callable[..., Any], namespace["make"])


def _pk_only(field: RelatedField[Any, Any, Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return field.to_representation(PKOnlyObject(pk=value))

    return convert


def _compile(serializer: serializers.Serializer[Any], prefix: str = "") -> Plan:
    """The plan of ``serializer``; ``prefix``: the row's columns of a nested object's record
    (``household__``)."""
    plan = Plan()
    # Fields a row mask computes (rendered ``None`` here, in their place).
    computed = set(getattr(serializer, "lean_computed", ()))
    # Method fields computed by the serializer's own method from the row: the columns each
    # reads (``lean_reads``).
    methods: dict[str, tuple[str, ...]] = dict(getattr(serializer, "lean_reads", {}))
    for bound in serializer._readable_fields:  # DRF's own list of the output fields
        name = str(bound.field_name)
        source = str(bound.source)
        if name in computed and not prefix:
            plan.fields.append((name, "", _computed))
            continue
        if name in methods and not prefix:
            getter = _model_property(serializer, bound)
            if isinstance(bound, serializers.SerializerMethodField):
                plan.fields.append((name, "", _Method(str(bound.method_name))))
            elif getter is not None:
                plan.fields.append((name, "", _Property(getter, bound.to_representation)))
            else:
                raise ImproperlyConfigured(f"Field {name!r} is neither a method nor a property.")
            plan.method_columns += methods[name]
            continue
        if _over_json(serializer, bound):
            # A nested serializer (or a list of them) over a JSON column (a plot's GeoJSON,
            # a visit's crops): the column's value rendered by the nested field itself.
            plan.fields.append((name, prefix + source, bound.to_representation))
            continue
        if isinstance(bound, serializers.ListSerializer):
            child = bound.child
            if (
                not isinstance(child, serializers.Serializer)
                or prefix
                or _customised(type(child))
                or row_masks(type(child))
            ):
                raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
            plan.fields.append((name, source, _compile_error))
            plan.nested[name] = (source, _compile(child))
            continue
        if (
            source == "*"
            or isinstance(bound, serializers.SerializerMethodField)
            or _model_property(serializer, bound) is not None  # not in ``lean_reads``
        ):
            raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
        column = prefix + "__".join(bound.source_attrs)
        if isinstance(bound, serializers.Serializer):
            # DRF renders ``None`` for a missing record, else the nested serializer's fields
            # (which must be plain: nothing of its own in ``to_representation``).
            if _customised(type(bound)) or row_masks(type(bound)):
                raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
            plan.fields.append((name, column, _compile_error))
            plan.objects[name] = (f"{column}__pk", _compile(bound, f"{column}__"))
            continue
        convert: Callable[[Any], Any] = _fast(bound)
        if isinstance(bound, serializers.SlugRelatedField):
            # ``attrgetter(slug_field)`` of the related record: its column as it is.
            plan.fields.append((name, f"{column}__{bound.slug_field}", _same))
            continue
        if isinstance(bound, RelatedField):
            if not bound.use_pk_only_optimization():
                raise ImproperlyConfigured(f"Field {name!r} cannot be read from a column.")
            convert = _pk_only(bound)
        plan.fields.append((name, column, convert))
    return plan


def _model_property(serializer: serializers.Serializer[Any], bound: Any) -> Any:
    """The getter of the model property ``bound`` reads (an export's ``percent``), if any."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or len(bound.source_attrs) != 1:
        return None
    attribute = getattr(model, bound.source_attrs[0], None)
    return attribute.fget if isinstance(attribute, property) else None


def _over_json(serializer: serializers.Serializer[Any], bound: Any) -> bool:
    """Whether ``bound`` is a nested serializer (or a list of them) made of plain fields over
    a ``JSONField`` of the serializer's model: its output is its own ``to_representation`` of
    the column's value, as on the serializer path."""
    if not isinstance(bound, (serializers.Serializer, serializers.ListSerializer)):
        return False
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or len(bound.source_attrs) != 1:
        return False
    try:
        model_field = model._meta.get_field(bound.source_attrs[0])
    except FieldDoesNotExist:
        return False
    if not isinstance(model_field, models.JSONField):
        return False
    inner = bound.child if isinstance(bound, serializers.ListSerializer) else bound
    plain = isinstance(inner, serializers.Serializer) and not (
        _customised(type(inner))
        or row_masks(type(inner))
        or any(isinstance(f, serializers.SerializerMethodField) for f in inner.fields.values())
    )
    if not plain:
        raise ImproperlyConfigured(f"Field {bound.field_name!r} cannot be read from a column.")
    return True


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
        return _Passing(bool, slow)
    if kind is serializers.CharField:  # ``str(value)``
        return _Passing(str, slow)
    if kind is serializers.IntegerField:
        return _Passing(int, slow)
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


class _Passing:
    """A field's ``to_representation`` for a value of type ``kind`` returned as it is (the
    rendered plan tests the type inline, without a call); others go to the field."""

    def __init__(self, kind: type[Any], slow: Callable[[Any], Any]) -> None:
        self.kind = kind
        self.slow = slow

    def __call__(self, value: Any) -> Any:
        return value if type(value) is self.kind else self.slow(value)


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


class _Method:
    """A method field named in the serializer's ``lean_reads``: the page's serializer's
    method (``get_<name>``), called with the row (``bind``)."""

    def __init__(self, method_name: str) -> None:
        self.method_name = method_name

    def __call__(self, value: Any) -> Any:
        raise AssertionError("a method field is rendered by the page's serializer")

    def bind(self, serializer: Any) -> Callable[[Any], Any]:
        if serializer is None:
            raise ImproperlyConfigured(f"{self.method_name} needs the page's serializer.")
        return cast(Callable[[Any], Any], getattr(serializer, self.method_name))


class _Property:
    """A field whose source is a property of the model (``lean_reads``): the property's getter
    run on the row (a ``model_row``), its value rendered by the field (``None`` stays
    ``None``, as DRF renders it)."""

    def __init__(self, getter: Callable[[Any], Any], convert: Callable[[Any], Any]) -> None:
        self.getter = getter
        self.convert = convert

    def __call__(self, value: Any) -> Any:
        raise AssertionError("a property field is rendered from the row")

    def bind(self, serializer: Any) -> Callable[[Any], Any]:
        getter, convert = self.getter, self.convert

        def render(row: Any) -> Any:
            value = getter(row)
            return None if value is None else convert(value)

        return render


def _bound(convert: Callable[[Any], Any], serializer: Any = None) -> Callable[[Any], Any]:
    if isinstance(convert, (_Method, _Property)):
        return convert.bind(serializer)
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


def _customised(serializer_class: type[Any]) -> bool:
    """Whether ``serializer_class`` (or a mixin of it outside DRF) changes its output in its
    own ``to_representation`` other than by a ``lean_row_mask`` of the same class (or by
    mapping its record first, ``lean_record``: a view listing such rows maps them by the same
    class method, as ``farmers.api.stage_reviews`` does): its rows need the view's
    ``mask_row``."""
    return any(
        "to_representation" in vars(klass)
        and "lean_row_mask" not in vars(klass)
        and "lean_record" not in vars(klass)
        and not klass.__module__.startswith("rest_framework")
        for klass in serializer_class.__mro__
    )


RowMask = Callable[[dict[str, Any], Any, dict[str, Any]], None]


def row_masks(serializer_class: type[Any]) -> list[RowMask]:
    """The ``lean_row_mask(context, record, data)`` class methods of ``serializer_class``'s
    classes, in the order their ``to_representation`` applies them (the innermost first: each
    masks what ``super()`` returned). A serializer mixin that only drops or replaces fields
    does it in ``lean_row_mask`` and calls it from its ``to_representation``: both paths run
    the same code, on an instance or on a row."""
    masks = []
    for klass in reversed(serializer_class.__mro__):
        if "lean_row_mask" in vars(klass):
            masks.append(vars(klass)["lean_row_mask"].__get__(None, serializer_class))
    return masks


def own_row_mask(klass: type[Any], serializer: Any, record: Any, data: dict[str, Any]) -> None:
    """Run ``klass``'s own ``lean_row_mask`` (not a subclass's, nor another mixin's) on
    ``record``'s ``data``, with the serializer's class as ``cls``: what a serializer mixin's
    ``to_representation`` calls, so that each class in the chain applies its own mask once,
    in the order ``row_masks`` gives the lean path."""
    vars(klass)["lean_row_mask"].__func__(type(serializer), serializer.context, record, data)


# The plan of each (view, list serializer), or ``None`` where the list stays on the serializer
# path (``LeanListMixin.lean_plan``).
_VIEW_PLANS: dict[tuple[type[Any], type[Any]], Plan | None] = {}


class LeanListMixin:
    """``list()`` on the lean path for every ``RegistryViewSet`` (see the module's docstring):
    one query for the page, one per entry of ``lean_children`` and of ``lean_related``, nothing
    per row. A list whose serializer the plan cannot read, or whose serializer masks in its own
    ``to_representation`` while the view has no ``mask_row``, stays on the serializer path
    (``serializer_list``); ``lean_list = False`` keeps a view there."""

    lean_list: bool = True
    lean_children: dict[str, Children] = {}
    # Related records a method field or a mask reads (``row.documents.all()``), read as rows
    # in one query a page (``Children.columns``) and set on each row under their name.
    lean_related: dict[str, Children] = {}

    def lean_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The page's queryset before ``values()``: add annotated columns a mask reads here."""
        return queryset

    def lean_columns(self) -> list[str]:
        """Columns read besides the serializer's: what ``mask_row`` and the access log need."""
        return []

    def mask_row(self, context: dict[str, Any], row: Row, data: dict[str, Any]) -> None:
        """Drop or replace what the caller may not see of ``row`` in ``data`` (in place)."""

    def lean_plan(self) -> Plan | None:
        """The plan this view's list renders rows with, or ``None`` on the serializer path
        (decided once per view and serializer class)."""
        serializer_class = self.get_serializer_class()  # type: ignore[attr-defined]
        key = (type(self), serializer_class)
        if key not in _VIEW_PLANS:
            _VIEW_PLANS[key] = self._lean_plan(serializer_class)
        return _VIEW_PLANS[key]

    def _lean_plan(self, serializer_class: type[Any]) -> Plan | None:
        if not self.lean_list:
            return None
        masks = type(self).mask_row is not LeanListMixin.mask_row
        # Computed fields are set by the view's ``mask_row`` or the serializer's row masks.
        computed = hasattr(serializer_class, "lean_computed") and not row_masks(serializer_class)
        if not masks and (_customised(serializer_class) or computed):
            return None
        try:
            plan = compile_plan(serializer_class)
        except ImproperlyConfigured:
            if masks:  # a view written for the lean path: its serializer must stay readable
                raise
            return None
        if set(plan.nested) - set(self.lean_children):
            return None
        return plan

    # No docstring: drf-spectacular would give it to every list endpoint as its description.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.lean_plan()
        if plan is None:
            return self.serializer_list(request, *args, **kwargs)
        queryset = self.lean_queryset(
            self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        )
        # The annotations the selector made (e.g. the consent's purposes a mask reads).
        annotations = list(queryset.query.annotations)
        # The primary key: ``id``, or ``pk`` for a model keyed otherwise (a district's ubigeo).
        key = "id" if queryset.model._meta.pk.attname == "id" else "pk"
        wanted = list(dict.fromkeys([key, *plan.columns, *self.lean_columns(), *annotations]))
        rows = queryset.prefetch_related(None).values(*wanted)
        # Rows as ``Row`` objects; with the model's properties where code reads the row.
        rows._iterable_class = model_rows(queryset.model) if plan.has_methods else RowIterable
        page = self.paginate_queryset(rows)  # type: ignore[attr-defined]
        assert page is not None  # every list endpoint is paginated
        ids = [row[key] for row in page]
        children = self._children(ids, plan)
        self._related(ids, key, page)
        if plan.has_methods:
            serializer = self.get_serializer()  # type: ignore[attr-defined]
            context = serializer.context
            render = plan.renderer(serializer)
        else:
            context = self.get_serializer_context()  # type: ignore[attr-defined]
            render = plan.renderer()
        masks = [*row_masks(self.get_serializer_class()), self.mask_row]  # type: ignore[attr-defined]
        results = []
        for row in page:
            data = render(row, children.get(row[key], _NO_CHILDREN))
            for mask in masks:
                mask(context, row, data)
            results.append(data)
        return self.get_paginated_response(results)  # type: ignore[attr-defined]

    def serializer_list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list on the serializer path: a model instance and a serializer per row."""
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        assert page is not None  # every list endpoint is paginated
        serializer = self.get_serializer(page, many=True)  # type: ignore[attr-defined]
        return self.get_paginated_response(serializer.data)  # type: ignore[attr-defined]

    def _children(self, ids: Iterable[Any], plan: Plan) -> Grouped:
        grouped: Grouped = {}
        ids = list(ids)
        if not ids:
            return grouped
        for name, (_source, child_plan) in plan.nested.items():
            spec = self.lean_children[name]
            columns = list(dict.fromkeys([*child_plan.columns, *spec.columns, spec.fk]))
            rows = spec.queryset().filter(**{f"{spec.fk}__in": ids}).values(*columns)
            if child_plan.has_methods:
                rows._iterable_class = RowIterable  # read by the serializer's methods
            for child in rows:
                grouped.setdefault(child[spec.fk], {}).setdefault(name, []).append(child)
        return grouped

    def _related(self, ids: Iterable[Any], key: str, page: Iterable[Row]) -> None:
        """Each row of ``page`` with its ``lean_related`` records (one query each a page)."""
        ids = list(ids)
        for name, spec in self.lean_related.items():
            by_parent: dict[Any, Related] = {}
            if ids:
                columns = list(dict.fromkeys([*spec.columns, spec.fk]))
                rows = spec.queryset().filter(**{f"{spec.fk}__in": ids}).values(*columns)
                rows._iterable_class = RowIterable
                for related in cast(Iterable[Row], rows):
                    by_parent.setdefault(related[spec.fk], Related()).append(related)
            for row in page:
                row[name] = by_parent.get(row[key], Related())


class RowIterable(ValuesIterable):
    """``values()`` rows as ``Row`` objects (``row_class``: a ``model_row`` class)."""

    row_class: type[Row] = Row

    def __iter__(self) -> Any:
        row_class = self.row_class
        for row in super().__iter__():
            yield row_class(row)


_MODEL_ROWS: dict[type[Any], type[RowIterable]] = {}


def model_rows(model: type[models.Model]) -> type[RowIterable]:
    """``values()`` rows of ``model`` readable as its records are by the code a method field
    or a property field runs (``lean_reads``): with the model's properties (an export's
    ``percent``, ``rate``, ``time_left``) and its fields' ``get_<name>_display``, computed from
    the row's columns as on the record (a column the code reads and the row lacks raises)."""
    iterable = _MODEL_ROWS.get(model)
    if iterable is None:
        # ``_meta``: which model a row is of (``row._meta.model``), as on a record.
        members: dict[str, Any] = {"__slots__": (), "_meta": model._meta}
        for klass in reversed(model.__mro__):
            if issubclass(klass, models.Model) and klass is not models.Model:
                for name, value in vars(klass).items():
                    if isinstance(value, property) and name != "pk":
                        members[name] = value
        for model_field in model._meta.concrete_fields:
            if model_field.choices:
                members[f"get_{model_field.name}_display"] = partialmethod(
                    models.Model._get_FIELD_display,  # type: ignore[attr-defined]
                    field=model_field,
                )
        row_class = type(f"{model.__name__}Row", (Row,), members)
        iterable = type(f"{model.__name__}RowIterable", (RowIterable,), {"row_class": row_class})
        _MODEL_ROWS[model] = iterable
    return iterable
