"""Working days (días hábiles) of Peruvian administrative procedures: Monday to Friday, less
Peru's national public holidays (``registry.workdays``, the ``holidays`` library's ``PE``
calendar).

Administrative terms in days are working days (Ley 27444, TUO D.S. 004-2019-JUS, art. 145)
and run from the working day after the act that opens them: a window of ``n`` working days
opened on ``start`` ends on the ``n``-th working day after ``start``, and that last day is
inside the window. Title clocks never count backwards: these wrappers clamp at zero.
"""

from __future__ import annotations

from datetime import date

from registry import workdays
from registry.workdays import is_holiday, is_working_day


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0 or
    less)."""
    return workdays.add_working_days(start, max(days, 0))


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to ``end`` inclusive (0 when ``end <= start``)."""
    return max(workdays.working_days_between(start, end), 0)


__all__ = ["add_working_days", "is_holiday", "is_working_day", "working_days_between"]
