"""The admin site of the registry: its Spanish titles, and pages the apps mount on it.

Set through ``registry.apps.RegistryAdminConfig.default_site``, so ``admin.site`` is a
``RegistryAdminSite`` from the start (nothing is patched at import time). The kernel knows no
app: an app that has an admin page of its own (the farmers' programme dashboard) registers it
with :func:`register_admin_page` from its ``AppConfig.ready()``; the site then serves its URL
behind the admin login and, on the index, includes the page's link snippet with a context flag
saying whether the person may open it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _

__all__ = ["AdminPage", "RegistryAdminSite", "admin_pages", "register_admin_page"]


@dataclass(frozen=True)
class AdminPage:
    """A page an app mounts on the admin: ``/admin/<route>`` named ``admin:<name>``.

    ``index_template`` (optional) is included at the top of the admin index; ``index_flag``
    names the context variable that tells it whether ``allowed(request)`` holds.
    """

    route: str
    name: str
    view: Callable[[HttpRequest], HttpResponse]
    index_template: str | None = None
    index_flag: str | None = None
    allowed: Callable[[HttpRequest], bool] | None = None


_PAGES: dict[str, AdminPage] = {}


def register_admin_page(page: AdminPage) -> None:
    """Mount ``page`` on the admin site (registering the same name again replaces it)."""
    _PAGES[page.name] = page


def admin_pages() -> list[AdminPage]:
    """The pages the apps registered, in registration order."""
    return list(_PAGES.values())


class RegistryLoginForm(AdminAuthenticationForm):
    """The admin login, which sends a field officer (a valid account without admin access) to
    the field app instead of Django's bare "not a staff account" message."""

    def confirm_login_allowed(self, user: Any) -> None:
        if user.is_active and not user.is_staff:
            raise ValidationError(
                _(
                    "This account works in the field officers' app, not in the administration: "
                    "sign in at /campo/."
                ),
                code="field_account",
            )
        super().confirm_login_allowed(user)


class RegistryAdminSite(admin.AdminSite):
    """The programme staff's admin: Spanish titles, and the apps' own pages and index links."""

    site_header = _("Alternative-development farmer registry")
    site_title = _("Farmer registry")
    index_title = _("Administration")
    index_template = "admin/registry/index.html"
    login_form = RegistryLoginForm

    def get_urls(self) -> list[URLResolver | URLPattern]:
        pages = [path(p.route, self.admin_view(p.view), name=p.name) for p in admin_pages()]
        return [*pages, *super().get_urls()]

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context: dict[str, Any] = {"admin_index_snippets": []}
        for page in admin_pages():
            if page.index_flag is not None and page.allowed is not None:
                context[page.index_flag] = page.allowed(request)
            if page.index_template is not None:
                context["admin_index_snippets"].append(page.index_template)
        return super().index(request, {**context, **(extra_context or {})})
