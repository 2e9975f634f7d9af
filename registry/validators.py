"""Validators for Peruvian identifiers used across the registry."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.pe import ruc as stdnum_ruc

from .choices import OrganizationKind

UBIGEO_RE = re.compile(r"^\d{6}$")
# An IATI organisation identifier: a registration agency's prefix (``XM-DAC``, ``PE-RUC``,
# ``US-GOV``...) and the organisation's number in that register, no spaces, ``/``, ``&``, ``|``
# or ``?`` (IATI: "Organisation identifiers"). An activity identifier adds ``-<own id>``.
IATI_IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9]{2}-[A-Za-z0-9]+-[^\s/&|?]+$")


def validate_ruc(value: str) -> None:
    """Check a RUC: 11 digits, a valid prefix and its mod-11 check digit (SUNAT)."""
    compact = stdnum_ruc.compact(value or "")
    try:
        stdnum_ruc.validate(compact)
    except stdnum_exceptions.InvalidLength as exc:
        raise ValidationError(_("A RUC has exactly 11 digits."), code="invalid_length") from exc
    except stdnum_exceptions.InvalidFormat as exc:
        raise ValidationError(_("A RUC has digits only."), code="invalid_format") from exc
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValidationError(
            _("The RUC check digit is wrong: please check the number."), code="invalid_checksum"
        ) from exc
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            _("A RUC starts with 10, 15, 17 or 20."), code="invalid_component"
        ) from exc


def validate_ubigeo(value: str) -> None:
    """Check the shape of an INEI ubigeo (6 digits: department, province, district)."""
    if not UBIGEO_RE.match(value or ""):
        raise ValidationError(_("A ubigeo has exactly 6 digits."), code="invalid_ubigeo")


def require_funder(organization: Any, attr: str = "funder") -> None:
    """The one rule on who pays: a funding source (a programme's funder, an agreement's funder,
    a cost's ``funding_source``) is a funder organization; a field error ``not_funder`` on
    ``attr`` otherwise. ``None`` (no source) passes. Used by the models' ``clean()`` (admin
    forms, ``full_clean``) and by ``registry.funding`` (API, field pages, imports) alike."""
    if organization is not None and organization.kind != OrganizationKind.FUNDER:
        message = _("A funding source must be a funder organization.")
        raise ValidationError({attr: ValidationError(message, code="not_funder")})


def validate_iati_identifier(value: str) -> None:
    """Check the shape of an IATI organisation or activity identifier (``XM-DAC-41301``,
    ``PE-RUC-20123456789``, ``PE-RUC-20123456789-PIRDAIS``)."""
    if not IATI_IDENTIFIER_RE.match(value or ""):
        raise ValidationError(
            _(
                "Use an IATI identifier: the register's prefix and the number in it, e.g. "
                "XM-DAC-41301 or PE-RUC-20123456789 (no spaces, /, &, | or ?)."
            ),
            code="invalid_iati_identifier",
        )
