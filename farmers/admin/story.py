"""A household's whole story on its admin page: the plots on a map, visits with their photos,
stage and tenure tracks with their evidence, alerts, history in words, and the sections the apps
above farmers register (title files with their documents, contracts with their deliveries).

farmers never imports titles or markets: they call ``register_admin_section(name, renderer)``
from ``AppConfig.ready()``; ``renderer(request, actor, household)`` returns
``(template_name, context)`` or ``None`` to hide the section (no scope there). Each section
costs a fixed number of queries, whatever the number of records (the page has a query budget).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.actors import Actor
from registry.admin import request_actor
from registry.admin_toolkit import history_html
from registry.choices import AlertKind, AlertSeverity, AlertStatus
from registry.display import choice_label, day
from registry.maps import boundary_svg
from registry.models import Alert
from registry.policies import alert_q

from .. import policies
from ..choices import HouseholdStatus, Stage
from ..models import Agreement, Consent, Household, Plot, Verification

SectionRenderer = Callable[[HttpRequest, Actor, Any], "tuple[str, dict[str, Any]] | None"]

ALERTS_SHOWN = 20
MILESTONE_LABELS: dict[str, Any] = {
    **dict(Stage.choices),
    "tenure": gettext_lazy("Secure land tenure"),
}


@dataclass(frozen=True)
class _Section:
    name: str
    renderer: SectionRenderer
    order: int


_sections: dict[str, _Section] = {}


def register_admin_section(name: str, renderer: SectionRenderer, *, order: int = 100) -> None:
    """Add (or replace, by ``name``) a section of the household's admin page."""
    _sections[name] = _Section(name, renderer, order)


def admin_sections(request: HttpRequest, actor: Actor, household: Household) -> list[SafeString]:
    """The registered sections of ``household`` rendered for ``actor``, in order."""
    rendered: list[SafeString] = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.name)):
        result = section.renderer(request, actor, household)
        if result is None:
            continue
        template_name, context = result
        html = render_to_string(
            template_name, {"household": household, "actor": actor, **context}, request=request
        )
        rendered.append(SafeString(html))
    return rendered


def milestone_rows(milestones: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The stage criteria met, with the day each was met, in words and in ladder order."""
    order = [*Stage.values, "tenure"]
    data = milestones or {}
    keys = sorted(data, key=lambda k: order.index(k) if k in order else len(order))
    rows = [
        (str(MILESTONE_LABELS.get(key, _("Other milestone"))), day(data[key]))
        for key in keys
        if data[key]
    ]
    if not data.get("tenure"):  # the tenure track is shown even before it is reached
        rows.append((str(MILESTONE_LABELS["tenure"]), _("not yet reached")))
    return rows


def field_page_url(household: Household) -> str:
    """The household's page in the field app (``/campo/hogares/<id>/``)."""
    try:
        return reverse("field:household", kwargs={"household_id": household.pk})
    except NoReverseMatch:  # pragma: no cover - the field pages are always mounted
        return ""


def may_review(actor: Actor, household: Household) -> bool:
    """Whether ``actor`` may approve or reject this registration now (pending, reviewer in the
    area, not its maker: the workflow's maker–checker)."""
    return (
        household.status == HouseholdStatus.PENDING_REVIEW
        and policies.household_can(actor, household, "review")
        and not policies.made_by(actor, household)
    )


def _alerts(household: Household, actor: Actor) -> list[dict[str, Any]]:
    rows = (
        Alert.objects.filter(household_id=household.pk)
        .filter(alert_q(actor, scope=None))
        .order_by("-raised_at")[:ALERTS_SHOWN]
    )
    return [
        {
            "kind": choice_label(a.kind, AlertKind),
            "severity": choice_label(a.severity, AlertSeverity),
            "status": choice_label(a.status, AlertStatus),
            "message": a.message,
            "raised_on": day(a.raised_at),
            "due_on": day(a.due_on) if a.due_on else "",
            "url": reverse("admin:registry_alert_change", args=[a.pk]),
        }
        for a in rows
    ]


def _history(household: Household, plots: list[Plot]) -> SafeString:
    """Every change of the household and of its plots, consents, agreements and visits."""
    parts: list[Any] = [household, *plots]
    for queryset in (
        Consent.objects.filter(household=household).only("pk"),
        Agreement.objects.filter(household=household).only("pk"),
        Verification.objects.filter(household=household).only("pk"),
    ):
        parts += list(queryset)
    return history_html(parts)


def household_story(request: HttpRequest, household: Household) -> dict[str, Any]:
    """The context of the household's admin page beyond its fields and inlines."""
    actor = request_actor(request)
    plots: list[Plot] = list(
        Plot.objects.filter(household=household, is_active=True).only("pk", "name", "geometry")
    )
    show_stage = policies.stage_visible(actor, household)
    return {
        "story_map": boundary_svg(
            [(plot.name, plot.geometry) for plot in plots],
            title=_("Plots of household %(code)s") % {"code": household.code},
            district=household.district_id,
            district_name=household.district.name,
        ),
        "story_show_stage": show_stage,
        "story_milestones": milestone_rows(household.milestones) if show_stage else [],
        "story_alerts": _alerts(household, actor),
        "story_sections": admin_sections(request, actor, household),
        "story_history": _history(household, plots),
        "story_field_url": field_page_url(household),
        "story_may_review": may_review(actor, household)
        and request.user.has_perm("farmers.change_household"),
    }
