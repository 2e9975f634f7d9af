"""The dashboard's land-title card (``farmers.reporting.dashboard``, registered from
``TitlesConfig.ready()``): files submitted, titles issued and registered in the period, the mean
days from submission to registration, and the open files by status, from the title summary
tables (``titles.summaries``) in two queries; every figure and bar opens the admin list of the
title files behind it."""

from __future__ import annotations

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from farmers.reporting import charts
from farmers.reporting.dashboard import Figure, Panel, SectionInput

from .choices import OPEN_STATUSES, TitleStatus
from .models import DashboardTitleMonth, DashboardTitleOpen

FILES = "admin:titles_titleapplication_changelist"


def titles_panel(section: SectionInput) -> Panel:
    """The land-title card for the page's filters."""
    months = section.months
    first, last = section.period()
    per_month = {m: [0, 0, 0, 0, 0] for m in months}
    for row in (
        DashboardTitleMonth.objects.filter(section.area, month__gte=months[0], month__lte=last)
        .order_by()
        .values("month")
        .annotate(
            s=Sum("submitted"),
            i=Sum("issued"),
            r=Sum("registered"),
            d=Sum("days_sum"),
            n=Sum("days_count"),
        )
    ):
        cell = per_month.setdefault(row["month"], [0, 0, 0, 0, 0])
        for i, name in enumerate("sirdn"):
            cell[i] += row[name] or 0
    open_files = {
        row["status"]: row["n"] or 0
        for row in DashboardTitleOpen.objects.filter(section.area)
        .order_by()
        .values("status")
        .annotate(n=Sum("files"))
    }
    submitted, issued, registered, days, timed = (
        sum(cell[i] for cell in per_month.values()) for i in range(5)
    )
    span = {"from": first.isoformat(), "to": last.isoformat()}

    def dated(field: str) -> str:
        return section.link(FILES, **{f"{field}__gte": span["from"], f"{field}__lte": span["to"]})

    total_open = sum(open_files.values())
    figures = [
        Figure(_("Title files submitted"), charts.number(submitted), "", dated("submitted_on")),
        Figure(_("Titles issued"), charts.number(issued), "", dated("title_issued_on")),
        Figure(_("Titles registered"), charts.number(registered), "", dated("registered_on")),
        Figure(
            _("Mean days from submission to registration"),
            charts.number(round(days / timed)) if timed else "—",
            ngettext("%(n)s file", "%(n)s files", timed) % {"n": charts.number(timed)}
            if timed
            else "",
            dated("registered_on"),
        ),
        Figure(
            _("Open title files"),
            charts.number(total_open),
            "",
            section.link(FILES, status__in=",".join(OPEN_STATUSES)),
        ),
    ]
    labels = section.month_labels()
    shown = [per_month[m] for m in months]
    flow = charts.columns(
        _("Title files submitted per month"),
        labels,
        [(_("Title files submitted"), charts.SKY, [cell[0] for cell in shown])],
        empty_message=_("No title file submitted in the period."),
    )
    done = charts.columns(
        _("Titles issued and registered per month"),
        labels,
        [
            (_("Titles issued"), charts.ORANGE, [c[1] for c in shown]),
            (_("Titles registered"), charts.GREEN, [c[2] for c in shown]),
        ],
        empty_message=_("No title issued or registered in the period."),
    )
    bars = [
        charts.Bar(
            str(TitleStatus(status).label),
            open_files.get(status, 0),
            charts.number(open_files.get(status, 0)),
            charts.BLUE,
            section.link(FILES, status__exact=status),
        )
        for status in OPEN_STATUSES
        if open_files.get(status)
    ]
    by_status = charts.hbars(
        _("Open title files by status"),
        bars,
        empty_message=_("No open title file."),
        labels_above=True,
    )
    return Panel(
        key="titles",
        title=_("Land titles"),
        note=_(
            "Title files of the area by their dates: submitted, title issued and registered "
            "with SUNARP in the period; the mean counts the days from submission to "
            "registration of the files registered in the period. Open files are counted now."
        ),
        figures=figures,
        charts=[flow, done, by_status],
    )
