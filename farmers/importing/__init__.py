"""Household import from CSV and XLSX files (issue 3, point 9).

One row is one member; rows are grouped into households by ``household_ref``, the client's own
reference for the family. Each household goes through ``services.household_register`` with a
random id and the reference kept in ``Household.import_ref`` (unique per programme), so importing
the same file again finds the households it already made (``already_imported``) instead of
duplicating them; nobody can compute a household's id from its programme and reference. Every
household runs in its own savepoint: one bad family never stops the others. A dry run validates
every row exactly as the real run does (deduplication against the database included) and then
rolls everything back.

Columns (the header row names them; Spanish headers are accepted too, see ``COLUMNS``):

==================  ========  ===============================================================
column              required  content
==================  ========  ===============================================================
household_ref       yes       your reference for the household; rows sharing it are one family
program             yes       programme code, e.g. ``pirdais``
district            yes       INEI ubigeo of the district, 6 digits (``080910``)
community           no        community or populated centre
given_names         yes       member's given names
surnames            yes       member's surnames
document_type       no        ``dni`` (default when a number is given) or ``ce``
document_number     no        DNI (8 digits, optional check character) or CE; the head needs one
sex                 yes       ``f`` or ``m``
birth_date          yes       ``YYYY-MM-DD``, ``DD/MM/YYYY`` or an Excel date
relationship        yes       ``head``, ``spouse``, ``child``, ``parent``, ``sibling``,
                              ``grandchild``, ``other``; exactly one ``head`` per household
phone               no        Peruvian phone (``987654321``, ``+51 987 654 321``)
consent_signed_on   no        date the family signed the consent
consent_purposes    no        comma-separated: ``registry`` (needed), ``partner_sharing``,
                              ``research``, ``contact``
enrolled_on         no        enrolment date when earlier than the consent (a family enrolled
                              on paper); blank: the consent's date. Agreements, visits,
                              deliveries and support may not be dated before enrolment
==================  ========  ===============================================================

Household columns (``program``, ``district``, ``community``, ``consent_*``, ``enrolled_on``) may
be left blank on the household's other rows; when repeated they must agree.
"""

from .cleaning import parse_date
from .columns import COLUMN_NAMES, COLUMNS, REQUIRED_COLUMNS, Column
from .reading import MAX_BYTES, MAX_ROWS, SourceRow, Table, read_table
from .report import REPORT_HEADER, ImportOutcome, ImportReport, RowError, RowResult
from .template import (
    TEMPLATE_EXAMPLE,
    TEMPLATE_FORMATS,
    template_bytes,
    template_csv,
    template_xlsx,
)
from .writing import (
    CHANNEL,
    LEGACY_IMPORT_NAMESPACE,
    PROGRESS_EVERY,
    ProgressCallback,
    import_households,
    imported_household,
)

__all__ = [
    "CHANNEL",
    "COLUMNS",
    "COLUMN_NAMES",
    "LEGACY_IMPORT_NAMESPACE",
    "MAX_BYTES",
    "MAX_ROWS",
    "PROGRESS_EVERY",
    "REPORT_HEADER",
    "REQUIRED_COLUMNS",
    "TEMPLATE_EXAMPLE",
    "TEMPLATE_FORMATS",
    "Column",
    "ImportOutcome",
    "ImportReport",
    "ProgressCallback",
    "RowError",
    "RowResult",
    "SourceRow",
    "Table",
    "import_households",
    "imported_household",
    "parse_date",
    "read_table",
    "template_bytes",
    "template_csv",
    "template_xlsx",
]
