"""Field pages that record what the officer finds on the farm: a verification visit (crops seen,
GPS point, photo), a plot (boundary walked with the phone, or a GeoJSON, KML or GPX file) and a
crop installed on a plot. With JavaScript the visit and plot forms queue their records in the
phone (``outbox.js``) and send them through the partner API with client-generated ids; without
it they post here and the view calls the same service. The installation form always posts here
(server-rendered, with a client-generated id: a resend is idempotent)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from farmers import selectors, services
from farmers.choices import VARIETIES, Crop, Variety
from farmers.geometry import MAX_UPLOAD_BYTES, parse_boundary_file, to_geojson
from registry.actors import Actor
from registry.services import field_error

from .base import (
    field_page,
    form_context,
    form_date,
    form_number,
    nested_data,
    service_errors,
    uuid_or_none,
)


@field_page
def visit_create(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """Record a verification visit: date, method, crops seen, the household's plots it saw
    (``plots``, the API's field), GPS point from the phone, photo."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    plots = list(
        selectors.plot_list(actor=actor)
        .filter(household=household, is_active=True)
        .order_by("name", "id")
    )
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    seen: list[str] = []
    if request.method == "POST":
        data = nested_data(request.POST, lists=("plots",))
        values = dict(request.POST.items())
        seen = [str(pk) for pk in data.get("plots") or []]
        location = data.get("location") or {}
        crops = [
            dict(c, ha=form_number(c.get("ha")))
            for c in data.get("licit_crops", [])
            if isinstance(c, dict) and c.get("crop")
        ]
        visited_on = form_date(data.get("visited_on"))
        with service_errors(errors):
            if not isinstance(visited_on, date):
                raise field_error("visited_on", _("Enter a date as YYYY-MM-DD."), "invalid")
            visit, _created = services.verification_create(
                actor=actor,
                id=uuid_or_none(data.get("id")),
                household=household.pk,
                visited_on=visited_on,
                method=str(data.get("method") or ""),
                coca_ha=form_number(data.get("coca_ha")) or "0",
                licit_crops=crops,
                location={k: form_number(v) for k, v in location.items()}
                if location.get("lat") and location.get("lon")
                else None,
                # A malformed id is no plot of the household (``plot_not_in_household``).
                plots=[uuid_or_none(pk) or uuid.UUID(int=0) for pk in seen],
                channel="web",
            )
            if request.FILES.get("photo"):
                services.verification_attach_photo(
                    actor=actor, verification=visit, photo=request.FILES["photo"]
                )
            return redirect("field:household", household_id=household.pk)
    context = form_context(
        actor,
        household=household,
        plots=plots,
        seen_plots=seen,
        photo_required=household.program.visit_photo_required,
        errors=errors,
        values=values,
        new_id=uuid.uuid4(),
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
        with service_errors(errors):
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
                id=uuid_or_none(request.POST.get("id")),
                household=household.pk,
                name=request.POST.get("name", ""),
                tenure=request.POST.get("tenure", ""),
                geometry=geometry,
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    context = form_context(
        actor,
        household=household,
        errors=errors,
        values=values,
        new_id=uuid.uuid4(),
        **map_context(household.district_id),
    )
    return render(request, "field/plot.html", context, status=400 if errors else 200)


def map_context(ubigeo: str | None) -> dict[str, str]:
    """What a field map needs: the configured tile server (if any) and the district outline
    (the base layer, cached by the phone)."""
    return {
        "tile_url": settings.FIELD_MAP_TILE_URL,
        "tile_attribution": settings.FIELD_MAP_TILE_ATTRIBUTION,
        "outline_url": reverse("field:district_outline", args=[ubigeo]) if ubigeo else "",
    }


@field_page
@require_GET
def pending_plot(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The plot form for a household registered on this phone and not sent yet
    (``?hogar=<its id>``): the phone keeps this page, the household comes from its outbox and
    the plot is sent after the household (JavaScript only: there is nothing to post to)."""
    context = form_context(
        actor, household=None, errors={}, values={}, new_id=uuid.uuid4(), **map_context(None)
    )
    return render(request, "field/plot.html", context)


@field_page
@require_GET
def pending_visit(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The visit form for a household registered on this phone and not sent yet
    (``?hogar=<its id>``): the plots it may tick are those captured on the phone for it; the
    visit is sent after the household and those plots (JavaScript only)."""
    context = form_context(
        actor,
        household=None,
        plots=[],
        seen_plots=[],
        photo_required=False,
        errors={},
        values={},
        new_id=uuid.uuid4(),
    )
    return render(request, "field/visit.html", context)


@field_page
def installation_create(
    request: HttpRequest, actor: Actor, household_id: uuid.UUID
) -> HttpResponse:
    """Record a crop installed on one of the household's plots (crop, variety, area, plants,
    planting date): the same service, rules and history as ``crop-installations/``."""
    household = selectors.household_get(actor=actor, household_id=household_id)
    plots = list(selectors.plot_list(actor=actor).filter(household=household, is_active=True))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = dict(request.POST.items())
        planted_on = form_date(request.POST.get("planting_date"))
        with service_errors(errors):
            if not isinstance(planted_on, date):
                raise field_error("planting_date", _("Enter a date as YYYY-MM-DD."), "invalid")
            services.installation_create(
                actor=actor,
                id=uuid_or_none(request.POST.get("id")),
                household=household.pk,
                plot=uuid_or_none(request.POST.get("plot")),
                crop=request.POST.get("crop", ""),
                variety=request.POST.get("variety", ""),
                # People type a decimal comma.
                area_ha=form_number(request.POST.get("area_ha") or ""),
                plants=request.POST.get("plants", ""),
                planting_date=planted_on,
                channel="web",
            )
            return redirect("field:household", household_id=household.pk)
    context = form_context(
        actor,
        household=household,
        plots=plots,
        varieties=installation_varieties(),
        errors=errors,
        values=values,
        new_id=uuid.uuid4(),
    )
    return render(request, "field/installation.html", context, status=400 if errors else 200)


def installation_varieties() -> list[tuple[str, list[tuple[str, str]]]]:
    """The varieties grouped by crop, labels in the active language (an ``<optgroup>`` each)."""
    crops = dict(Crop.choices)
    labels = dict(Variety.choices)
    return [
        (str(crops[crop]), [(v, str(labels[v])) for v in varieties])
        for crop, varieties in VARIETIES.items()
    ]
