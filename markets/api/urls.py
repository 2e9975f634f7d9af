"""Routes of the markets API under /api/v1/ (being built)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
