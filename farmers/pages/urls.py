"""Routes of the field officers' pages, mounted at ``/campo/`` (namespace ``field``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views
from .registry import extra_urlpatterns

app_name = "field"


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.my_work, name="my_work"),
    path("ingresar/", views.LoginView.as_view(), name="login"),
    path("salir/", views.LogoutView.as_view(), name="logout"),
    path("registrar/", views.household_register, name="register"),
    path("duplicados/", views.duplicate_check, name="duplicates"),
    path("referencia.json", views.reference_data, name="reference"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("hogares/<uuid:household_id>/", views.household_detail, name="household"),
    path("hogares/<uuid:household_id>/visita/", views.visit_create, name="visit"),
    path("hogares/<uuid:household_id>/parcela/", views.plot_create, name="plot"),
    # Pages of other apps (e.g. the title application form), registered in their ready().
    *extra_urlpatterns,
]
