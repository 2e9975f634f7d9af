"""The admin site is the registry's own ``AdminSite`` (set through ``AdminConfig.default_site``),
not ``django.contrib.admin``'s default patched at import time."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.sites import AdminSite

from registry.admin_site import RegistryAdminSite, admin_pages


def test_admin_site_is_the_registry_site_set_by_the_admin_app_config() -> None:
    config = apps.get_app_config("admin")
    assert getattr(config, "default_site", None) == "registry.admin_site.RegistryAdminSite"
    site = admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site
    assert type(site) is RegistryAdminSite
    assert str(site.site_header) == str(RegistryAdminSite.site_header)


def test_nothing_is_patched_onto_the_site_instance() -> None:
    site = admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site
    patched = {"index", "get_urls", "index_template", "site_header", "site_title", "index_title"}
    assert patched.isdisjoint(vars(site)), sorted(patched & set(vars(site)))
    assert RegistryAdminSite.index is not AdminSite.index


def test_the_farmers_pages_are_registered_admin_pages() -> None:
    assert [page.name for page in admin_pages()] == ["dashboard", "annual_report"]
