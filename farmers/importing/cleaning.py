"""Cleaning the cells of an import file: text, ubigeos and DNIs that lost their leading zeros,
coded values in Spanish, and dates in the formats spreadsheets produce."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Any

from ..choices import DocumentType
from .columns import _slug


def _text(value: Any) -> str:
    """A cell as text: whole-number floats lose their ``.0``; whitespace collapses."""
    if type(value) is str:  # every cell of a CSV file
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _lower_text(value: Any) -> str:
    return _text(value).lower()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_UBIGEO_PICKED_RE = re.compile(r"(\d{5,6})\s*[·\-–—:|]\s*\S.*")


def _district(value: Any) -> str:
    """Ubigeos lose their leading zero in spreadsheets (``80910``): put it back. The template's
    drop-down writes ``080910 · Pichari``: the ubigeo counts."""
    text = _text(value)
    if match := _UBIGEO_PICKED_RE.fullmatch(text):
        text = match.group(1)
    if text.isdigit() and len(text) == 5:
        return text.zfill(6)
    return text


def _document_number(value: Any, document_type: str) -> str:
    """A number cell holding a DNI lost its leading zeros: put them back (text cells are kept)."""
    text = _text(value)
    if _is_number(value) and document_type == DocumentType.DNI and text.isdigit():
        return text.zfill(8)
    return text


def _coded(value: Any, aliases: dict[str, str]) -> str:
    text = _text(value)
    return str(aliases.get(_slug(text), text))


_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")
_DMY_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: Any) -> date | None:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or a real spreadsheet date; ``None`` when blank.

    Raises ``ValueError`` for anything else (including impossible dates like 30/02/1980).
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(_text(value))


@functools.lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> date | None:
    # Cached: an import's dates repeat (a ``ValueError`` is raised again each time).
    if not text:
        return None
    if match := _ISO_DATE_RE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return date(year, month, day)
    if match := _DMY_DATE_RE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    raise ValueError(text)


def _date_key(value: Any) -> str:
    try:
        parsed = parse_date(value)
    except ValueError:
        return _text(value)
    return parsed.isoformat() if parsed else ""


def split_purposes(text: str, aliases: dict[str, str]) -> list[str]:
    """The consent purposes of a cell: codes or labels separated by commas, semicolons or bars
    (a label holding a comma, e.g. the drop-down's "(contratos, EUDR)", is kept whole)."""
    found: list[str] = []
    for part in (p.strip() for p in re.split(r"[;|]", text)):
        if not part:
            continue
        if _slug(part) in aliases:
            found.append(aliases[_slug(part)])
            continue
        found.extend(
            aliases.get(_slug(piece), piece.strip()) for piece in part.split(",") if piece.strip()
        )
    return found
