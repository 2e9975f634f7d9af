"""Validators for Peruvian identifiers used across the registry."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.pe import ruc as stdnum_ruc

UBIGEO_RE = re.compile(r"^\d{6}$")


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
