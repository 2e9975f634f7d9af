"""The SLA clock of a title file (DESIGN.md §5): the programme's targets, the days each party
holds the file, the public-notice window, the due and warning dates.

Working days (días hábiles: weekdays less Peru's public holidays, ``titles.workdays``) for the
targets, the public notice and the days each party held the file; calendar months for the whole
file. Every move runs on its act date (the ``on`` of the survey, legal report, notice, title and
SUNARP dispatch; the registration date; today for the other moves). Each move adds the working
days spent in the state left to the party the file waited on there (``workflow.STATE_PARTY``) and
starts the new state's clock. ``observed`` waits on the family: its own deadline runs, the
programme's and authority's clocks pause, and on the way back the state clock and the whole
file's due date move by the (calendar) days the family took. The due date is the earlier of the
state's target and the whole file's (``file_months`` from the submission); the warning date is
``alert_percent`` of the way there. The public notice lasts the authority's own window
(``AuthorityNoticeDays``) or the programme's ``TitleSettings.public_notice_days``, and opens on
the day it is published: its last day is the ``n``-th working day after it (inclusive), and the
title may issue only after that day.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from registry.dates import add_months

from .choices import OPEN_STATUSES, TitleStatus
from .models import AuthorityNoticeDays, TitleApplication, TitleSettings
from .workdays import add_working_days, working_days_between
from .workflow import STATE_PARTY

S = TitleStatus


def settings_for(program_id: int) -> TitleSettings:
    """The programme's title settings (the defaults of DESIGN.md §5 when it has none saved:
    a 30-day public notice and the default SLA targets)."""
    found = TitleSettings.objects.filter(program_id=program_id).first()
    return found if found is not None else TitleSettings(program_id=program_id)


def notice_days(cfg: TitleSettings, authority_id: int | None) -> int:
    """The public-notice window (working days) of a file filed with ``authority_id``: the
    authority's own window in the programme's settings, else the programme's."""
    if cfg.pk is not None and authority_id is not None:
        own = (
            AuthorityNoticeDays.objects.filter(settings=cfg, authority_id=authority_id)
            .values_list("public_notice_days", flat=True)
            .first()
        )
        if own is not None:
            return int(own)
    return int(cfg.public_notice_days)


def notice_window(start: date, days: int) -> tuple[date, date]:
    """The public notice opened on ``start`` for ``days`` working days: its first and last day
    (the last day is the ``days``-th working day after ``start``, inside the window)."""
    return start, add_working_days(start, days)


def recompute_clock(application: TitleApplication, cfg: TitleSettings) -> None:
    """Set ``due_on`` and ``warn_on`` from the state, when its clock started and the targets.

    The due date is the earlier of the state's target and the whole file's; ``observed`` runs
    the family's own deadline (the programme's and authority's clocks are paused).
    """
    status = application.status
    if status not in OPEN_STATUSES:
        application.due_on = application.warn_on = None
        return
    start = application.clock_started_on or application.status_since
    if status == S.OBSERVED:
        start = application.status_since
        due = add_working_days(start, cfg.observed_days)
    elif status == S.PUBLIC_NOTICE and application.notice_ends_on is not None:
        start = application.notice_starts_on or start
        due = application.notice_ends_on
    else:
        due = add_working_days(start, cfg.target_days(status) or 0)
    if status != S.OBSERVED and application.file_due_on is not None:
        due = min(due, application.file_due_on)
    span = working_days_between(start, due)
    application.due_on = due
    application.warn_on = min(
        add_working_days(start, math.ceil(span * cfg.alert_percent / 100)), due
    )


def clock_move(
    application: TitleApplication, *, before: str, to: str, today: date, cfg: TitleSettings
) -> None:
    """Run the clock over a move from ``before`` to ``to`` on ``today`` (the move's act date;
    the file's ``status`` is already ``to``): credit the working days spent to the party waited
    on, pause or resume for the family, start the new state's clock, open the notice window,
    then the due dates."""
    spent = max((today - application.status_since).days, 0)
    worked = working_days_between(application.status_since, today)
    party = STATE_PARTY.get(before)
    if party is not None:
        setattr(application, f"{party}_days", getattr(application, f"{party}_days") + worked)
    if to == S.OBSERVED:
        application.observed_from = before
    elif before == S.OBSERVED:
        # The family's time does not count against the programme or the authority.
        returning = to == application.observed_from
        if returning and application.clock_started_on is not None:
            application.clock_started_on += timedelta(days=spent)
        if application.file_due_on is not None:
            application.file_due_on += timedelta(days=spent)
        application.observed_from = ""
    else:
        application.clock_started_on = today
    if to == S.SUBMITTED and application.file_due_on is None:
        application.file_due_on = add_months(today, cfg.file_months)
    if to == S.PUBLIC_NOTICE:
        application.notice_starts_on, application.notice_ends_on = notice_window(
            today, notice_days(cfg, application.authority_id)
        )
    application.status_since = today
    recompute_clock(application, cfg)
