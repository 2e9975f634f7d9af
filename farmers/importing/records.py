"""Imports of one record per row through the household import's machinery (the same CSV/XLSX
reading, header aliases, per-row report and dry run): crop installations
(``import_installations``, here) and, registered by other apps, e.g. producer organisations'
memberships (``markets.importing``). Each row runs in its own savepoint through the app's
service; a service's field errors go on the row's columns; nothing of a failed row is written.
A dry run validates every row exactly as the real run does, then rolls everything back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.actors import Actor
from registry.exceptions import RegistryError

from ..models import Household, Plot
from ..services import installation_create
from .cleaning import _text, parse_date
from .columns import Column
from .reading import SourceRow, Table, read_table
from .report import ImportOutcome, ImportReport, RowError, RowResult

CHANNEL = "import"


@dataclass(frozen=True)
class Written:
    """What a row's writer did: the record (its code or id for the report) and whether it was
    created now (``False``: the same row was imported before)."""

    label: str
    record_id: str
    created: bool


RowWriter = Callable[[Actor, dict[str, Any], bool], Written]


class RowProblem(Exception):
    """A cell the writer could not read (``column``, ``code``, ``message``)."""

    def __init__(self, column: str, code: str, message: str) -> None:
        super().__init__(message)
        self.error = RowError(column, code, message)


def cell_date(values: dict[str, Any], column: str) -> Any:
    """A date cell (``YYYY-MM-DD``, ``DD/MM/YYYY`` or a spreadsheet date), or ``None``."""
    try:
        return parse_date(values.get(column))
    except ValueError as exc:
        raise RowProblem(column, "invalid", _("Write the date as dd/mm/aaaa.")) from exc


def cell_decimal(values: dict[str, Any], column: str) -> Decimal | None:
    """A number cell (decimal comma accepted), or ``None`` when blank."""
    text = _text(values.get(column)).replace(" ", "")
    if not text:
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise RowProblem(column, "invalid", _("Enter a number.")) from exc


def household_by_code(actor: Actor, code: str, column: str = "household") -> Household:
    """The household with this code in the actor's area (outside it: unknown)."""
    found = Household.objects.filter(code=code.strip().upper()).first() if code.strip() else None
    if found is None or not actor.covers(district=found.district_id, program=found.program_id):
        raise RowProblem(column, "does_not_exist", _("Unknown household."))
    return found


def _row_errors(exc: ValidationError, columns: set[str]) -> list[RowError]:
    """A service's field errors on the file's columns (others on the whole row)."""
    errors = exc.error_dict if hasattr(exc, "error_dict") else {"": exc.error_list}
    return [
        RowError(
            path if path in columns else "", problem.code or "invalid", " ".join(problem.messages)
        )
        for path, problems in errors.items()
        for problem in problems
    ]


def import_records(
    *,
    actor: Actor,
    source: Table | bytes | IO[bytes],
    filename: str = "",
    columns: tuple[Column, ...],
    ref_column: str,
    write: RowWriter,
    dry_run: bool,
) -> ImportReport:
    """Import one record per row with ``write(actor, values, dry_run)`` (see the module
    docstring). ``ref_column`` names the row in the report. Raises ``ValidationError`` when the
    file itself is unusable."""
    table = source if isinstance(source, Table) else read_table(source, filename, columns)
    report = ImportReport(dry_run=dry_run, ignored_columns=list(table.ignored_columns))
    names = {c.name for c in columns}
    outer: AbstractContextManager[Any] = transaction.atomic() if dry_run else nullcontext()
    with outer:
        for row in table.rows:
            report.rows.append(_import_row(actor, row, ref_column, names, write, dry_run))
        if dry_run:
            transaction.set_rollback(True)
    for result in report.rows:
        if result.outcome == ImportOutcome.CREATED:
            report.households_created += 1
        elif result.outcome == ImportOutcome.ALREADY_IMPORTED:
            report.households_already_imported += 1
        else:
            report.households_with_errors += 1
    return report


