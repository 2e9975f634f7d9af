"""``import_memberships FILE --actor USERNAME [--dry-run] [--report out.csv]``: member
households of producer organisations from a CSV or XLSX file (``markets.importing``)."""

from __future__ import annotations

from farmers.importing.command import RecordImportCommand
from markets.importing import import_memberships


class Command(RecordImportCommand):
    help = (
        "Import memberships of producer organisations (organization, household, role, "
        "joined_on) from a CSV or XLSX file. Re-running a file is safe. Exits with 1 when any "
        "row has errors."
    )
    noun = "memberships"
    run = staticmethod(import_memberships)
