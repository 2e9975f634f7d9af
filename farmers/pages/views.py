"""Field officers' pages: thin views over the farmers selectors and services (the same scoping,
validation, review queue and history as the API). With JavaScript the forms queue their records
in the phone (``outbox.js``) and send them through the partner API with client-generated ids;
without it they post here and the view calls the same service."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from datetime import date
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from farmers import selectors, services
from farmers.choices import (
    ConsentPurpose,
    Crop,
    DocumentType,
    Relationship,
    Sex,
    Tenure,
    VerificationMethod,
)
from farmers.filters import HouseholdFilterSet
from farmers.geometry import MAX_UPLOAD_BYTES, parse_boundary_file, to_geojson
from farmers.models import Household
from registry.actors import Actor
from registry.bruteforce import window_take
from registry.choices import Scope
from registry.exceptions import NotFound, RegistryError
from registry.history import access_log_record
from registry.models import District, Program
from registry.services import field_error

from .registry import household_actions, household_panels

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "field"
LIST_LIMIT = 50
field_login_required = login_required(login_url=reverse_lazy("field:login"))

View = Callable[..., HttpResponse]


def field_page(view: View) -> View:
    """Signed-in people only (others go to the field login); the view gets the ``Actor``.
    Records outside the actor's area answer 404, as in the API."""

    @field_login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = Actor.for_user(request.user)
        try:
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404 from exc

    return wrapper


class LoginView(auth_views.LoginView):
    """Sign in, styled for phones."""

    template_name = "field/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("field:my_work")


class LogoutView(auth_views.LogoutView):
    """Sign out (POST), back to the field login."""

    next_page = "field:login"


# --- reference data ---------------------------------------------------------------------------


def officer_districts(actor: Actor) -> list[District]:
    """Districts where the actor may register households (VRAEM districts if unrestricted)."""
    codes: set[str] = set()
    unbounded = actor.unrestricted
    for area in actor.areas:
        if not area.allows(Scope.HOUSEHOLDS_WRITE):
            continue
        if area.districts is None:
            unbounded = True
        else:
            codes |= area.districts
    condition = Q(is_vraem=True) if unbounded else Q(ubigeo__in=sorted(codes))
    return list(District.objects.filter(condition).select_related("province").order_by("name"))


def officer_programs(actor: Actor) -> list[Program]:
    """Active programmes where the actor may register households."""
    ids: set[int] = set()
    unbounded = actor.unrestricted
    for area in actor.areas:
        if not area.allows(Scope.HOUSEHOLDS_WRITE):
            continue
        if area.programs is None:
            unbounded = True
        else:
            ids |= area.programs
    programs = Program.objects.filter(is_active=True)
    if not unbounded:
        programs = programs.filter(pk__in=sorted(ids))
    return list(programs.order_by("name"))


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in enum.choices]


def form_choices() -> dict[str, list[tuple[str, str]]]:
    """Choice lists of the forms, labels in the active language."""
    return {
        "document_types": _choices(DocumentType),
        "sexes": _choices(Sex),
        "relationships": _choices(Relationship),
        "purposes": _choices(ConsentPurpose),
        "tenures": _choices(Tenure),
        "crops": _choices(Crop),
        "methods": _choices(VerificationMethod),
    }


@field_page
@require_GET
def reference_data(request: HttpRequest, actor: Actor) -> JsonResponse:
    """The officer's districts, programmes and choice lists, cached by the phone for offline use."""
    data = {
        "districts": [
            {"ubigeo": d.ubigeo, "name": d.name, "province": d.province.name}
            for d in officer_districts(actor)
        ],
        "programs": [{"code": p.code, "name": p.name} for p in officer_programs(actor)],
        "choices": {key: dict(values) for key, values in form_choices().items()},
        "generated_at": timezone.now().isoformat(),
    }
    return JsonResponse(data)


# --- my work ----------------------------------------------------------------------------------


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
        households = list(filterset.qs[: LIST_LIMIT + 1])
    else:
        search_error = " ".join(str(m) for msgs in filterset.errors.values() for m in msgs)
    context = {
        "households": households[:LIST_LIMIT],
        "more": len(households) > LIST_LIMIT,
        "limit": LIST_LIMIT,
        "q": query,
        "search_error": search_error,
        "alerts": selectors.alerts_due(actor=actor),
        "observations": selectors.observations_to_fix(actor=actor, limit=10),
        "can_register": actor.has_scope(Scope.HOUSEHOLDS_WRITE),
    }
    return render(request, "field/my_work.html", context)


# --- household --------------------------------------------------------------------------------