def _import_row(
    actor: Actor,
    row: SourceRow,
    ref_column: str,
    names: set[str],
    write: RowWriter,
    dry_run: bool,
) -> RowResult:
    result = RowResult(row=row.number, household_ref=_text(row.values.get(ref_column)))
    try:
        with transaction.atomic():
            written = write(actor, row.values, dry_run)
    except RowProblem as problem:
        result.errors = [problem.error]
        return result
    except ValidationError as exc:
        result.errors = _row_errors(exc, names)
        return result
    except RegistryError as exc:
        result.errors = [RowError(getattr(exc, "attr", "") or "", exc.code, str(exc.detail))]
        return result
    result.outcome = ImportOutcome.CREATED if written.created else ImportOutcome.ALREADY_IMPORTED
    if not dry_run:
        result.household_code, result.household_id = written.label, written.record_id
    return result


# --- crop installations ------------------------------------------------------------------------

# The namespace of imported installations' ids (from the plot and the file's reference): a
# re-import of the same row finds it. Never change it.
INSTALLATION_NAMESPACE = uuid.UUID("5f0f1c8e-3b7a-4d2e-9c61-7a4e2b9d0c13")

INSTALLATION_COLUMNS: tuple[Column, ...] = (
    Column(
        "installation_ref",
        True,
        gettext_lazy("Your reference for the installation (unique per plot)."),
        ("ref_instalacion", "referencia_instalacion", "referencia", "ref"),
    ),
    Column("plot", True, gettext_lazy("The plot's id."), ("parcela", "id_parcela")),
    Column("crop", True, gettext_lazy("Crop code, e.g. cacao."), ("cultivo",)),
    Column("variety", False, gettext_lazy("Variety, e.g. ccn51."), ("variedad",)),
    Column("area_ha", True, gettext_lazy("Area in hectares."), ("area", "hectareas", "area_ha")),
    Column("plants", True, gettext_lazy("Number of plants."), ("plantas", "numero_de_plantas")),
    Column(
        "planting_date",
        True,
        gettext_lazy("Planting date (dd/mm/aaaa)."),
        ("fecha_de_siembra", "fecha_siembra", "sembrado_el"),
    ),
)


def write_installation(actor: Actor, values: dict[str, Any], dry_run: bool) -> Written:
    """One crop installation through ``services.installation_create`` (idempotent: its id
    derives from the plot and ``installation_ref``)."""
    ref = _text(values.get("installation_ref"))
    plot_text = _text(values.get("plot"))
    try:
        plot_id = uuid.UUID(plot_text)
    except ValueError as exc:
        raise RowProblem("plot", "does_not_exist", _("Unknown plot.")) from exc
    if not Plot.objects.filter(pk=plot_id).exists():
        raise RowProblem("plot", "does_not_exist", _("Unknown plot."))
    installation, created = installation_create(
        actor=actor,
        id=uuid.uuid5(INSTALLATION_NAMESPACE, f"{plot_id}:{ref}"),
        plot=plot_id,
        crop=_text(values.get("crop")).lower(),
        variety=_text(values.get("variety")).lower(),
        area_ha=cell_decimal(values, "area_ha"),
        plants=_text(values.get("plants")),
        planting_date=cell_date(values, "planting_date"),
        channel=CHANNEL,
    )
    return Written(label=ref, record_id=str(installation.pk), created=created)


def import_installations(
    *, actor: Actor, source: Table | bytes | IO[bytes], filename: str = "", dry_run: bool
) -> ImportReport:
    """Import crop installations, one per row (``INSTALLATION_COLUMNS``)."""
    return import_records(
        actor=actor,
        source=source,
        filename=filename,
        columns=INSTALLATION_COLUMNS,
        ref_column="installation_ref",
        write=write_installation,
        dry_run=dry_run,
    )
