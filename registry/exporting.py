"""Exports of the lists staff and partners use, as XLSX or CSV (issue 18, point 5).

**One row source: the API list.** An export's rows are the pages the caller's own API list
would answer (``GET /api/v1/<route>/`` with the same filters), produced by that list's viewset
itself, page after page: the same selector (scope), the same filters, the same serializer or
lean plan and the same masking (consent pseudonymisation ``farmers.consent``, coca and stage
gating ``farmers.policies``), and the same access log (``LoggedReadsMixin``: one row per page,
listing the records whose personal or coca fields were shown). An export started from the
admin narrows that list to the rows of the changelist (its filters, search and selection) as a
``pk__in`` subquery, so the admin's scope and the list's both hold.

**Columns, not codes.** Each app declares, next to its selectors, the columns of its lists
(``<app>/exports.py``: ``Column(key, label, kind)``) and registers them from ``ready()``
(``register``). A cell is converted from the API value: choices to their labels, ubigeo to the
district's name, programme and organization codes to names, household ids to codes (set-based
lookups per page, ``register_lookup``), dates and moments to real dates in local time,
decimals to numbers. A field the list withholds (a stage the caller may not see) is written as
``•••``; a field it empties (a pseudonymised name) stays empty.

**Files.** XLSX through openpyxl's write-only mode (rows streamed to disk, constant memory):
Spanish headers, date cells with the ``dd/mm/aaaa`` number format, numbers as numbers. CSV in
UTF-8 **with a BOM** (Excel otherwise reads "Chuchón" as "ChuchÃ³n") and the **comma** as the
separator with the decimal **point**: Excel opens a ``.csv`` with the list separator of the
Windows regional settings, which for *Español (Perú)* are ``,`` (list) and ``.`` (decimal), as
CLDR's ``es-PE`` numbers are; dates as ``dd/mm/aaaa``, which Excel es-PE reads as dates.

**Jobs.** ``export_start`` records an ``ExportJob`` and queues ``registry.tasks.run_export``
through the outbox (``EXPORT_TOPIC``: after commit, retried by the relay if the broker is away;
in-process on the embedded default); ``export_run`` writes the file page by page
through ``registry.jobs`` (progress, cancel between pages) and stores it with Django's storage.
``download_token`` / ``download_allowed`` give a signed link that expires
(``EXPORT_LINK_MAX_AGE`` seconds) and only serves the job's starter (or, for a key, its
organization). Small admin exports (up to ``EXPORT_INLINE_MAX_ROWS`` rows) are written at once
in the request (``write_file``) without a job.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.files import File
from django.db import models
from django.db.models import QuerySet
from django.http import QueryDict
from django.test.client import RequestFactory
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request

from . import jobs, outbox
from .actors import Actor
from .exceptions import PermissionDenied, RegistryError
from .models import District, ExportFormat, ExportJob, JobStatus, Organization, Program

logger = logging.getLogger("registry.exporting")

__all__ = [
    "Column",
    "ExportResource",
    "download_allowed",
    "download_token",
    "export_run",
    "export_start",
    "job_actor",
    "model_column",
    "register",
    "register_lookup",
    "resource",
    "resources",
    "validate_filters",
    "write_all",
    "write_file",
]

#: The outbox topic that queues an export's task after the commit (registered in ``ready()``).
EXPORT_TOPIC = "export.run"
EXPORT_TASK = "registry.tasks.run_export"
#: Rows read from the list per page (the API list's own page size is capped lower).
CHUNK = 500
#: What a cell shows when the list withholds the field from the caller.
WITHHELD = "•••"
DATE_FORMAT = "DD/MM/YYYY"
MOMENT_FORMAT = "DD/MM/YYYY HH:MM"

# --- column kinds ------------------------------------------------------------------------------

TEXT = "text"
CHOICE = "choice"  # a code → its label (``choices``)
CHOICES = "choices"  # a list of codes → their labels, joined
DATE = "date"
MOMENT = "moment"  # a datetime, written in local time
DECIMAL = "decimal"
INTEGER = "integer"
BOOLEAN = "boolean"
LOOKUP = "lookup"  # a code or id → a name, through a registered lookup (``lookup``)


@dataclass(frozen=True)
class Column:
    """One column of an export: ``key`` is the field of the API list's row (a dotted path into
    a nested object: ``household.code``), ``label`` its header, ``kind`` how a value becomes a
    cell; ``choices`` (code → label) for choice columns, ``lookup`` the name of a registered
    lookup (``district``, ``program``, ``organization``, ``household``) for lookup columns."""

    key: str
    label: Any
    kind: str = TEXT
    choices: Any = None
    lookup: str = ""


def model_column(
    model: type[models.Model], name: str, *, key: str = "", label: Any = None, lookup: str = ""
) -> Column:
    """A column for the model field ``name`` (the API field ``key``, by default the same
    name): its verbose name as the header, its kind from the field (choices, date, moment,
    decimal, integer, yes/no; a district is named, a programme or organization too when
    ``lookup`` says how)."""
    model_field = model._meta.get_field(name)
    kind = TEXT
    choices: Any = None
    if lookup:
        kind = LOOKUP
    elif isinstance(model_field, models.ForeignKey) and model_field.related_model is District:
        kind, lookup = LOOKUP, "district"
    elif getattr(model_field, "choices", None):  # a code of a choice field
        kind, choices = CHOICE, getattr(model_field, "choices", None)
    elif isinstance(model_field, models.DateTimeField):
        kind = MOMENT
    elif isinstance(model_field, models.DateField):
        kind = DATE
    elif isinstance(model_field, models.DecimalField):
        kind = DECIMAL
    elif isinstance(model_field, (models.IntegerField, models.FloatField)):
        kind = INTEGER if isinstance(model_field, models.IntegerField) else DECIMAL
    elif isinstance(model_field, models.BooleanField):
        kind = BOOLEAN
    verbose = label if label is not None else getattr(model_field, "verbose_name", name)
    return Column(key or name, verbose, kind, choices=choices, lookup=lookup)


@dataclass(frozen=True)
class ExportResource:
    """A list that can be exported: its name in ``POST exports/``, its label, the file's name,
    the API list's viewset (and route, for the access log), the model its admin changelist
    lists, and its columns."""

    name: str
    label: Any
    filename: str
    viewset: type[Any]
    route: str
    model: type[models.Model]
    columns: tuple[Column, ...]


_RESOURCES: dict[str, ExportResource] = {}
Lookup = Callable[[set[Any]], Mapping[Any, str]]
_LOOKUPS: dict[str, Lookup] = {}


def register(export: ExportResource) -> None:
    """Offer ``export`` (called from the owning app's ``ready()``)."""
    _RESOURCES[export.name] = export


def register_lookup(name: str, lookup: Lookup) -> None:
    """A set-based lookup for ``LOOKUP`` columns: ``lookup(values) → {value: name}``."""
    _LOOKUPS[name] = lookup


def resources() -> list[ExportResource]:
    """Every exportable list, by name."""
    return [_RESOURCES[name] for name in sorted(_RESOURCES)]


def resource(name: str) -> ExportResource:
    """The exportable list called ``name`` (``KeyError`` when there is none)."""
    return _RESOURCES[name]


def resource_label(name: str) -> str:
    """The list called ``name`` as people read it ("Hogares"); the name when unknown."""
    export = _RESOURCES.get(name)
    return capfirst(str(export.label)) if export is not None else name


def resource_for_model(model: type[models.Model]) -> ExportResource | None:
    """The exportable list whose admin changelist lists ``model``."""
    return next((r for r in _RESOURCES.values() if r.model is model), None)


def _districts(values: set[Any]) -> Mapping[Any, str]:
    return dict(District.objects.filter(ubigeo__in=values).values_list("ubigeo", "name"))


def _programs(values: set[Any]) -> Mapping[Any, str]:
    return dict(Program.objects.filter(code__in=values).values_list("code", "name"))


def _organizations(values: set[Any]) -> Mapping[Any, str]:
    return dict(Organization.objects.filter(code__in=values).values_list("code", "name"))


register_lookup("district", _districts)
register_lookup("program", _programs)
register_lookup("organization", _organizations)

# --- cells -------------------------------------------------------------------------------------

_MISSING = object()


def _pick(row: Mapping[str, Any], key: str) -> Any:
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        if part not in value:
            return _MISSING
        value = value[part]
    return value


def _label(choices: Any, code: Any) -> str:
    labels = dict(choices.choices) if hasattr(choices, "choices") else dict(choices or {})
    return str(labels.get(code, code))


def _cell(column: Column, value: Any, names: Mapping[str, Mapping[Any, str]]) -> Any:
    """The cell of ``column`` for the API value ``value`` (a Python value: text, number,
    date, naive local datetime, or ``None`` for an empty cell)."""
    if value is _MISSING:
        return WITHHELD
    if value is None or value == "":
        return None
    kind = column.kind
    if kind == CHOICE:
        return _label(column.choices, value)
    if kind == CHOICES:
        return ", ".join(_label(column.choices, code) for code in value)
    if kind == DATE:
        return date.fromisoformat(str(value)[:10])
    if kind == MOMENT:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if timezone.is_aware(moment):
            moment = timezone.make_naive(moment, timezone.get_default_timezone())
        return moment.replace(microsecond=0)
    if kind == DECIMAL:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if kind == INTEGER:
        return int(value)
    if kind == BOOLEAN:
        return _("Yes") if value else _("No")
    if kind == LOOKUP:
        return names.get(column.lookup, {}).get(str(value), str(value))
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(value)


def table(export: ExportResource, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The cells of a page of API rows (one lookup query per lookup column kind per page)."""
    wanted: dict[str, set[Any]] = {}
    for column in export.columns:
        if column.kind == LOOKUP:
            values = wanted.setdefault(column.lookup, set())
            for row in rows:
                value = _pick(row, column.key)
                if value is not _MISSING and value not in (None, ""):
                    values.add(str(value))
    names = {name: _LOOKUPS[name](values) if values else {} for name, values in wanted.items()}
    return [[_cell(c, _pick(row, c.key), names) for c in export.columns] for row in rows]


def headers(export: ExportResource) -> list[str]:
    """The header row: each column's label, capitalised, in the active language."""
    return [capfirst(str(column.label)) for column in export.columns]


# --- writers -----------------------------------------------------------------------------------


class _XlsxWriter:
    """Rows into a write-only workbook (streamed to its temporary file when saved)."""

    def __init__(self, export: ExportResource) -> None:
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=capfirst(str(export.label))[:31])
        self.sheet.freeze_panes = "A2"

    def write(self, values: Sequence[Any]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for value in values:
            if isinstance(value, (date, datetime)):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = MOMENT_FORMAT if isinstance(value, datetime) else DATE_FORMAT
                cells.append(cell)
            else:
                cells.append(value)
        self.sheet.append(cells)

    def close(self, handle: IO[bytes]) -> None:
        self.book.save(handle)

    def abandon(self) -> None:
        """Stop writing (a cancelled export): close the sheet and remove its temporary file."""
        self.sheet.close()
        self.sheet._writer.cleanup()


class _CsvWriter:
    """Rows as CSV in UTF-8 with a BOM, comma-separated, decimal point, dd/mm/aaaa dates."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.text, delimiter=",", quoting=csv.QUOTE_MINIMAL)

    def write(self, values: Sequence[Any]) -> None:
        self.writer.writerow([_csv_text(value) for value in values])

    def close(self, handle: IO[bytes]) -> None:
        self.text.flush()
        self.text.detach()

    def abandon(self) -> None:
        """Stop writing (a cancelled export)."""
        self.text.detach()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def write_file(
    export: ExportResource, file_format: str, pages: Iterable[Sequence[Mapping[str, Any]]]
) -> Generator[tuple[int, IO[bytes] | None], None, None]:
    """Write ``pages`` of API rows as an XLSX or CSV file: yields the rows written after each
    page (the caller may stop there: cancel), then ``(rows, file)`` with the file rewound."""
    handle: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller)
    with translation.override(settings.LANGUAGE_CODE):
        writer: _XlsxWriter | _CsvWriter = (
            _XlsxWriter(export) if file_format == ExportFormat.XLSX else _CsvWriter(handle)
        )
        writer.write(headers(export))
        done = 0
        try:
            for page in pages:
                for values in table(export, page):
                    writer.write(values)
                done += len(page)
                yield done, None
        except GeneratorExit:  # the caller stopped (cancel): nothing is kept
            writer.abandon()
            handle.close()
            raise
        writer.close(handle)
    handle.seek(0)
    yield done, handle


def write_all(
    export: ExportResource, file_format: str, pages: Iterable[Sequence[Mapping[str, Any]]]
) -> tuple[int, IO[bytes]]:
    """``write_file`` to the end: the rows written and the file, rewound."""
    done, handle = 0, None
    for done, handle in write_file(export, file_format, pages):  # noqa: B007
        pass
    assert handle is not None
    return done, handle


def filename(export: ExportResource, file_format: str) -> str:
    """The download's name: the list's name and the local date (``hogares_30-11-2026.xlsx``)."""
    return f"{export.filename}_{timezone.localdate():%d-%m-%Y}.{file_format}"


# --- the rows: the caller's own API list ----------------------------------------------------------


def _list_view(
    export: ExportResource, actor: Actor, params: Mapping[str, Any], path: str, page_size: int = 0
) -> Any:
    """The API list's viewset, set up as for ``GET <path>?<params>`` by ``actor``."""
    from .api.authentication import ApiKeyPrincipal

    http = RequestFactory().get(path, dict(params))
    # The list builds absolute paging links: no Host header to check, the links are read here.
    http.get_host = lambda: "localhost"  # type: ignore[method-assign]
    request = Request(http, authenticators=())
    if actor.api_key is not None:
        request.user = ApiKeyPrincipal(actor.api_key)  # type: ignore[assignment]
        request.auth = actor.api_key
    else:
        request.user = actor.user or AnonymousUser()
    request._registry_actor = actor  # type: ignore[attr-defined]
    view = export.viewset()
    view.request = request
    view.args, view.kwargs = (), {}
    view.action = "list"
    view.format_kwarg = None
    view.headers = {}
    view.paginator.max_page_size = max(page_size, view.paginator.max_page_size)
    return view


def _narrowed(view: Any, within: QuerySet[Any] | None) -> Any:
    if within is not None:
        listed = view.get_queryset

        def get_queryset() -> QuerySet[Any]:
            return listed().filter(pk__in=within.values("pk"))

        view.get_queryset = get_queryset
    return view


def list_pages(
    export: ExportResource,
    actor: Actor,
    *,
    filters: Mapping[str, Any],
    within: QuerySet[Any] | None = None,
    path: str = "",
    page_size: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``actor``'s API list of ``export`` with ``filters`` (narrowed to ``within``),
    as the list answers them, page after page (each page's reads logged as the list logs)."""
    path = path or f"/api/v1/{export.route}/"
    page_size = page_size or CHUNK
    cursor = ""
    while True:
        params = {**filters, "page_size": page_size}
        if cursor:
            params["cursor"] = cursor
        view = _narrowed(_list_view(export, actor, params, path, page_size), within)
        data = view.list(view.request).data
        rows = list(data["results"])
        if rows:
            yield rows
        following = data.get("next")
        if not following:
            return
        cursor = parse_qs(urlsplit(following).query).get("cursor", [""])[0]
        if not cursor:
            return


def list_count(
    export: ExportResource,
    actor: Actor,
    *,
    filters: Mapping[str, Any],
    within: QuerySet[Any] | None = None,
) -> int:
    """How many rows ``actor``'s list of ``export`` with ``filters`` has (the job's total)."""
    view = _narrowed(_list_view(export, actor, filters, f"/api/v1/{export.route}/"), within)
    return int(view.filter_queryset(view.get_queryset()).order_by().count())


def validate_filters(export: ExportResource, actor: Actor, filters: Any) -> dict[str, Any]:
    """``filters`` checked against the API list's FilterSet as the list would check them: a
    JSON object of the list's query parameters (a value or a list of values each); an unknown
    name or a bad value raises a DRF ``ValidationError`` on ``filters.<name>`` (400); the
    caller must hold the list's read scope (403 otherwise)."""
    view = _list_view(export, actor, {}, f"/api/v1/{export.route}/")
    for permission in view.get_permissions():
        if not permission.has_permission(view.request, view):
            raise ApiPermissionDenied(
                getattr(permission, "message", None), code=getattr(permission, "code", None)
            )
    if not isinstance(filters, Mapping):
        raise ApiValidationError({"filters": [_("Send the filters as a JSON object.")]})
    filterset_class = getattr(view, "filterset_class", None)
    known = set(filterset_class.base_filters) if filterset_class else set()
    unknown = sorted(set(filters) - known)
    if unknown:
        message = _("Unknown filter: the %(list)s list accepts %(names)s.") % {
            "list": export.name,
            "names": ", ".join(sorted(known)) or "—",
        }
        raise ApiValidationError(
            {f"filters.{name}": [ErrorDetail(message, code="unknown_filter")] for name in unknown}
        )
    clean: dict[str, Any] = {}
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, float, bool)) for v in values):
            raise ApiValidationError({f"filters.{name}": [_("Use a value or a list of values.")]})
        texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        query.setlist(name, texts)
        clean[name] = texts if isinstance(value, list) else texts[0]
    if filterset_class is not None:
        filterset = filterset_class(query, queryset=view.get_queryset(), request=view.request)
        if not filterset.is_valid():
            raise ApiValidationError(
                {f"filters.{name}": errors for name, errors in filterset.errors.items()}
            )
    # The list's own checks on its filters (e.g. ``stage`` needs the right to see stages).
    view = _list_view(export, actor, clean, f"/api/v1/{export.route}/")
    view.filter_queryset(view.get_queryset())
    return clean


# --- jobs ----------------------------------------------------------------------------------------


def export_start(
    *,
    actor: Actor,
    export: ExportResource,
    file_format: str,
    filters: Mapping[str, Any] | None = None,
    from_admin: bool = False,
    admin_query: str = "",
    selected: Sequence[str] = (),
) -> ExportJob:
    """Record an export of ``export`` for ``actor`` (the API list's ``filters``, or an admin
    changelist's query string and selection) and queue it after commit."""
    if file_format not in ExportFormat.values:
        raise ApiValidationError({"format": [_("Use xlsx or csv.")]})
    job = ExportJob(
        **actor.stamp(),
        resource=export.name,
        format=file_format,
        filters={"selected": list(selected)} if from_admin else dict(filters or {}),
        from_admin=from_admin,
        admin_query=admin_query,
        organization=actor.api_key.organization if actor.api_key is not None else None,
    )
    job.full_clean(exclude=["file"])
    job.save()
    outbox.publish_on_commit(EXPORT_TOPIC, {"job_id": str(job.pk)})
    return job


def job_actor(job: ExportJob) -> Actor:
    """Who the export reads as: its starter (a person, or a key still valid)."""
    if job.created_by_key_id is not None:
        key = job.created_by_key
        now = timezone.now()
        if key is None or key.revoked_at or (key.expires_at and key.expires_at <= now):
            raise PermissionDenied(_("The key that asked for this export is no longer valid."))
        return Actor.for_api_key(key)
    return Actor.for_user(job.created_by)


def admin_queryset(
    export: ExportResource, actor: Actor, query: str, selected: Sequence[str] = ()
) -> QuerySet[Any]:
    """The rows of the admin changelist of ``export`` as ``actor`` saw it with ``query`` (its
    filters and search), narrowed to ``selected`` when rows were ticked one by one."""
    from django.contrib import admin

    model_admin = admin.site._registry[export.model]
    request = RequestFactory().get("/admin/", QueryDict(query))
    request.user = actor.user
    changelist = model_admin.get_changelist_instance(request)
    rows: QuerySet[Any] = changelist.get_queryset(request)
    return rows.filter(pk__in=list(selected)) if selected else rows


def export_run(job_id: str) -> None:
    """Write the export ``job_id`` (idempotent: a finished job is left as it is): count the
    rows, write them page by page with the progress recorded and a cancel honoured between
    pages, then store the file."""
    job = ExportJob.objects.select_related("created_by", "created_by_key__organization").get(
        pk=job_id
    )
    if job.is_finished:
        return
    try:
        export = resource(job.resource)
        actor = job_actor(job)
        within = None
        filters: Mapping[str, Any] = job.filters
        if job.from_admin:
            within = admin_queryset(export, actor, job.admin_query, job.filters.get("selected", []))
            filters = {}
        jobs.start(job, total=list_count(export, actor, filters=filters, within=within))
        pages = list_pages(
            export, actor, filters=filters, within=within, path=f"/api/v1/exports/{job.pk}/"
        )
        writing = write_file(export, job.format, pages)
        try:
            for done, handle in writing:
                if handle is not None:
                    with handle:
                        job.file.save(filename(export, job.format), File(handle), save=False)
                    type(job).objects.filter(pk=job.pk).update(file=job.file.name)
                    job.done = done
                    jobs.finish(job)
                    return
                jobs.advance(job, done=done)
                if jobs.cancelled(job):
                    jobs.finish(job, status=JobStatus.CANCELLED)
                    return
        finally:
            writing.close()  # a cancelled export's temporary files go at once
    except (RegistryError, ApiPermissionDenied, ApiValidationError) as exc:
        jobs.fail(job, str(getattr(exc, "detail", exc)))
    except Exception:
        logger.exception("Export %s failed", job.pk)
        jobs.fail(job, _("The export could not be written. Try again or ask for help."))


def export_cancel(*, actor: Actor, job: ExportJob) -> bool:
    """Ask ``job`` to stop (``registry.jobs.request_cancel``); only who may download it may."""
    if not may_manage(actor, job):
        raise PermissionDenied(_("This export is not yours."))
    return jobs.request_cancel(job)


def may_manage(actor: Actor, job: ExportJob) -> bool:
    """Whether ``actor`` may see, cancel and download ``job``: its starter; for a key's job,
    any key of the same organization; superusers see every job."""
    if actor.api_key is not None:
        return job.organization_id is not None and job.organization_id == (
            actor.api_key.organization_id
        )
    if actor.user is None:
        return False
    return bool(job.created_by_id == actor.user.pk or actor.user.is_superuser)


def jobs_of(actor: Actor) -> QuerySet[ExportJob]:
    """The exports ``actor`` may see (``may_manage``), newest first."""
    rows = ExportJob.objects.select_related("created_by", "created_by_key")
    if actor.api_key is not None:
        return rows.filter(organization_id=actor.api_key.organization_id)
    if actor.user is None:
        return rows.none()
    if actor.user.is_superuser:
        return rows
    return rows.filter(created_by=actor.user)


_SALT = "registry.exports.download"


def download_token(job: ExportJob) -> str:
    """A signed token for downloading ``job``'s file (checked by ``download_allowed``)."""
    return signing.TimestampSigner(salt=_SALT).sign(str(job.pk))


def download_link_expires() -> datetime:
    """When a link made now stops working (``EXPORT_LINK_MAX_AGE`` from now)."""
    return timezone.now() + timedelta(seconds=settings.EXPORT_LINK_MAX_AGE)


def download_allowed(actor: Actor, job: ExportJob, token: str) -> bool:
    """Whether ``token`` is a valid, unexpired link to ``job`` and ``actor`` may have it."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(
            token, max_age=settings.EXPORT_LINK_MAX_AGE
        )
    except signing.BadSignature:  # tampered, or expired (SignatureExpired)
        return False
    return value == str(job.pk) and job.status == JobStatus.SUCCEEDED and may_manage(actor, job)
