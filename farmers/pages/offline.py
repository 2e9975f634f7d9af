"""What makes the field pages work offline and installable: the reference data the phone caches
(districts, programmes, choice lists), the service worker and the web app manifest."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from registry.actors import Actor
from registry.boundaries import outline_geojson
from registry.models import District

from .base import field_page, form_choices, officer_districts, officer_programs

OUTLINE_MAX_AGE = 7 * 24 * 3600
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "field"
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


@field_page
@require_GET
def reference_data(request: HttpRequest, actor: Actor) -> JsonResponse:
    """The officer's districts, programmes and choice lists, cached by the phone for offline use."""
    data = {
        "districts": [
            {
                "ubigeo": d.ubigeo,
                "name": d.name,
                "province": d.province.name,
                "outline": reverse("field:district_outline", args=[d.ubigeo]),
            }
            for d in officer_districts(actor)
        ],
        "programs": [{"code": p.code, "name": p.name} for p in officer_programs(actor)],
        "choices": {key: dict(values) for key, values in form_choices().items()},
        "generated_at": timezone.now().isoformat(),
    }
    return JsonResponse(data)


@require_GET
def district_outline(request: HttpRequest, ubigeo: str) -> JsonResponse:
    """One district's outline, the base layer of the field maps (public data: INEI 2007 limits,
    MPL-2.0, ``registry/data/boundaries/``), simplified; cached by the phone for use offline."""
    geometry = outline_geojson(ubigeo) if len(ubigeo) == 6 and ubigeo.isdigit() else None
    if geometry is None:
        raise Http404
    name = District.objects.filter(ubigeo=ubigeo).values_list("name", flat=True).first()
    feature = {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"ubigeo": ubigeo, "name": name or ""},
    }
    response = JsonResponse(feature, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/geo+json"
    response["Cache-Control"] = f"public, max-age={OUTLINE_MAX_AGE}"
    return response


@field_page
@require_GET
def not_cached(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What the phone shows offline for a page never opened with signal (the service worker
    keeps this page): it says so, with the records waiting and a way back."""
    return render(request, "field/not_cached.html")


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
    pages = [
        reverse("field:my_work"),
        reverse("field:register"),
        reverse("field:reference"),
        reverse("field:not_cached"),
        reverse("field:pending_plot"),
        reverse("field:pending_visit"),
    ]
    response = render(
        request,
        "field/sw.js",
        {
            "version": shell_version(),
            "shell": json.dumps(shell),
            "pages": json.dumps(pages),
            "home": json.dumps(reverse("field:my_work")),
            "not_cached": json.dumps(reverse("field:not_cached")),
            "reference": json.dumps(reverse("field:reference")),
            "outlines": json.dumps(reverse("field:district_outline", args=["000000"])[:-14]),
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
