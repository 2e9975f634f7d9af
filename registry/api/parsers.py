"""The API's JSON parser: DRF's, with a bound on nesting so no body can exhaust the stack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# No request of the API nests deeper than a GeoJSON MultiPolygon inside a plot (about 6 levels).
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` nests objects and arrays more than ``limit`` levels deep (iteratively)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """JSON bodies nested more than ``MAX_JSON_DEPTH`` levels (or deep enough to exhaust the
    parser's recursion) are a 400 ``parse_error``, like any other malformed JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        too_deep = exceptions.ParseError(
            _("JSON parse error - nested more than %(limit)s levels deep.")
            % {"limit": MAX_JSON_DEPTH},
            code="parse_error",
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise too_deep from exc
        if json_depth_exceeds(data):
            raise too_deep
        return data
