"""The legal procedure of a title file (docs/titles.md, "Procedures"): whether the plot's tenure
can be titled at all, and whether the family's possession is old enough for the procedure
(adjudication of state land or administrative prescription), as of a given day. Checked when a
draft is filed and again when it is submitted (the settings or the plot may change between)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from registry.cleaning import choice_message
from registry.dates import add_months
from registry.exceptions import Conflict
from registry.services import field_error

from ..choices import TITLEABLE_TENURES, Procedure
from ..models import TitleSettings


def check_tenure(tenure: str) -> None:
    """409 ``tenure_not_titleable`` for a plot held as titled, rented or community land."""
    if tenure not in TITLEABLE_TENURES:
        raise Conflict(
            _("A plot held this way (%(tenure)s) cannot be titled by adjudication or prescription.")
            % {"tenure": tenure},
            code="tenure_not_titleable",
            attr="plot",
            extra={"tenure": tenure, "titleable": list(TITLEABLE_TENURES)},
        )


def clean_procedure(procedure: str) -> str:
    """The procedure code, or a 400 ``invalid_choice`` on ``procedure``."""
    if procedure not in Procedure.values:
        raise field_error(
            "procedure",
            choice_message(Procedure),
            "invalid_choice",
        )
    return procedure


def check_possession(
    procedure: str, started_on: date | None, cfg: TitleSettings, on: date, *, required: bool
) -> None:
    """The family's possession, begun on ``started_on``, as of ``on``: a start after ``on`` is a
    400 ``future``; a missing start is a 409 ``possession_start_missing`` when ``required``
    (the submission); adjudication of state land needs possession begun by the settings'
    cut-off (409 ``possession_after_cutoff``); both need the procedure's years (409
    ``possession_too_recent`` with ``required_years`` and ``eligible_on``)."""
    if started_on is None:
        if required:
            raise Conflict(
                _("Give the date the family's possession began before submitting the file."),
                code="possession_start_missing",
                attr="possession_started_on",
            )
        return
    if started_on > on:
        raise field_error(
            "possession_started_on", _("The possession cannot begin in the future."), "future"
        )
    cutoff = cfg.adjudication_possession_until
    if procedure == Procedure.ADJUDICATION and cutoff is not None and started_on > cutoff:
        raise Conflict(
            _("State land is adjudicated only to possession begun on or before %(day)s.")
            % {"day": cutoff.strftime("%d/%m/%Y")},
            code="possession_after_cutoff",
            attr="possession_started_on",
            extra={"possession_until": cutoff.isoformat()},
        )
    years = cfg.required_years(procedure)
    eligible_on = add_months(started_on, 12 * years)
    if eligible_on > on:
        raise Conflict(
            _(
                "%(procedure)s requires %(years)s years of possession: this family qualifies "
                "from %(day)s."
            )
            % {
                "procedure": Procedure(procedure).label,
                "years": years,
                "day": eligible_on.strftime("%d/%m/%Y"),
            },
            code="possession_too_recent",
            attr="possession_started_on",
            extra={"required_years": years, "eligible_on": eligible_on.isoformat()},
        )
