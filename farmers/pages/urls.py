"""Routes of the field officers' pages, mounted at ``/campo/`` (namespace ``field``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import decisions, households, offline, training, visits
from .base import LoginView, LogoutView
from .registry import extra_urlpatterns

app_name = "field"


urlpatterns: list[URLPattern | URLResolver] = [
    path("", households.my_work, name="my_work"),
    path("ingresar/", LoginView.as_view(), name="login"),
    path("salir/", LogoutView.as_view(), name="logout"),
    path("registrar/", households.household_register, name="register"),
    path("duplicados/", households.duplicate_check, name="duplicates"),
    path("referencia.json", offline.reference_data, name="reference"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("sw.js", offline.service_worker, name="service_worker"),
    path("sin-conexion/", offline.not_cached, name="not_cached"),
    path("distritos/<str:ubigeo>.geojson", offline.district_outline, name="district_outline"),
    path("sin-enviar/parcela/", visits.pending_plot, name="pending_plot"),
    path("sin-enviar/visita/", visits.pending_visit, name="pending_visit"),
    path("hogares/<uuid:household_id>/", households.household_detail, name="household"),
    path("hogares/<uuid:household_id>/visita/", visits.visit_create, name="visit"),
    path("hogares/<uuid:household_id>/parcela/", visits.plot_create, name="plot"),
    path("hogares/<uuid:household_id>/apelacion/", decisions.appeal_create, name="appeal"),
    path(
        "hogares/<uuid:household_id>/consentimiento/",
        households.consent_change,
        name="consent",
    ),
    path(
        "hogares/<uuid:household_id>/visitas/<uuid:visit_id>/correccion/",
        decisions.correction_create,
        name="correction",
    ),
    path("capacitacion/", training.training_districts, name="training_districts"),
    path("capacitacion/<str:ubigeo>/", training.training_create, name="training"),
    path("decisiones/", decisions.pending_decisions, name="decisions"),
    path(
        "decisiones/<str:kind>/<uuid:record_id>/decidir/",
        decisions.decide,
        name="decide",
    ),
    path(
        "hogares/<uuid:household_id>/cultivo/",
        visits.installation_create,
        name="installation",
    ),
    # Pages of other apps (e.g. the title application form), registered in their ready().
    *extra_urlpatterns,
]
