"""The programme-staff dashboard, an admin page (registered from ``FarmersConfig.ready()``), with
its filter form (a GET form: period, programme, funding source, department, province, district,
VRAEM zone; every choice shown by its name)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.actors import Actor
from registry.admin import request_actor
from registry.admin_site import AdminPage
from registry.choices import OrganizationKind, Scope
from registry.models import District, Organization, Program

from .. import policies
from ..models import DashboardHouseholds
from ..reporting.dashboard import DashboardFilters, dashboard_context, month_index, month_of

MONTH_FORMATS = ["%Y-%m"]


class MonthInput(forms.DateInput):
    """``<input type="month">`` (yyyy-mm)."""

    input_type = "month"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m")


class DashboardFilterForm(forms.Form):
    """The dashboard's filters; the choices are the programmes and places of the person's area
    that have households (read from the summary table), each by its name."""

    month_from = forms.DateField(
        label=_("From (month)"), input_formats=MONTH_FORMATS, widget=MonthInput(), required=False
    )
    month_to = forms.DateField(
        label=_("To (month)"), input_formats=MONTH_FORMATS, widget=MonthInput(), required=False
    )
    program = forms.ChoiceField(label=_("Programme"), required=False)
    funder = forms.ChoiceField(label=_("Funding source"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    vraem = forms.ChoiceField(
        label=_("VRAEM zone"),
        required=False,
        choices=[("", _("All")), ("yes", _("In the VRAEM")), ("no", _("Outside the VRAEM"))],
    )

    def __init__(self, data: Any, *, actor: Actor, today: date) -> None:
        default = DashboardFilters.default(today)
        super().__init__(
            data, initial={"month_from": default.month_from, "month_to": default.month_to}
        )
        self.today = today
        # A cell is the sum of its delta rows (``farmers.reporting.summaries``).
        cells = list(
            DashboardHouseholds.objects.filter(
                actor.area_q(
                    district_path="district_id",
                    program_path="program_id",
                    scope=Scope.INDICATORS_READ,
                )
            )
            .order_by()
            .values("district_id", "program_id")
            .annotate(n=Sum("households"))
            .filter(n__gt=0)
        )
        program_ids = {c["program_id"] for c in cells}
        ubigeos = {c["district_id"] for c in cells}
        programs = list(Program.objects.filter(pk__in=program_ids).order_by("name"))
        everyone = [("", _("All"))]
        self._choose("program", everyone + [(p.code, p.name) for p in programs])
        funders = Organization.objects.filter(
            kind=OrganizationKind.FUNDER, pk__in=[p.funder_id for p in programs if p.funder_id]
        ).order_by("name")
        self._choose("funder", everyone + [(o.code, o.name) for o in funders])
        districts = list(
            District.objects.filter(ubigeo__in=ubigeos).select_related("province", "department")
        )
        departments = sorted(
            {(d.department_id, d.department.name) for d in districts}, key=_by_name
        )
        provinces = sorted({(d.province_id, d.province.name) for d in districts}, key=_by_name)
        self._choose("department", everyone + departments)
        self._choose("province", everyone + provinces)
        self._choose(
            "district",
            everyone
            + sorted(
                ((d.ubigeo, f"{d.name} ({d.province.name})") for d in districts), key=_by_name
            ),
        )
        self.programs = {p.code: p for p in programs}
        self.funders = {o.code: o for o in funders}

    def _choose(self, name: str, choices: list[tuple[str, Any]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("month_from"), cleaned.get("month_to")
        if start and end and start > end:
            self.add_error("month_to", _("The period ends before it starts."))
        return cleaned

    def filters(self) -> DashboardFilters:
        """The filters chosen (the default period where none or an invalid one is given)."""
        default = DashboardFilters.default(self.today)
        if not self.is_valid():
            return default
        data = self.cleaned_data
        end = (data.get("month_to") or default.month_to).replace(day=1)
        start = (data.get("month_from") or month_of(month_index(end) - 11)).replace(day=1)
        vraem = {"yes": True, "no": False}.get(data.get("vraem") or "")
        return DashboardFilters(
            month_from=start,
            month_to=end,
            program=self.programs.get(data.get("program") or ""),
            funder=self.funders.get(data.get("funder") or ""),
            department=data.get("department") or None,
            province=data.get("province") or None,
            district=data.get("district") or None,
            vraem=vraem,
        )


def _by_name(choice: tuple[str, str]) -> str:
    return choice[1]


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Figures, stage funnel, tenure, stages over time, relapses, map, overdue items and cost
    per result for the person's area and the filters chosen (needs ``indicators:read``:
    supervisors and programme staff)."""
    actor = request_actor(request)
    if not policies.may_read_indicators(actor):
        raise AdminPermissionDenied
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None, actor=actor, today=today)
    filters = form.filters()
    context = {
        **admin.site.each_context(request),
        "title": _("Programme dashboard"),
        "form": form,
        **dashboard_context(actor=actor, filters=filters, today=today),
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

__all__ = ["DASHBOARD_PAGE", "DashboardFilterForm"]
