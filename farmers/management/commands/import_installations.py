"""``import_installations FILE --actor USERNAME [--dry-run] [--report out.csv]``: crop
installations from a CSV or XLSX file, one per row (``farmers.importing.records``)."""

from __future__ import annotations

from farmers.importing.command import RecordImportCommand
from farmers.importing.records import import_installations


class Command(RecordImportCommand):
    help = (
        "Import crop installations (installation_ref, plot, crop, variety, area_ha, plants, "
        "planting_date) from a CSV or XLSX file. Re-running a file is safe. Exits with 1 when "
        "any row has errors."
    )
    noun = "installations"
    run = staticmethod(import_installations)
