"""Working days in Peru: weekdays that are not national public holidays.

Legal deadlines counted in working days (``días hábiles``: the data-subject rights of Law 29733,
later the land-title steps) use these helpers. Holidays come from the ``holidays`` library's
Peruvian calendar (``holidays.Peru``), built once per year and cached; weekends are Saturday and
Sunday.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("PE", years=year))


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a Peruvian national public holiday."""
    return day in _holidays(day.year)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day: Monday to Friday and not a Peruvian public holiday."""
    return day.weekday() < 5 and not is_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count, as a
    deadline runs from the day after the request is received); ``days=0`` gives ``start``.
    Negative ``days`` count backwards."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    day = start
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days run after ``start`` up to and including ``end`` (negative when
    ``end`` is before ``start``): ``working_days_between(d, add_working_days(d, n)) == n``."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


__all__ = ["add_working_days", "is_holiday", "is_working_day", "working_days_between"]
