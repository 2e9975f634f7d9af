"""IATI identifiers of organizations and programmes (the kernel's part of the IATI file that
``farmers.reporting.iati`` builds): the identifier and type an organization publishes under,
and a programme's activity identifier, each with a default when none was entered.

- An organization's identifier is its ``iati_identifier`` (e.g. ``XM-DAC-41301`` for an OECD
  DAC donor), else ``PE-RUC-<RUC>`` (SUNAT's register, prefix ``PE-RUC`` in org-id.guide),
  else none (``""``: the file then names it without a ``ref``).
- Its type is its ``iati_type``, else the usual one for its kind (``KIND_TYPES``).
- A programme's activity identifier is its ``iati_identifier``, else its agency's identifier
  followed by ``-`` and the programme's code in capitals (IATI: the reporting organisation's
  identifier, then the activity's own), else ``""`` (the agency has no identifier either).
"""

from __future__ import annotations

from .choices import IatiOrganisationType, OrganizationKind
from .models import Organization, Program

__all__ = ["KIND_TYPES", "organization_ref", "organization_type", "program_identifier"]

# The OrganisationType usually right for each kind (an organization may say otherwise).
KIND_TYPES: dict[str, str] = {
    OrganizationKind.PROGRAM_AGENCY: IatiOrganisationType.GOVERNMENT,
    OrganizationKind.TITLING_AUTHORITY: IatiOrganisationType.LOCAL_GOVERNMENT,
    OrganizationKind.IMPLEMENTER: IatiOrganisationType.NATIONAL_NGO,
    OrganizationKind.FUNDER: IatiOrganisationType.GOVERNMENT,
    OrganizationKind.BUYER: IatiOrganisationType.PRIVATE_SECTOR_RECIPIENT,
    OrganizationKind.PRODUCER_ORG: IatiOrganisationType.PRIVATE_SECTOR_RECIPIENT,
}


def organization_ref(organization: Organization) -> str:
    """The organization's IATI identifier, or ``PE-RUC-<RUC>``, or ``""`` (none known)."""
    if organization.iati_identifier:
        return organization.iati_identifier
    if organization.ruc:
        return f"PE-RUC-{organization.ruc}"
    return ""


def organization_type(organization: Organization) -> str:
    """The organization's IATI OrganisationType code (its own, or its kind's usual one)."""
    return organization.iati_type or KIND_TYPES.get(organization.kind, IatiOrganisationType.OTHER)


def program_identifier(program: Program) -> str:
    """The programme's IATI activity identifier (its own, or the agency's identifier and the
    programme's code); ``""`` when neither the programme nor its agency has one."""
    if program.iati_identifier:
        return program.iati_identifier
    agency_ref = organization_ref(program.agency)
    return f"{agency_ref}-{program.code.upper()}" if agency_ref else ""
