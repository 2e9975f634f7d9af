"""Production static files: ``collectstatic`` with WhiteNoise's manifest storage (the Procfile's
release step) succeeds, so every reference a CSS or JS file makes (source maps included) is
shipped."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_production_settings_use_the_manifest_storage() -> None:
    """The storage tested below is the one production uses (read without importing the module,
    which needs production secrets)."""
    source = (Path(__file__).resolve().parents[2] / "config/settings/production.py").read_text()
    assert PRODUCTION_STORAGES["staticfiles"]["BACKEND"] in source


def test_collectstatic_with_the_manifest_storage(tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    # The vendored files the admin, the field app and the API docs load are all hashed.
    for name in (
        "admin/css/base.css",
        "field/vendor/leaflet/leaflet.js",
        "field/vendor/leaflet/leaflet.css",
        "field/field.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
    ):
        assert (tmp_path / manifest[name]).is_file(), name
