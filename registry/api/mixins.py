"""ETags on single objects; ``If-Match`` on writes gives 412 when the client's copy is stale."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from registry.exceptions import PreconditionFailed


def etag_for(instance: Any, data: Any = None) -> str:
    """A strong ETag: the record's version when it has one, else a hash of its representation."""
    version = getattr(instance, "version", None)
    if version is not None:
        return f'"{version}"'
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def expected_version(request: Request) -> int | None:
    """The version named by ``If-Match`` (``None`` when absent or ``*``); 400 when malformed."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip()
    if value.startswith("W/"):
        raise exceptions.ValidationError(
            {"If-Match": [_("Use the strong ETag returned by GET.")]}, code="invalid"
        )
    value = value.strip('"')
    if not value.isdigit():
        raise PreconditionFailed()
    return int(value)


class ETagMixin:
    """Adds ``ETag`` to retrieve responses and honours ``If-None-Match`` with a 304."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        etag = etag_for(instance, data)
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})
