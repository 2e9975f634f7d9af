"""The access hook: apps above ``farmers`` add what they hold about a household to the file a
data-subject access request produces (Law 29733, right of access).

``farmers.services.rights.access_file`` gathers what ``farmers`` and the kernel hold (members,
household, plots, visits, agreements, support, consents, change history, reads). Apps above it
(title files, contracts and deliveries) register a section at start-up (``AppConfig.ready``)
with :func:`register_access_section`; a section is ``fn(household) -> {sheet: rows}``.
``farmers`` never imports those apps (``tests/test_architecture.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from .models import Household

AccessSection = Callable[["Household"], dict[str, list[dict[str, Any]]]]

_sections: dict[str, AccessSection] = {}


def register_access_section(name: str, section: AccessSection) -> None:
    """Register (or replace) the access section ``section`` under ``name`` (e.g. ``"titles"``)."""
    _sections[name] = section


def access_sections() -> dict[str, AccessSection]:
    """The registered access sections, by name, in registration order."""
    return dict(_sections)


def plain(value: Any) -> Any:
    """A JSON- and spreadsheet-friendly form of a field value."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record_rows(
    records: Iterable[models.Model], *, exclude: Iterable[str] = ("request_hash",)
) -> list[dict[str, Any]]:
    """Every concrete field of each record (foreign keys as their ids), in field order."""
    skip = set(exclude)
    return [
        {
            field.name: plain(getattr(record, field.attname))
            for field in record._meta.concrete_fields
            if field.name not in skip
        }
        for record in records
    ]
