"""ETags on single objects: an opaque tag that changes whenever the representation does;
``If-None-Match`` gives 304 while it holds, ``If-Match`` on writes gives 412 once it is stale."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from registry.exceptions import PreconditionFailed

# ``"<version>-<digest>"`` for versioned records, ``"<digest>"`` otherwise.
_VERSIONED = re.compile(r'^"(\d+)-[0-9a-f]+"$')


def representation_digest(data: Any) -> str:
    """A stable digest of a serialized representation (key order does not matter)."""
    encoded = json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def etag_for(instance: Any, data: Any) -> str:
    """A strong, opaque ETag for ``data``, the representation of ``instance`` being sent.

    It is a digest of the whole representation, so it changes whenever anything a client sees
    changes, including fields the transition engine writes without touching ``version``
    (``stage``, ``milestones``) and computed ones. Versioned records prefix it with their
    version, which writes hand to the service as its locked optimistic-concurrency check.
    """
    digest = representation_digest(data)
    version = getattr(instance, "version", None)
    if version is not None:
        return f'"{version}-{digest[:24]}"'
    return f'"{digest[:32]}"'


def not_modified(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (it may list several tags)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    return any(tag.removeprefix("W/") == etag for tag in tags)


def conditional_response(request: Request, data: Any, etag: str) -> Response:
    """304 without a body when the client's copy is current, else 200 with ``data``."""
    if not_modified(request, etag):
        return Response(status=304, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})


def expected_version(request: Request, current: Callable[[], str]) -> int | None:
    """The version to hold a write to, from ``If-Match`` (``None`` when absent or ``*``).

    ``current`` gives the ETag of the representation as it is now (computed only when the
    header is sent). A tag that is not exactly the current one is stale: 412, nothing written.
    The version it carries is returned so that the service re-checks it under the row lock.
    A weak tag is a 400.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip()
    if value.startswith("W/"):
        raise exceptions.ValidationError(
            {"If-Match": [_("Use the strong ETag returned by GET.")]}, code="invalid"
        )
    match = _VERSIONED.match(value)
    if match is None or value != current():
        raise PreconditionFailed()
    return int(match.group(1))


class ETagMixin:
    """ETag handling for a viewset: ``retrieve`` with ``If-None-Match``, ``if_match()`` for
    writes and ``etag_of()`` for the responses to writes, all from one representation.

    ``detail_serializer_class`` (default: the viewset's serializer) is the representation a GET
    of one object returns; override ``representation()`` when it is built differently.
    """

    detail_serializer_class: Any = None

    def representation(self, instance: Any) -> Any:
        """What GET of ``instance`` returns (the body its ETag is computed from)."""
        serializer_class = self.detail_serializer_class or self.get_serializer_class()  # type: ignore[attr-defined]
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        return serializer_class(instance, context=context).data

    def etag_of(self, instance: Any) -> str:
        """The ETag GET of ``instance`` would return now."""
        return etag_for(instance, self.representation(instance))

    def if_match(self, instance: Any) -> int | None:
        """``expected_version`` for a write to ``instance``: 412 unless ``If-Match`` is the
        ETag of its current representation."""
        return expected_version(self.request, lambda: self.etag_of(instance))  # type: ignore[attr-defined]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        data = self.representation(instance)
        return conditional_response(request, data, etag_for(instance, data))
