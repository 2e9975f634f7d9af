""" "Who read what between two times": the access log as a breach-notice report.

Peru's data-protection regulation (DS 016-2024-JUS) asks that a breach be notified within 48
hours, naming the data and the people affected; the access log (``registry.models.AccessLog``)
records every partner read of personal data and every read of coca data. :func:`access_rows`
turns the rows of a period (optionally one organization) into flat lines, and :func:`write_csv`
writes them (UTF-8 with a BOM so a spreadsheet opens accents right; Lima times). Used by
``python manage.py access_report`` and the access log's admin action.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AccessLog

CHUNK = 2000


def access_rows(
    *,
    start: datetime,
    end: datetime,
    organization: str | None = None,
    logs: QuerySet[AccessLog] | None = None,
) -> Iterator[dict[str, Any]]:
    """The reads logged from ``start`` (inclusive) to ``end`` (exclusive), oldest first, as
    flat lines: when, organization, who (person or key), resource, how many records and which,
    which fields, the request. ``logs`` narrows the rows first (an admin's scope)."""
    rows = (logs if logs is not None else AccessLog.objects.all()).filter(at__gte=start, at__lt=end)
    if organization:
        rows = rows.filter(organization__code=organization)
    rows = rows.select_related("organization", "created_by", "created_by_key").order_by("at", "id")
    for log in rows.iterator(chunk_size=CHUNK):
        who = (
            log.created_by.get_username()
            if log.created_by is not None
            else (f"api-key:{log.created_by_key.prefix}" if log.created_by_key else "")
        )
        yield {
            "at": timezone.localtime(log.at).strftime("%d/%m/%Y %H:%M:%S"),
            "organization": log.organization.code if log.organization else "",
            "who": who,
            "resource": log.resource,
            "records": len(log.object_ids),
            "record_ids": " ".join(str(i) for i in log.object_ids),
            "fields": " ".join(log.fields),
            "request": log.path,
        }


def write_csv(lines: Iterator[dict[str, Any]], out: Any) -> int:
    """Write ``lines`` as CSV with Spanish headers to ``out`` (a text file or an HTTP
    response); returns how many lines were written."""
    headers = {
        "at": _("when (Lima)"),
        "organization": _("organization"),
        "who": _("who"),
        "resource": _("resource"),
        "records": _("records read"),
        "record_ids": _("record ids"),
        "fields": _("fields"),
        "request": _("request"),
    }
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(headers))
    writer.writerow(headers)
    n = 0
    for line in lines:
        writer.writerow(line)
        n += 1
    return n