@field_page
@require_GET
def household_detail(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """A household: members, plots on a map, visits, stage and history, and registered panels."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    plots = list(selectors.plot_list(actor=actor).filter(household=household, is_active=True))
    visits = list(
        selectors.verification_list(actor=actor)
        .filter(household=household)
        .order_by("-visited_on", "-created_at")
    )
    crop_names = dict(Crop.choices)
    for visit in visits:
        visit.crop_rows = [  # type: ignore[attr-defined]
            (str(crop_names.get(item.get("crop"), item.get("crop"))), item.get("ha"))
            for item in visit.licit_crops or []
        ]
    show_coca = actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.COCA_READ
    )
    if show_coca and visits:
        access_log_record(
            actor=actor,
            resource="verifications",
            object_ids=[str(v.pk) for v in visits],
            fields=["coca_ha"],
            path=request.get_full_path(),
        )
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": plot.geometry,
                "properties": {"name": plot.name, "area_ha": str(plot.area_ha)},
            }
            for plot in plots
        ],
    }
    context = {
        "household": household,
        "members": household.live_members,  # type: ignore[attr-defined]
        "plots": plots,
        "plot_features": features,
        "visits": visits,
        "show_coca": show_coca,
        "stage_history": list(
            selectors.stage_history(actor=actor, household=household).order_by("-id")[:50]
        ),
        "duplicates": selectors.possible_duplicates_for(actor=actor, household=household),
        "panels": household_panels(actor, household, request),
        "actions": [(a, a.url(household)) for a in household_actions()],
        "can_write": actor.covers(
            district=household.district_id,
            program=household.program_id,
            scope=Scope.HOUSEHOLDS_WRITE,
        ),
        "tile_url": settings.FIELD_MAP_TILE_URL,
        "tile_attribution": settings.FIELD_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "field/household.html", context)


# --- forms: dotted field names shared with the API and the phone's outbox ----------------------


def nested_data(data: QueryDict, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """``members.0.given_names=Ana`` → ``{"members": [{"given_names": "Ana"}]}``: the form's
    field names are the API's error paths, so one form serves the API and this fallback."""
    root: dict[str, Any] = {}
    for key in data:
        if key == "csrfmiddlewaretoken":
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = data.getlist(key) if key in lists else data.get(key, "")

    def listify(value: Any) -> Any:
        if isinstance(value, dict):
            if value and all(k.isdigit() for k in value):
                return [listify(value[k]) for k in sorted(value, key=int)]
            return {k: listify(v) for k, v in value.items()}
        return value

    result: dict[str, Any] = listify(root)
    return result


def _date(value: Any) -> Any:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value


def error_map(exc: Exception) -> dict[str, list[str]]:
    """Field path → messages (``""`` for the form as a whole), from a service's exception."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {
                ("" if k in ("__all__", "non_field_errors") else k): [
                    str(m) for e in v for m in e.messages
                ]
                for k, v in exc.error_dict.items()
            }
        return {"": [str(m) for m in exc.messages]}
    if isinstance(exc, RegistryError):
        return {exc.attr or "": [exc.detail]}
    raise exc


def _form_context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "choices": form_choices(),
        "today": timezone.localdate().isoformat(),
        **extra,
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
            member["birth_date"] = _date(member.get("birth_date"))
        consent = data.get("consent") or {}
        try:
            household, _created = services.household_register(
                actor=actor,
                id=_uuid_or_none(data.get("id")),
                program=str(data.get("program") or ""),
                district=str(data.get("district") or ""),
                community=str(data.get("community") or ""),
                members=members,
                consent={
                    "signed_on": _date(consent.get("signed_on")),
                    "purposes": consent.get("purposes") or [],
                },
                channel="web",
            )
        except (ValidationError, RegistryError) as exc:
            errors = error_map(exc)
        else:
            return redirect("field:household", household_id=household.pk)
    context = _form_context(
        actor,
        districts=districts,
        programs=programs,
        errors=errors,
        values=values,
        member_indexes=range(member_count),
        checked_purposes=values.get("consent.purposes", ["registry"]),
        new_id=uuid.uuid4(),
    )
    return render(request, "field/register.html", context, status=400 if errors else 200)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


DUPLICATE_CHECK_SCOPE = "duplicate-check"


@field_page
@require_POST
def duplicate_check(request: HttpRequest, actor: Actor) -> JsonResponse:
    """Households in the officer's area that a member being typed may already belong to (JSON
    for the register form); only for people who may register households.

    A POST (CSRF-protected) so that ID numbers never travel in a URL into logs; at most
    ``DUPLICATE_CHECK_LIMIT`` checks per person per ``DUPLICATE_CHECK_WINDOW`` seconds (then 429
    with a message); households outside the area are never reported, so an ID enrolled
    elsewhere answers like an unknown ID (the registration still checks the whole registry)."""
    if not actor.has_scope(Scope.HOUSEHOLDS_WRITE):
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
    birth = _date(data.get("birth_date", ""))
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
def visit_create(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """Record a verification visit: date, method, crops seen, GPS point from the phone, photo."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        data = nested_data(request.POST)
        values = dict(request.POST.items())
        location = data.get("location") or {}
        crops = [c for c in data.get("licit_crops", []) if isinstance(c, dict) and c.get("crop")]
        visited_on = _date(data.get("visited_on"))
        try:
            if not isinstance(visited_on, date):
                raise field_error("visited_on", _("Enter a date as YYYY-MM-DD."), "invalid")
            visit, _created = services.verification_create(
                actor=actor,
                id=_uuid_or_none(data.get("id")),
                household=household.pk,
                visited_on=visited_on,
                method=str(data.get("method") or ""),
                coca_ha=data.get("coca_ha") or "0",
                licit_crops=crops,
                location=location if location.get("lat") and location.get("lon") else None,
                channel="web",
            )
            if request.FILES.get("photo"):
                services.verification_attach_photo(
                    actor=actor, verification=visit, photo=request.FILES["photo"]
                )
        except (ValidationError, RegistryError) as exc:
            errors = error_map(exc)
        else:
            return redirect("field:household", household_id=household.pk)
    context = _form_context(
        actor, household=household, errors=errors, values=values, new_id=uuid.uuid4()
    )
    return render(request, "field/visit.html", context, status=400 if errors else 200)


