"""Plain Django views of the kernel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means not ready
        return "error"
    return "ok"


def _cache() -> str:
    try:
        cache.set("healthz", "1", 5)
        return "ok" if cache.get("healthz") == "1" else "error"
    except Exception:  # noqa: BLE001 - the cache is optional: degraded, not down
        return "error"


def _broker() -> str:
    """``in_process`` when tasks run eagerly (embedded default), else whether it connects."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        return "in_process"
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception:  # noqa: BLE001
        return "error"
    return "ok"


def _outbox() -> dict[str, Any]:
    from registry.outbox import backlog

    try:
        pending = backlog()
    except Exception:  # noqa: BLE001
        return {"status": "error", "pending": None, "oldest_pending_seconds": None}
    age = pending.oldest_age_seconds()
    late = age is not None and age > settings.OUTBOX_BACKLOG_WARN_SECONDS
    return {
        "status": "backlog" if late else "ok",
        "pending": pending.pending,
        "oldest_pending_seconds": age,
    }


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers, and what is degraded (docs/outbox.md).

    200 ``ok`` when everything answers; 200 ``degraded`` when the database works but the cache,
    the broker or the outbox does not keep up (the registry serves and keeps every write);
    503 ``error`` when the database does not answer.
    """
    database = _database()
    body: dict[str, Any] = {
        "database": database,
        "cache": _cache(),
        "broker": _broker(),
        "outbox": _outbox() if database == "ok" else {"status": "error"},
    }
    if database != "ok":
        status = "error"
    elif body["cache"] == "error" or body["broker"] == "error" or body["outbox"]["status"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse({"status": status, **body}, status=503 if status == "error" else 200)


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``: browsers ask for it on every site; it is the registry's SVG icon."""
    response = HttpResponseRedirect(static("registry/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
