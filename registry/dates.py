"""Calendar arithmetic shared by every app (the transition rules, the title SLA clock)."""

from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache

__all__ = ["add_months"]


@lru_cache(maxsize=1 << 16)
def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's length)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
