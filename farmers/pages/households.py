"""Field pages of households: my work (search, alerts, observations), a household's page, the
register form and its as-you-type duplicate check. Thin views over the farmers selectors and
services (the same scoping, validation, review queue and history as the API)."""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from farmers import policies, selectors, services
from farmers.choices import (
    LIVE_INSTALLATION_STATUSES,
    ConsentPurpose,
    Crop,
    VerificationStatus,
)
from farmers.evidence import visit_evidence_check
from farmers.filters import HouseholdFilterSet
from farmers.models import Household, Verification
from registry.actors import Actor
from registry.bruteforce import window_take
from registry.display import number
from registry.exceptions import Conflict, NotFound
from registry.history import access_log_record

from .base import (
    field_page,
    form_context,
    form_date,
    nested_data,
    officer_districts,
    officer_home_district,
    officer_programs,
    service_errors,
    uuid_or_none,
)
from .registry import household_actions, household_panels
from .visits import map_context

LIST_LIMIT = 50
DECISIONS_SHOWN = 20
DUPLICATE_CHECK_SCOPE = "duplicate-check"


@field_page
@require_http_methods(["GET", "HEAD", "POST"])
def my_work(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Households in my districts (search by name, code or ID), alerts due and observations.

    The search form posts its ``q`` (CSRF-protected) so that an ID number typed in it never
    lands in a URL, the browser history or a log; ``?q=`` still works for links."""
    query = (request.POST if request.method == "POST" else request.GET).get("q", "")
    filterset = HouseholdFilterSet(
        data={"q": query},
        queryset=selectors.household_list(actor=actor).order_by("-created_at", "-id"),
    )
    households: list[Household] = []
    search_error = ""
    if filterset.is_valid():
        found = filterset.qs
        # The page's keys first (one query): a search walks the covering ``hh_created_idx``
        # (farmers 0031) instead of the table.
        keys = found.values("pk")[: LIST_LIMIT + 1]
        households = list(found.filter(pk__in=Subquery(keys))[: LIST_LIMIT + 1])
    else:
        search_error = " ".join(str(m) for msgs in filterset.errors.values() for m in msgs)
    for hh in households:  # the stage is coca data (no query: the actor's areas are loaded)
        hh.show_stage = policies.stage_visible(actor, hh)  # type: ignore[attr-defined]
    context = {
        "households": households[:LIST_LIMIT],
        "more": len(households) > LIST_LIMIT,
        "limit": LIST_LIMIT,
        "q": query,
        "search_error": search_error,
        "alerts": selectors.alerts_due(actor=actor),
        "observations": selectors.observations_to_fix(actor=actor, limit=10),
        "can_register": policies.may_register(actor),
        "see_decisions": policies.may_read_coca(actor),
    }
    return render(request, "field/my_work.html", context)


@field_page
@require_GET
def household_detail(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """A household: members, plots on a map, visits, stage and history, and registered panels."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    plots = list(selectors.plot_list(actor=actor).filter(household=household, is_active=True))
    visits = list(
        selectors.verification_list(actor=actor)
        .filter(household=household)
        .prefetch_related("plots")
        .order_by("-visited_on", "-created_at")
    )
    installations = list(
        selectors.installation_list(actor=actor)
        .filter(household=household, status__in=LIVE_INSTALLATION_STATUSES)
        .select_related("plot")
        .order_by("plot__name", "planted_on", "id")
    )
    crop_names = dict(Crop.choices)
    for visit in visits:
        visit.crop_rows = [  # type: ignore[attr-defined]
            (str(crop_names.get(item.get("crop"), item.get("crop"))), number(item.get("ha")))
            for item in visit.licit_crops or []
        ]
    show_coca = policies.household_can(actor, household, "read_coca")
    show_stage = policies.stage_visible(actor, household)
    can_write = policies.household_can(actor, household, "write")
    stage_history = (
        list(selectors.stage_history(actor=actor, household=household).order_by("-id")[:50])
        if show_stage
        else []
    )
    for visit in visits:
        visit.can_correct = (  # type: ignore[attr-defined]
            show_coca and can_write and visit.status == VerificationStatus.CONFIRMED
        )
        # It tells whether the visit found coca: for coca readers and whoever recorded it.
        visit.confirm_problem = (  # type: ignore[attr-defined]
            _confirm_problem(visit)
            if visit.status == VerificationStatus.PENDING
            and (show_coca or visit.created_by_id == request.user.pk)
            else ""
        )
    if show_coca and visits:
        access_log_record(
            actor=actor,
            resource="verifications",
            object_ids=[str(v.pk) for v in visits],
            fields=["coca_ha"],
            path=request.get_full_path(),
        )
    decisions = _decisions(actor, household) if show_coca else None
    if decisions and decisions["corrections"]:
        access_log_record(
            actor=actor,
            resource="visit_corrections",
            object_ids=[str(c.pk) for c in decisions["corrections"]],
            fields=["old_value", "new_value"],
            path=request.get_full_path(),
        )
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": plot.geometry,
                "properties": {"name": plot.name, "area_ha": number(plot.area_ha)},
            }
            for plot in plots
        ],
    }
    context = {
        "household": household,
        "members": household.live_members,  # type: ignore[attr-defined]
        "plots": plots,
        "installations": installations,
        "plot_features": features,
        "visits": visits,
        "show_coca": show_coca,
        "show_stage": show_stage,
        "stage_history": stage_history,
        "stage_now": stage_history[0] if stage_history else None,
        "suspended": show_stage and services.is_suspended(household),
        "decisions": decisions,
        "can_appeal": show_coca and can_write and services.is_suspended(household),
        "duplicates": selectors.possible_duplicates_for(actor=actor, household=household),
        "panels": household_panels(actor, household, request),
        # Only the actions that can succeed on this household (e.g. no title request while
        # it waits for review).
        "actions": [
            (a, a.url(household)) for a in household_actions() if a.available(actor, household)
        ],
        "can_write": can_write,
        **map_context(household.district_id),
        # Staff who may open it in the admin get a link to its whole story there.
        "admin_url": reverse("admin:farmers_household_change", args=[household.pk])
        if request.user.is_staff and request.user.has_perm("farmers.view_household")
        else "",
    }
    return render(request, "field/household.html", context)


