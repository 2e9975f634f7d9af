"""The annual results report as a printable admin page (``/admin/reports/annual/``), registered
from ``FarmersConfig.ready()`` and linked from the admin's home (needs ``indicators:read``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from registry.admin import request_actor
from registry.admin_site import AdminPage

from .. import policies
from ..reporting.annual import LEVELS, annual_report
from ..reporting.annual_api import AnnualQuerySerializer, report_query
from ..reporting.annual_page import filter_choices, page_sections, summary_lines
from ..reporting.annual_snapshots import calendar_year
from ..tasks import refresh_annual_reports

FILTERS = ("year", "from", "to", "program", "funder", "department", "province", "district", "vraem")
PAGE_LEVELS = ("department", "province", "district")


def annual_report_view(request: HttpRequest) -> HttpResponse:
    """The report for the period and filters of the form (the current year by default), small
    cells reserved as in the funders' API, ready to print (A4, no admin chrome). A POST
    recalculates the stored figures of a calendar year (``refresh_annual_reports``)."""
    actor = request_actor(request)
    if not policies.may_read_indicators(actor):
        raise AdminPermissionDenied
    if request.method == "POST":
        return _refresh(request)
    given = {k: v for k, v in request.GET.items() if k in FILTERS and v != ""}
    level = request.GET.get("level", "department")
    if level not in PAGE_LEVELS:
        level = "department"
    params = AnnualQuerySerializer(data=given)
    context = {
        **admin.site.each_context(request),
        "title": _("Annual results report"),
        "choices": filter_choices(actor),
        "given": given,
        "level": level,
        "levels": [(code, label) for code, label in LEVELS if code in PAGE_LEVELS],
        "errors": None,
    }
    if params.is_valid():
        report = annual_report(actor=actor, query=report_query(params.validated_data))
        context["sections"] = page_sections(report, level=level)
        context["summary"] = summary_lines(report)
        context["refresh_year"] = calendar_year(report.query)
    else:
        context["errors"] = [
            str(message) for messages in params.errors.values() for message in messages
        ]
    return TemplateResponse(request, "admin/farmers/annual_report.html", context)


def _refresh(request: HttpRequest) -> HttpResponse:
    """Recalculate the stored figures of the posted year (and programme), then show them."""
    params = RefreshSerializer(data=request.POST)
    back = reverse("admin:annual_report")
    if not params.is_valid():
        for messages_ in params.errors.values():
            for message in messages_:
                messages.error(request, str(message))
        return HttpResponseRedirect(back)
    year, program = params.validated_data["year"], params.validated_data.get("program")
    refresh_annual_reports.delay(years=[year], programs=[program] if program else None)
    messages.success(
        request,
        _("The figures of %(year)s are being recalculated; this page shows them once done.")
        % {"year": year},
    )
    query = urlencode({"year": year, **({"program": program} if program else {})})
    return HttpResponseRedirect(f"{back}?{query}")


class RefreshSerializer(serializers.Serializer[Any]):
    """The year (and programme) whose stored figures to recalculate."""

    year = serializers.IntegerField(min_value=1990, max_value=2100)
    program = serializers.SlugField(required=False, max_length=50)


def annual_report_allowed(request: HttpRequest) -> bool:
    """Whether the person may open the report (its link on the admin index shows then)."""
    return policies.may_read_indicators(request_actor(request))


ANNUAL_REPORT_PAGE = AdminPage(
    route="reports/annual/",
    name="annual_report",
    view=annual_report_view,
    index_template="admin/farmers/index_annual_report.html",
    index_flag="annual_report_allowed",
    allowed=annual_report_allowed,
)
