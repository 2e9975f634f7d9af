"""Enrolment dates (DESIGN.md §6): a family enrols on its consent's date (or on an earlier date
an import gives); no agreement, visit, delivery or support may be dated before it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.services import field_error


def enrolment_date(household: Any) -> date:
    """The day ``household`` enrolled: ``enrolled_on`` (the consent's date, or an import's),
    else the day the record was created (a household registered without consent)."""
    if household.enrolled_on is not None:
        day: date = household.enrolled_on
        return day
    return timezone.localdate(household.created_at)


def require_not_before_enrolment(household: Any, day: date, attr: str) -> None:
    """Refuse (field error ``before_enrolment`` on ``attr``) evidence dated before enrolment."""
    enrolled = enrolment_date(household)
    if day < enrolled:
        raise field_error(
            attr,
            _("The date is before the family's enrolment on %(date)s.")
            % {"date": enrolled.strftime("%d/%m/%Y")},
            "before_enrolment",
        )


__all__ = ["enrolment_date", "require_not_before_enrolment"]
