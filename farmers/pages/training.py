"""Field pages of technical assistance and training: the officer picks a district, then takes
the attendance on the phone (the district's household members as checkboxes; sex and age shown
from each member's record). With JavaScript the form queues the event in the phone's outbox
(``outbox.js``) and sends it to ``trainings/`` with a client-generated id, so it works without
signal once the page has been opened (the service worker keeps it); without JavaScript it posts
here and the view calls the same service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers import services
from farmers.api.serializers.training import age_on
from farmers.models import Member
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import Organization
from registry.services import field_error

from .. import policies
from ..choices import HouseholdStatus
from .base import (
    field_page,
    form_context,
    form_date,
    form_number,
    officer_districts,
    officer_programs,
    service_errors,
    uuid_or_none,
)

# The attendance list shows at most this many members (the district's first households by
# community and code); the API takes any member of the area.
MAX_MEMBERS = 400


@field_page
def training_districts(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The districts where the officer may take a training's attendance."""
    return render(request, "field/training_districts.html", {"districts": officer_districts(actor)})


def _attendance_members(actor: Actor, district: str) -> list[Member]:
    """Active members of the district's registered households in the officer's area."""
    return list(
        Member.objects.filter(
            policies.member_q(actor, Scope.HOUSEHOLDS_WRITE),
            household__district_id=district,
            household__status__in=(HouseholdStatus.ACTIVE, HouseholdStatus.PENDING_REVIEW),
            is_active=True,
        )
        .select_related("household")
        .order_by("household__community", "household__code", "-is_head", "birth_date")[
            : MAX_MEMBERS + 1
        ]
    )


@field_page
def training_create(request: HttpRequest, actor: Actor, ubigeo: str) -> HttpResponse:
    """Record a training event in a district and who attended (checkboxes of members)."""
    district = next((d for d in officer_districts(actor) if d.ubigeo == ubigeo), None)
    if district is None:
        raise Http404
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    chosen: list[str] = []
    if request.method == "POST":
        values = dict(request.POST.items())
        chosen = request.POST.getlist("attendees")
        held_on = form_date(request.POST.get("date"))
        with service_errors(errors):
            if not isinstance(held_on, date):
                raise field_error("date", _("Enter a date as YYYY-MM-DD."), "invalid")
            services.training_event_create(
                actor=actor,
                id=uuid_or_none(request.POST.get("id")),
                program=request.POST.get("program", ""),
                district=district.ubigeo,
                date=held_on,
                topic=request.POST.get("topic", ""),
                place=request.POST.get("place", ""),
                facilitator=request.POST.get("facilitator", ""),
                cost_pen=form_number(request.POST.get("cost_pen")) or "0",
                funding_source=request.POST.get("funding_source") or None,
                # A malformed id is no member of the area (``does_not_exist``).
                attendees=[uuid_or_none(pk) or uuid.UUID(int=0) for pk in chosen],
                channel="web",
            )
            return redirect("field:my_work")
    members = _attendance_members(actor, district.ubigeo)
    today = timezone.localdate()
    for member in members:
        member.age = age_on(member.birth_date, today)  # type: ignore[attr-defined]
    context = form_context(
        actor,
        district=district,
        programs=officer_programs(actor),
        funders=list(
            Organization.objects.filter(kind=OrganizationKind.FUNDER, is_active=True).order_by(
                "name"
            )
        ),
        members=members[:MAX_MEMBERS],
        more=len(members) > MAX_MEMBERS,
        limit=MAX_MEMBERS,
        chosen=chosen,
        errors=errors,
        values=values,
        new_id=uuid.uuid4(),
    )
    return render(request, "field/training.html", context, status=400 if errors else 200)
