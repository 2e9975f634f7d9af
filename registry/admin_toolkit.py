"""Pieces every app's admin uses: read-only inlines, large-table changelists (capped counts) and
streamed CSV exports.

Kept apart from ``registry.admin`` (which registers the kernel's own models) so that an app's
admin can use them without caring about the kernel's registrations.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import models
from django.db.models import QuerySet, Subquery
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .cleaning import typed_number
from .display import change_lines, channel_label, moment

__all__ = [
    "CappedCountPaginator",
    "DecimalCommaAdminMixin",
    "DecimalCommaField",
    "LargeTableAdmin",
    "ReadOnlyInline",
    "evidence_file",
    "history_html",
    "stream_csv",
]


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (a bounded ``COUNT`` over ``LIMIT``), so changelists of
    million-row tables never count the whole table; beyond the cap the last page is not
    offered exactly."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return int(rows[: self.CAP + 1].count())


class KeysFirstPaginator(CappedCountPaginator):
    """A capped count, and each page's rows found by key first: a subquery of the page's
    primary keys reads only the filtered and ordering columns (answerable by a covering index
    without visiting the table, however many rows the filter skips), then the page's rows by
    key. Still one query a page. The count stops at 1,000 rows (20 pages) and is unordered, so
    that a common name's search neither walks nor sorts ten thousand matches to count them."""

    CAP = 1_000

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Any]", self.object_list)
        return int(rows.order_by()[: self.CAP + 1].count())

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = cast("QuerySet[Any]", self.object_list)
        keys = rows.values("pk")[bottom:top]
        return self._get_page(rows.filter(pk__in=Subquery(keys)), number, self)  # type: ignore[attr-defined]


class LargeTableAdmin(admin.ModelAdmin):
    """The changelist of a table that grows to millions of rows (title files, contracts,
    deliveries, offers): 50 rows a page, counted at most up to ``CappedCountPaginator.CAP``."""

    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator


class ReadOnlyInline(admin.TabularInline):
    """A history or child list shown under its parent: no adding, editing or deleting, every
    listed field read-only (changes go through the services, never through the inline)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return list(self.fields or self.readonly_fields or [])

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """The rows with the records their listed fields point to (who made each move, ...):
        one query however many rows."""
        queryset = super().get_queryset(request)
        shown = set(self.fields or self.readonly_fields or [])
        related = [
            field.name
            for field in self.model._meta.concrete_fields
            if field.is_relation and field.name in shown
        ]
        return queryset.select_related(*related) if related else queryset


class _Echo:
    """A file-like object whose ``write`` hands the line back (``csv.writer`` into a stream)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], filename: str
) -> StreamingHttpResponse:
    """A CSV download written row by row as ``rows`` is read (constant memory on big tables)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class DecimalCommaField(forms.DecimalField):
    """A number as people type it in Peru: ``1,5`` (decimal comma) or ``1.5``, spaces as
    thousands separators (``registry.cleaning.typed_number``); shown with the local separator."""

    widget = forms.TextInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["localize"] = True
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        return super().to_python(typed_number(value))

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["inputmode"] = "decimal"
        attrs.pop("step", None)
        return attrs


class DecimalCommaAdminMixin:
    """Every decimal field of the admin form accepts the decimal comma (``DecimalCommaField``)."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.DecimalField):
            kwargs["form_class"] = DecimalCommaField
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]


def _who(record: Any) -> str:
    person = record.created_by or record.created_by_key or _("the system")
    return f"{person} ({channel_label(record.channel)})"


def history_html(
    instances: Sequence[models.Model],
    *,
    limit: int = 100,
    lines_for: Mapping[str, Callable[[Any], str]] | None = None,
) -> SafeString:
    """The change history of ``instances`` (a record and its parts), newest first, in words:
    when, which record, what happened, who and where, and each changed field as
    "Field: old → new" with labels (two queries, however many records)."""
    ids_by_type: dict[int, list[str]] = {}
    types = ContentType.objects.get_for_models(
        *{type(instance) for instance in instances}, for_concrete_models=True
    )
    for instance in instances:
        ids_by_type.setdefault(types[type(instance)].pk, []).append(str(instance.pk))
    from .models import ChangeRecord

    condition = models.Q(pk__in=[])
    for type_id, ids in ids_by_type.items():
        condition |= models.Q(content_type_id=type_id, object_id__in=ids)
    records = list(
        ChangeRecord.objects.filter(condition)
        .select_related("created_by", "created_by_key")
        .order_by("-at", "-id")[:limit]
    )
    if not records:
        return format_html("<p>{}</p>", _("No changes recorded."))
    models_by_type = {ct.pk: ct.model_class() for ct in types.values()}
    names_by_type = {ct.pk: ct.model_class()._meta.verbose_name for ct in types.values()}  # type: ignore[union-attr]
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                moment(r.at),
                f"{str(names_by_type.get(r.content_type_id, '')).capitalize()} · {r.object_repr}",
                r.get_action_display(),
                _who(r),
                format_html_join(
                    "",
                    "{}<br>",
                    (
                        (line,)
                        for line in change_lines(
                            models_by_type.get(r.content_type_id), r.changes, lines_for=lines_for
                        )
                    ),
                ),
            )
            for r in records
        ),
    )
    return format_html(
        '<table class="story-history"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        _("When"),
        _("Record"),
        _("What happened"),
        _("Who"),
        _("Changes"),
        rows,
    )


EVIDENCE_TYPES = {
    b"%PDF": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
}


def evidence_file(field_file: Any, name: str) -> FileResponse:
    """A stored piece of evidence (a visit's photo, a title document) served to a person the
    caller has already checked: shown in the browser when it is a PDF, JPEG or PNG (its type
    read from its first bytes, never from its name), downloaded otherwise; never cached by a
    shared cache."""
    handle = field_file.open("rb")
    head = handle.read(8)
    handle.seek(0)
    content_type = next(
        (kind for magic, kind in EVIDENCE_TYPES.items() if head.startswith(magic)),
        "application/octet-stream",
    )
    extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
        content_type, ""
    )
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not extension,
        filename=f"{name}{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# The dashboard's area filters on a record with ``district`` and ``program`` (households, title
# files, contracts, deliveries: ``farmers.reporting.dashboard.area_params``).
AREA_LOOKUPS = frozenset(
    {
        "program__id__exact",
        "program__funder__exact",
        "district__exact",
        "district__department__exact",
        "district__province__exact",
        "district__is_vraem__exact",
    }
)


class DashboardLinksMixin:
    """An admin list the dashboard links to: its area filters (:data:`AREA_LOOKUPS`) and the
    list's own ``dashboard_lookups`` are allowed in the query string."""

    dashboard_lookups: frozenset[str] = frozenset()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup in AREA_LOOKUPS or lookup in self.dashboard_lookups:
            return True
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]
