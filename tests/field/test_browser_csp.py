"""The Content-Security-Policy in a real headless Chromium: the admin (with the dashboard and
its language switch), the field app (with its service worker and the Leaflet map) and the API
docs (Swagger UI, ReDoc) work under it with no violation reported and nothing fetched from
outside the server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory
from tests.field.browser import phone_context, sign_in
from tests.field.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each page records the violations it sees (before any of its own scripts run).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


class Watch:
    """Collects CSP violations (events and console reports), outside requests and the CSP
    headers of the pages of one browser context."""

    def __init__(self, context: Any, live_server: Any) -> None:
        self.live_server = live_server
        self.console: list[str] = []
        self.outside: list[str] = []
        self.policies: dict[str, str] = {}
        context.add_init_script(LISTEN)
        context.on("request", self._request)
        context.on("response", self._response)
        context.on("console", self._console)

    def _request(self, request: Any) -> None:
        local = (self.live_server.url, "blob:" + self.live_server.url, "data:")
        if not request.url.startswith(local):
            self.outside.append(request.url)

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.policies[response.url] = response.headers.get("content-security-policy", "")

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def visit(self, page: Any, path: str, ready: str) -> None:
        """Open ``path``, wait for ``ready`` (a selector its scripts draw) and check the page."""
        page.goto(f"{self.live_server.url}{path}")
        page.wait_for_selector(ready, state="attached")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
        url = page.url
        policy = self.policies.get(url, "")
        pairs = (part.strip().partition(" ") for part in policy.split(";") if part.strip())
        directives = {name: value for name, _sep, value in pairs}
        assert directives.get("default-src") == "'self'", (url, policy)
        script_src = directives.get("script-src", "")
        assert script_src.startswith("'self'") and "unsafe-inline" not in script_src, policy
        assert "unsafe-eval" not in script_src, policy

    def assert_clean(self) -> None:
        assert self.console == []
        assert self.outside == []


def test_admin_dashboard_and_docs_pass_the_csp(
    chromium: Any, live_server: Any, artifacts_dir: Any, geography: None
) -> None:
    UserFactory.create(username="raiz", is_staff=True, is_superuser=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    watch = Watch(context, live_server)
    page = context.new_page()
    watch.visit(page, "/admin/login/?next=/admin/", "#id_username")
    page.fill("#id_username", "raiz")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    watch.visit(page, "/admin/", "#content-main")
    watch.visit(page, "/admin/dashboard/", "#dashboard")
    watch.visit(page, "/admin/farmers/household/", "#changelist")
    # The language switch (a static script, no inline handler) still switches to English.
    page.select_option("#language-select", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.select_option("#language-select", "es")
    page.wait_for_function("() => document.documentElement.lang === 'es'")
    # Swagger UI draws the operations; ReDoc its menu (both fetch the schema).
    watch.visit(page, "/api/v1/docs/", ".swagger-ui .opblock")
    page.screenshot(path=str(artifacts_dir / "csp-swagger.png"))
    watch.visit(page, "/api/v1/redoc/", ".menu-content")
    page.screenshot(path=str(artifacts_dir / "csp-redoc.png"))
    context.close()
    watch.assert_clean()


def test_field_app_passes_the_csp(
    chromium: Any, live_server: Any, artifacts_dir: Any, officer: Any, make_household: Any
) -> None:
    household = make_household(officer)
    context = phone_context(chromium, geolocation={"latitude": -12.44, "longitude": -73.98})
    watch = Watch(context, live_server)
    page = context.new_page()
    watch.visit(page, "/campo/ingresar/", "#id_username")
    sign_in(page, live_server, "tecnico")
    # The service worker registers and takes control (its script is the site's own).
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    watch.visit(page, "/campo/", "[data-outbox-count]")
    watch.visit(page, "/campo/registrar/", "form")
    watch.visit(page, f"/campo/hogares/{household.pk}/", "main")
    # Leaflet draws its map (inline styles set from script are allowed; no inline script).
    watch.visit(page, f"/campo/hogares/{household.pk}/parcela/", "#map.leaflet-container")
    page.screenshot(path=str(artifacts_dir / "csp-field-plot.png"))
    context.close()
    watch.assert_clean()