def _confirm_problem(visit: Verification) -> str:
    """Why a supervisor could not confirm this pending visit yet (a coca-free visit without a
    plausible GPS point or a photo: ``farmers.evidence.visit_evidence_check``), or ``""``."""
    try:
        visit_evidence_check(visit)
    except Conflict as exc:
        return str(exc.detail)
    return ""


def _decisions(actor: Actor, household: Household) -> dict[str, list[Any]]:
    """The household's exclusion proposals, appeals and visit corrections (coca data: the
    caller checked coca:read in the household's area), newest first."""
    return {
        "exclusions": list(
            selectors.exclusion_list(actor=actor).filter(household=household)[:DECISIONS_SHOWN]
        ),
        "appeals": list(
            selectors.appeal_list(actor=actor).filter(household=household)[:DECISIONS_SHOWN]
        ),
        "corrections": list(
            selectors.correction_list(actor=actor)
            .filter(household=household)
            .select_related("verification")[:DECISIONS_SHOWN]
        ),
    }


@field_page
def household_register(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Register a household: place, members (with duplicate warnings as they type), consent."""
    districts = officer_districts(actor)
    programs = officer_programs(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    member_count = 1
    if request.method == "POST":
        data = nested_data(request.POST, lists=("consent.purposes",))
        values = {
            k: request.POST.getlist(k) if k == "consent.purposes" else v
            for k, v in request.POST.items()
        }
        members = [m for m in data.get("members", []) if isinstance(m, dict)]
        member_count = max(1, len(members))
        for member in members:
            member["birth_date"] = form_date(member.get("birth_date"))
        consent = data.get("consent") or {}
        with service_errors(errors):
            household, _created = services.household_register(
                actor=actor,
                id=uuid_or_none(data.get("id")),
                program=str(data.get("program") or ""),
                district=str(data.get("district") or ""),
                community=str(data.get("community") or ""),
                members=members,
                consent={
                    "signed_on": form_date(consent.get("signed_on")),
                    "purposes": consent.get("purposes") or [],
                },
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    context = form_context(
        actor,
        districts=districts,
        programs=programs,
        errors=errors,
        values=values,
        member_indexes=range(member_count),
        checked_purposes=values.get("consent.purposes", ["registry"]),
        home_district=officer_home_district(actor, districts),
        new_id=uuid.uuid4(),
    )
    return render(request, "field/register.html", context, status=400 if errors else 200)


@field_page
@require_POST
def duplicate_check(request: HttpRequest, actor: Actor) -> JsonResponse:
    """Households in the officer's area that a member being typed may already belong to (JSON
    for the register form); only for people who may register households.

    A POST (CSRF-protected) so that ID numbers never travel in a URL into logs; at most
    ``DUPLICATE_CHECK_LIMIT`` checks per person per ``DUPLICATE_CHECK_WINDOW`` seconds (then 429
    with a message); households outside the area are never reported, so an ID enrolled
    elsewhere answers like an unknown ID (the registration still checks the whole registry)."""
    if not policies.may_register(actor):
        return JsonResponse({"matches": []}, status=403)
    wait = window_take(
        DUPLICATE_CHECK_SCOPE,
        f"user:{request.user.pk}",
        limit=settings.DUPLICATE_CHECK_LIMIT,
        window=settings.DUPLICATE_CHECK_WINDOW,
    )
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        message = ngettext(
            "Too many duplicate checks. Warnings resume in %(minutes)d minute; the "
            "registration is still checked when you save it.",
            "Too many duplicate checks. Warnings resume in %(minutes)d minutes; the "
            "registration is still checked when you save it.",
            minutes,
        ) % {"minutes": minutes}
        response = JsonResponse(
            {"matches": [], "code": "too_many_checks", "message": message}, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    data = request.POST
    birth = form_date(data.get("birth_date", ""))
    hints = selectors.duplicate_hints(
        actor=actor,
        document_type=data.get("document_type", "")[:8],
        document_number=data.get("document_number", "")[:12],
        given_names=data.get("given_names", "")[:120],
        surnames=data.get("surnames", "")[:120],
        birth_date=birth if isinstance(birth, date) else None,
        district=data.get("district", "")[:6],
    )
    messages = []
    for hint in hints:
        if hint.reason == "same_document":
            text = _("This ID is already registered in household %(code)s (%(name)s).") % {
                "code": hint.code,
                "name": hint.head_name,
            }
        else:
            text = _(
                "Possible duplicate: similar name and birth date in household %(code)s (%(name)s)."
            ) % {"code": hint.code, "name": hint.head_name}
        messages.append(
            {
                "reason": hint.reason,
                "code": hint.code,
                "url": reverse("field:household", args=[hint.household_id]),
                "message": text,
                "blocking": hint.reason == "same_document",
            }
        )
    return JsonResponse({"matches": messages})


@field_page
def consent_change(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """The family withdraws or narrows (or widens) its consent: a new version with the purposes
    it keeps and why (``services.consent_record``); it takes effect at once in every read."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    if not policies.household_can(actor, household, "write"):
        raise NotFound()
    versions = list(selectors.consent_list(actor=actor, household=household)[:20])
    errors: dict[str, list[str]] = {}
    checked = list(versions[0].purposes) if versions else []
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = dict(request.POST.items())
        checked = request.POST.getlist("purposes")
        with service_errors(errors):
            services.consent_record(
                actor=actor,
                household=household,
                purposes=checked,
                reason=request.POST.get("reason", ""),
                signed_on=form_date(request.POST.get("signed_on")) or None,
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    context = {
        "household": household,
        "versions": versions,
        "purposes": ConsentPurpose.choices,
        "checked": checked,
        "values": values,
        "errors": errors,
        "today": timezone.localdate().isoformat(),
    }
    return render(request, "field/consent.html", context, status=400 if errors else 200)