@field_page
def plot_create(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """Capture a plot by walking its boundary or from a GeoJSON, KML or GPX file."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = dict(request.POST.items())
        try:
            geometry: Any = None
            upload = request.FILES.get("file")
            if upload is not None:
                if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                    raise field_error(
                        "file",
                        _("The file is larger than %(max)s MB.")
                        % {"max": MAX_UPLOAD_BYTES // 2**20},
                        "too_large",
                    )
                try:
                    geometry = to_geojson(parse_boundary_file(upload.name or "", upload.read()))
                except ValidationError as exc:
                    raise ValidationError({"file": exc.error_list}) from exc
            else:
                try:
                    geometry = json.loads(request.POST.get("geometry") or "null")
                except ValueError:
                    geometry = None
                if not geometry:
                    raise field_error(
                        "geometry",
                        _("Walk the boundary or choose a file before saving."),
                        "required",
                    )
            _plot, _created = services.plot_create(
                actor=actor,
                id=_uuid_or_none(request.POST.get("id")),
                household=household.pk,
                name=request.POST.get("name", ""),
                tenure=request.POST.get("tenure", ""),
                geometry=geometry,
                channel="web",
            )
        except (ValidationError, RegistryError) as exc:
            errors = error_map(exc)
        else:
            return redirect("field:household", household_id=household.pk)
    context = _form_context(
        actor,
        household=household,
        errors=errors,
        values=values,
        new_id=uuid.uuid4(),
        tile_url=settings.FIELD_MAP_TILE_URL,
        tile_attribution=settings.FIELD_MAP_TILE_ATTRIBUTION,
    )
    return render(request, "field/plot.html", context, status=400 if errors else 200)


# --- installable app --------------------------------------------------------------------------

SHELL_STATIC = [
    "field/field.css",
    "field/outbox.js",
    "field/field.js",
    "field/map.js",
    "field/icon.svg",
    "field/icon-192.png",
    "field/icon-512.png",
    "field/vendor/leaflet/leaflet.js",
    "field/vendor/leaflet/leaflet.css",
]


@lru_cache(maxsize=1)
def shell_version() -> str:
    """Changes whenever a shell file changes, so phones drop the old cache."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        path = STATIC_DIR / name.removeprefix("field/")
        if path.exists():
            digest.update(path.read_bytes())
    for template in sorted((STATIC_DIR.parent.parent / "templates" / "field").glob("*")):
        digest.update(template.read_bytes())
    return digest.hexdigest()[:12]


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under ``/campo/`` so that it controls the field pages."""
    shell = [static(name) for name in SHELL_STATIC]
    pages = [reverse("field:my_work"), reverse("field:register"), reverse("field:reference")]
    response = render(
        request,
        "field/sw.js",
        {
            "version": shell_version(),
            "shell": json.dumps(shell),
            "pages": json.dumps(pages),
            "home": json.dumps(reverse("field:my_work")),
        },
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = reverse("field:my_work")
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest (installable on the phone's home screen), in the active language."""
    data = {
        "name": _("Registry – field officers"),
        "short_name": _("Field registry"),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("field:my_work"),
        "scope": reverse("field:my_work"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f3a",
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response
