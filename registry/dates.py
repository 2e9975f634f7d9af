"""Calendar arithmetic shared by every app (the transition rules, the title SLA clock) and the
reading of dates typed in the field pages."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from functools import lru_cache
from typing import Any

__all__ = ["add_months", "typed_date"]


def typed_date(value: Any) -> date | str | None:
    """A date typed in a form (``aaaa-mm-dd`` from a date input, or ``dd/mm/aaaa``); ``""`` when
    it is not a date, ``None`` when empty."""
    text = str(value or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return ""


@lru_cache(maxsize=1 << 16)
def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's length)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
