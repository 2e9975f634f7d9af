"""Working days (días hábiles) of Peruvian administrative procedures: Monday to Friday, less
Peru's national public holidays (the ``holidays`` library's ``PE`` calendar).

Administrative terms in days are working days (Ley 27444, TUO D.S. 004-2019-JUS, art. 145)
and run from the working day after the act that opens them: a window of ``n`` working days
opened on ``start`` ends on the ``n``-th working day after ``start``, and that last day is
inside the window.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    """Peru's national public holidays of ``year``."""
    return frozenset(holidays.country_holidays("PE", years=year))


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a Peruvian national public holiday."""
    return day in _holidays_of(day.year)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day: a weekday that is not a public holiday."""
    return day.weekday() < 5 and not is_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
    day = start
    left = max(days, 0)
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to ``end`` inclusive (0 when ``end <= start``)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
