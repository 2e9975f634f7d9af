"""Import of producer organisations' memberships from a CSV or XLSX file, one per row, through
the household import's machinery (``farmers.importing.records``) and
``services.membership_create``. Columns: ``organization`` (code), ``household`` (code),
``role`` (a code or its Spanish name;
default ``member``), ``joined_on``. A row whose household is already an open member
of the organisation since that day is ``already_imported``."""

from __future__ import annotations

from typing import IO, Any

from django.utils.translation import gettext_lazy

from farmers.importing import ImportReport, Table
from farmers.importing.cleaning import _text
from farmers.importing.columns import Column, _slug
from farmers.importing.records import (
    CHANNEL,
    RowProblem,
    Written,
    cell_date,
    household_by_code,
    import_records,
)
from registry.actors import Actor

from .choices import MemberRole
from .models import ProducerMembership
from .services import membership_create

MEMBERSHIP_COLUMNS: tuple[Column, ...] = (
    Column(
        "organization",
        True,
        gettext_lazy("Code of the producer organisation."),
        ("organizacion", "cooperativa", "asociacion", "codigo_organizacion"),
    ),
    Column(
        "household",
        True,
        gettext_lazy("The household's code (HH-…)."),
        ("hogar", "codigo_hogar", "household_code"),
    ),
    Column("role", False, gettext_lazy("Role: member, president, treasurer…"), ("cargo", "rol")),
    Column(
        "joined_on",
        True,
        gettext_lazy("The day the household joined (dd/mm/aaaa)."),
        ("fecha_de_afiliacion", "afiliado_el", "fecha_ingreso"),
    ),
)


# Spanish spellings of the roles (anything else goes to the service, which refuses it).
ROLE_ALIASES = {
    "socio": MemberRole.MEMBER,
    "socia": MemberRole.MEMBER,
    "presidente": MemberRole.PRESIDENT,
    "presidenta": MemberRole.PRESIDENT,
    "vicepresidente": MemberRole.VICE_PRESIDENT,
    "vicepresidenta": MemberRole.VICE_PRESIDENT,
    "secretario": MemberRole.SECRETARY,
    "secretaria": MemberRole.SECRETARY,
    "tesorero": MemberRole.TREASURER,
    "tesorera": MemberRole.TREASURER,
    "delegado": MemberRole.DELEGATE,
    "delegada": MemberRole.DELEGATE,
}


def write_membership(actor: Actor, values: dict[str, Any], dry_run: bool) -> Written:
    """One membership (idempotent on organisation, household and joining day)."""
    household = household_by_code(actor, _text(values.get("household")))
    joined_on = cell_date(values, "joined_on")
    if joined_on is None:
        raise RowProblem("joined_on", "required", str(gettext_lazy("This field is required.")))
    organization = _text(values.get("organization")).lower()
    existing = ProducerMembership.objects.filter(
        organization__code=organization,
        household=household,
        joined_on=joined_on,
        left_on__isnull=True,
    ).first()
    if existing is not None:
        return Written(label=household.code, record_id=str(existing.pk), created=False)
    membership = membership_create(
        actor=actor,
        organization=organization,
        household=household,
        role=_role(_text(values.get("role"))),
        joined_on=joined_on,
        channel=CHANNEL,
    )
    return Written(label=household.code, record_id=str(membership.pk), created=True)


def import_memberships(
    *, actor: Actor, source: Table | bytes | IO[bytes], filename: str = "", dry_run: bool
) -> ImportReport:
    """Import producer organisations' memberships, one per row (``MEMBERSHIP_COLUMNS``)."""
    return import_records(
        actor=actor,
        source=source,
        filename=filename,
        columns=MEMBERSHIP_COLUMNS,
        ref_column="household",
        write=write_membership,
        dry_run=dry_run,
    )


def _role(text: str) -> str:
    """A role code from the cell: a code, a Spanish spelling, or ``member`` when blank."""
    key = _slug(text)
    return ROLE_ALIASES.get(key, key) or MemberRole.MEMBER
