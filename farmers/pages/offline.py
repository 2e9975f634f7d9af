"""What makes the field pages work offline and installable: the reference data the phone caches
(districts, programmes, choice lists), the service worker and the web app manifest."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from registry.actors import Actor

from .base import field_page, form_choices, officer_districts, officer_programs

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
            {"ubigeo": d.ubigeo, "name": d.name, "province": d.province.name}
            for d in officer_districts(actor)
        ],
        "programs": [{"code": p.code, "name": p.name} for p in officer_programs(actor)],
        "choices": {key: dict(values) for key, values in form_choices().items()},
        "generated_at": timezone.now().isoformat(),
    }
    return JsonResponse(data)


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
