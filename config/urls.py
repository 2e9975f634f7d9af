"""Root URLs: admin, the partner API (v1) with its schema and docs, health check."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from registry.api.docs import RedocView, SchemaView, SwaggerView
from registry.api.root import ApiRootView
from registry.views import favicon, healthz

handler400 = "registry.api.errors.handler400"
handler403 = "registry.api.errors.handler403"
handler404 = "registry.api.errors.handler404"
handler500 = "registry.api.errors.handler500"

api_v1: list[URLPattern | URLResolver] = [
    path("", ApiRootView.as_view(), name="api-root"),
    # Public or behind a login: API_DOCS_PUBLIC (registry/api/docs.py).
    path("schema/", SchemaView.as_view(api_version="v1"), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api-v1:schema"), name="redoc"),
    path("", include("registry.api.urls")),
    path("", include("farmers.api.urls")),
    path("", include("titles.api.urls")),
    path("", include("markets.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("campo/", include("farmers.pages.urls", namespace="field")),
    path("api/v1/", include((api_v1, "api-v1"))),
]
