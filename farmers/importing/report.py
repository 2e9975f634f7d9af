"""The per-row report of an import (or of a dry run): each row's outcome and errors, the totals,
and its CSV download."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import IO

from django.db import models
from django.utils.translation import pgettext_lazy


class ImportOutcome(models.TextChoices):
    """What happened to a row."""

    CREATED = "created", pgettext_lazy("import outcome", "Created")
    ALREADY_IMPORTED = "already_imported", pgettext_lazy("import outcome", "Already imported")
    ERROR = "error", pgettext_lazy("import outcome", "Error")


@dataclass(frozen=True)
class RowError:
    """A problem with one cell (``column``) of a row, or with the whole row (``column=""``)."""

    column: str
    code: str
    message: str


@dataclass
class RowResult:
    """One row of the file in the report."""

    row: int
    household_ref: str
    outcome: str = ImportOutcome.ERROR
    household_code: str = ""
    household_id: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        """The outcome in the current language."""
        return str(ImportOutcome(self.outcome).label)


REPORT_HEADER = ("row", "household_ref", "outcome", "household_code", "column", "code", "message")


@dataclass
class ImportReport:
    """The per-row result of an import (or of a dry run) and its totals."""

    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    households_created: int = 0
    households_already_imported: int = 0
    households_with_errors: int = 0

    @property
    def households(self) -> int:
        """Households found in the file (rows without a household_ref not counted)."""
        return (
            self.households_created + self.households_already_imported + self.households_with_errors
        )

    @property
    def rows_with_errors(self) -> int:
        """Rows whose outcome is an error."""
        return sum(1 for row in self.rows if row.outcome == ImportOutcome.ERROR)

    @property
    def has_errors(self) -> bool:
        """Whether any row failed."""
        return self.rows_with_errors > 0

    def write_csv(self, stream: IO[str]) -> None:
        """Write the report: one line per error, or one line for a row without errors."""
        writer = csv.writer(stream)
        writer.writerow(REPORT_HEADER)
        for row in self.rows:
            head = [row.row, row.household_ref, row.outcome, row.household_code]
            if not row.errors:
                writer.writerow([*head, "", "", ""])
            for error in row.errors:
                writer.writerow([*head, error.column, error.code, error.message])
