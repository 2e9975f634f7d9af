"""The annual results report as a printable admin page (``/admin/reports/annual/``), registered
from ``FarmersConfig.ready()`` and linked from the admin's home (needs ``indicators:read``)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.admin_site import AdminPage

from .. import policies
from ..reporting.annual import LEVELS, annual_report
from ..reporting.annual_api import AnnualQuerySerializer, report_query
from ..reporting.annual_page import filter_choices, page_sections, summary_lines

FILTERS = ("year", "from", "to", "program", "funder", "department", "province", "district", "vraem")
PAGE_LEVELS = ("department", "province", "district")


def annual_report_view(request: HttpRequest) -> HttpResponse:
    """The report for the period and filters of the form (the current year by default), small
    cells reserved as in the funders' API, ready to print (A4, no admin chrome)."""
    actor = request_actor(request)
    if not policies.may_read_indicators(actor):
        raise AdminPermissionDenied
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
    else:
        context["errors"] = [
            str(message) for messages in params.errors.values() for message in messages
        ]
    return TemplateResponse(request, "admin/farmers/annual_report.html", context)


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
