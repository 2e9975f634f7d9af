"""The programme-staff dashboard, an admin page (registered from ``FarmersConfig.ready()``)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.admin_site import AdminPage

from .. import policies
from ..reporting.dashboard import dashboard_context


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Stage funnel, stages over time, relapses, map, overdue items and cost per result for the
    person's area (needs ``indicators:read``: supervisors and programme staff)."""
    actor = request_actor(request)
    if not policies.may_read_indicators(actor):
        raise AdminPermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Programme dashboard"),
        **dashboard_context(actor=actor),
    }
    return TemplateResponse(request, "admin/farmers/dashboard.html", context)


def dashboard_allowed(request: HttpRequest) -> bool:
    """Whether the person may open the dashboard (its link on the admin index shows then)."""
    return policies.may_read_indicators(request_actor(request))


DASHBOARD_PAGE = AdminPage(
    route="dashboard/",
    name="dashboard",
    view=dashboard_view,
    index_template="admin/farmers/index_dashboard.html",
    index_flag="dashboard_allowed",
    allowed=dashboard_allowed,
)
