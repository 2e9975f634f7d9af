"""Helpers of the field pages' browser tests: sign in, accessibility check, screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.field.conftest import PASSWORD

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
WIDE = {"width": 1280, "height": 900}


def phone_context(chromium: Any, **kwargs: Any) -> Any:
    """A phone-sized browser context with the GPS allowed. Its ``close()`` first waits for the
    requests in flight (the service worker's included), so that none reaches the live server
    after the test."""
    import time

    context = chromium.new_context(
        viewport=PHONE, locale="es-PE", permissions=["geolocation"], **kwargs
    )
    context.set_default_timeout(15_000)
    in_flight: set[Any] = set()
    context.on("request", lambda request: in_flight.add(request))
    context.on("requestfinished", lambda request: in_flight.discard(request))
    context.on("requestfailed", lambda request: in_flight.discard(request))
    close = context.close

    def settle_and_close() -> None:
        deadline = time.monotonic() + 5
        while in_flight and time.monotonic() < deadline and context.pages:
            context.pages[0].wait_for_timeout(100)
        close()

    context.close = settle_and_close
    return context


def sign_in(page: Any, live_server: Any, username: str) -> None:
    """Sign in through the field login page."""
    page.goto(f"{live_server.url}/campo/ingresar/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campo/")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious or critical accessibility violations on the current page."""
    # Served from the page's own origin: the Content-Security-Policy refuses inline scripts.
    from urllib.parse import urlsplit

    parts = urlsplit(page.url)
    axe_url = f"{parts.scheme}://{parts.netloc}/__test-axe.min.js"
    page.route(
        axe_url,
        lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"),
    )
    page.add_script_tag(url=axe_url)
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def check_page(page: Any, artifacts_dir: Path, name: str) -> None:
    """Screenshot the page at phone size and assert it has no serious accessibility problem."""
    page.screenshot(path=str(artifacts_dir / f"campo-{name}-360.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], f"{name}: {violations}"


def check_sizes(page: Any, artifacts_dir: Path, name: str) -> None:
    """``check_page`` at phone size, then the same page at 1280 px wide (screenshot
    ``campo-<name>-1280.png``, axe-core again), back to phone size."""
    check_page(page, artifacts_dir, name)
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(300)  # the map redraws at the new size
    page.screenshot(path=str(artifacts_dir / f"campo-{name}-1280.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], f"{name} (1280 px): {violations}"
    page.set_viewport_size(PHONE)


def outbox_rows(page: Any) -> list[dict[str, Any]]:
    """The records waiting in the phone's outbox (IndexedDB)."""
    rows: list[dict[str, Any]] = page.evaluate("() => window.FieldOutbox.all()")
    return rows


def wait_outbox(page: Any, condition: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Poll the outbox until the JS ``condition`` on its rows (``rows => bool``) holds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        rows = outbox_rows(page)
        if page.evaluate(f"rows => ({condition})(rows)", rows):
            return rows
        assert time.monotonic() < deadline, f"outbox never reached {condition}: {rows}"
        page.wait_for_timeout(200)


ALL_SENT = "rows => rows.length > 0 && rows.every(r => r.status === 'sent')"
ALL_FILES_SENT = "rows => rows.every(r => r.status === 'sent' && r.files.every(f => f.sent))"


def wait_cached(page: Any, path: str, timeout: float = 15.0) -> None:
    """Wait until the service worker has cached the page ``path`` (for use offline)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate("path => caches.match(path).then(hit => !!hit)", path):
        assert time.monotonic() < deadline, f"{path} never cached"
        page.wait_for_timeout(200)


def fill_member(page: Any, index: int, member: dict[str, str]) -> None:
    for name, value in member.items():
        selector = f"[name='members.{index}.{name}']"
        if name in ("sex", "relationship", "document_type"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


HEAD = {
    "given_names": "Rosa",
    "surnames": "Huamán Ccori",
    "document_number": "20304050",
    "birth_date": "1985-03-12",
    "sex": "f",
    "relationship": "head",
}
SPOUSE = {
    "given_names": "Julio",
    "surnames": "Pari Condori",
    "document_number": "30405060",
    "birth_date": "1983-07-30",
    "sex": "m",
    "relationship": "spouse",
}


def register(page: Any, head: dict[str, str], spouse: dict[str, str] | None = None) -> None:
    """Go through the wizard on the register page already open."""
    page.fill("#community", "Natividad")
    page.click("[data-step='1'] [data-next]")
    fill_member(page, 0, head)
    if spouse:
        page.click("[data-add-member]")
        fill_member(page, 1, spouse)
    page.click("[data-step='2'] [data-next]")
    page.click("[data-step='3'] button[type=submit]")
