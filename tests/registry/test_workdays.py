"""Working days in Peru (``registry.workdays``): weekends and public holidays are skipped."""

from __future__ import annotations

from datetime import date

import pytest

from registry.workdays import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # no days: the same day
        (date(2026, 3, 2), 1, date(2026, 3, 3)),  # Monday → Tuesday
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday → Monday (weekend skipped)
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # received on a Saturday
        (date(2026, 3, 2), 10, date(2026, 3, 16)),  # two full weeks
        (date(2026, 3, 2), 20, date(2026, 3, 30)),  # four full weeks
        # Fiestas Patrias: Tuesday 28 and Wednesday 29 July 2026 are holidays.
        (date(2026, 7, 27), 1, date(2026, 7, 30)),
        (date(2026, 7, 27), 3, date(2026, 8, 3)),
        # 20 days over Fiestas Patrias, 23 July (Air Force) and 6 August (Junín).
        (date(2026, 7, 20), 20, date(2026, 8, 21)),
        # Holy week 2026: Maundy Thursday 2 and Good Friday 3 April.
        (date(2026, 4, 1), 1, date(2026, 4, 6)),
        # Over the new year: 25 December and 1 January.
        (date(2026, 12, 24), 2, date(2026, 12, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        # Backwards.
        (date(2026, 7, 30), -1, date(2026, 7, 27)),
        (date(2026, 3, 9), -1, date(2026, 3, 6)),
    ],
)
def test_add_working_days(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected
    assert working_days_between(start, expected) == days


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 2), 0),
        (date(2026, 3, 6), date(2026, 3, 8), 0),  # Friday → Sunday: none
        (date(2026, 3, 6), date(2026, 3, 9), 1),
        (date(2026, 7, 27), date(2026, 7, 31), 2),  # 28, 29 July are holidays
        (date(2026, 7, 31), date(2026, 7, 27), -2),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 7, 28), False),
        (date(2026, 7, 29), False),
        (date(2026, 12, 8), False),
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 9), True),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected
