"""The admin's login page in a real headless Chromium: Spanish, styled, no external requests."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_login_renders_in_spanish_without_internet(
    chromium: Any, live_server: Any, artifacts_dir: Any
) -> None:
    context = chromium.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("button", name="Iniciar sesión").is_visible()
    page.screenshot(path=str(artifacts_dir / "admin-login-360.png"), full_page=True)
    context.close()
    assert outside == []
