#!/usr/bin/env python3
"""Production smoke test: the Procfile's release step, then gunicorn under production settings.

Runs ``migrate`` and ``collectstatic`` (WhiteNoise's manifest storage) into a temporary
STATIC_ROOT, starts gunicorn on a free port of 127.0.0.1 and checks, as a browser behind the TLS
proxy would see them (``X-Forwarded-Proto: https``), one admin page, one field page and the API
docs, each with a static file it references, and the security headers.

    .venv/bin/python .ci/smoke_production.py            # temporary SQLite database
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python .ci/smoke_production.py

Standard library only; exits non-zero with the failing check.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = os.environ.get("PYTHON", str(ROOT / ".venv/bin/python"))
HOST = "registry.example.org"
USERNAME = "ci-smoke-admin"
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """Just enough of a browser: cookies by name (Secure ones too: TLS is the proxy's job)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "Accept-Language": "es"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}"
            headers["Referer"] = f"https://{HOST}{path}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        conn.close()
        return result


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.stderr.write(f"FAIL: {message}\n")
        raise SystemExit(1)
    say(f"ok   {message}")


def directives(policy: str) -> dict[str, str]:
    """``"default-src 'self'; img-src 'self' data:"`` → ``{"default-src": "'self'", ...}``."""
    pairs = (part.strip().partition(" ") for part in policy.split(";") if part.strip())
    return {name: value for name, _sep, value in pairs}


def check_page(browser: Browser, path: str, asset_prefix: str, status: int = 200) -> str:
    """The page answers ``status`` with the security headers, and the first static file under
    ``asset_prefix`` it references is served, hashed, from the collected files."""
    code, headers, html = browser.request("GET", path)
    check(code == status, f"GET {path} → {code} (expected {status})")
    csp = directives(headers.get("content-security-policy", ""))
    script_src = csp.get("script-src", "")
    check(
        csp.get("default-src") == "'self'" and "unsafe-inline" not in script_src,
        f"{path} Content-Security-Policy (script-src {script_src})",
    )
    policy = headers.get("permissions-policy", "")
    check("geolocation=(self)" in policy, f"{path} Permissions-Policy")
    check(headers.get("x-frame-options") == "DENY", f"{path} X-Frame-Options")
    check("max-age=" in headers.get("strict-transport-security", ""), f"{path} HSTS")
    match = re.search(r'(?:href|src)="(/static/' + re.escape(asset_prefix) + r'[^"?]*)"', html)
    check(match is not None, f"{path} references /static/{asset_prefix}…")
    assert match is not None
    asset = match.group(1)
    check(bool(HASHED.search(asset)), f"{asset} is the hashed (manifest) name")
    code, headers, _body = browser.request("GET", asset)
    check(code == 200, f"GET {asset} → {code}")
    check("max-age=315360000" in headers.get("cache-control", ""), f"{asset} cached forever")
    return html


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="registry-smoke-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "smoke-" + secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_STATIC_ROOT": str(work / "static"),
        "DJANGO_MEDIA_ROOT": str(work / "media"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'db.sqlite3'}",
        # Production has no development identifier keys (docs/data-protection.md).
        "IDENTIFIER_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "IDENTIFIER_INDEX_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    env.pop("API_DOCS_PUBLIC", None)  # the production default: docs behind login
    password = secrets.token_urlsafe(24)
    server: subprocess.Popen[bytes] | None = None

    def manage(*args: str) -> None:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603

    try:
        # The Procfile's release step.
        manage("migrate", "--noinput", "-v", "0")
        manage("collectstatic", "--noinput", "-v", "0")
        say(f"ok   release step (migrate + collectstatic into {work / 'static'})")
        manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth import get_user_model; U = get_user_model(); "
            f"u, _ = U.objects.get_or_create(username={USERNAME!r}); "
            "u.is_staff = u.is_superuser = u.is_active = True; "
            f"u.set_password({password!r}); u.save()",
        )
        port = free_port()
        gunicorn = [str(Path(PY).parent / "gunicorn"), "config.wsgi", "--workers", "2"]
        server = subprocess.Popen(  # noqa: S603
            [*gunicorn, "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        browser = Browser(port)
        for _ in range(60):
            try:
                if browser.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        check(browser.request("GET", "/healthz")[0] == 200, "gunicorn answers /healthz")

        # Anonymous: the login pages and their static files; the docs ask for a login.
        html = check_page(browser, "/admin/login/", "admin/css/")
        check_page(browser, "/campo/ingresar/", "field/field.")
        code, headers, _ = browser.request("GET", "/api/v1/docs/")
        check(code == 302 and "/login/" in headers.get("location", ""), "docs need a login")
        code, _, _ = browser.request("GET", "/api/v1/schema/")
        check(code in (401, 403), f"schema needs a login or a key ({code})")

        # Signed in through the admin's form (CSRF over "HTTPS", as behind the proxy).
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        check(token is not None, "login form has a CSRF token")
        assert token is not None
        form = {"csrfmiddlewaretoken": token.group(1), "username": USERNAME, "password": password}
        code, headers, _ = browser.request("POST", "/admin/login/?next=/admin/", form)
        check(code == 302 and headers.get("location") == "/admin/", f"admin login → {code}")
        check_page(browser, "/admin/", "admin/css/")
        check_page(
            browser, "/api/v1/docs/", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle"
        )
        check_page(browser, "/api/v1/redoc/", "drf_spectacular_sidecar/redoc/")
        code, _, _ = browser.request("GET", "/api/v1/docs/?script=")
        check(code == 200, f"Swagger UI's initialiser script → {code}")
        code, _, schema = browser.request("GET", "/api/v1/schema/?format=json")
        check(code == 200 and '"openapi"' in schema, f"schema signed in → {code}")
        say("smoke test passed")
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if os.environ.get("DATABASE_URL"):
            manage(
                "shell",
                "--no-imports",
                "-c",
                "from django.contrib.auth import get_user_model; "
                f"get_user_model().objects.filter(username={USERNAME!r}).delete()",
            )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
