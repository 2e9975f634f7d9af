"""What a person reads on an admin page, and the codes that must never be part of it: the
``TextChoices`` values whose label differs from the value (``partner_sharing``, ``draft``,
``coffee_parchment``), UUIDs, JSON and ISO dates."""

from __future__ import annotations

import importlib
import re
from html.parser import HTMLParser

from django.db import models
from django.utils import translation

APPS = ("registry", "farmers", "titles", "markets")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
ISO_DATE = re.compile(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?![\w-])")
JSON = re.compile(r"[\[{]\s*\"")


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def known_slugs() -> set[str]:
    """Every choice value of the four apps whose Spanish label is not the value itself (case
    aside): what a Spanish page must never show. Values shorter than 4 characters without an
    underscore (``f``, ``m``, ``dni``) are left out: they are parts of ordinary words."""
    for app in APPS:
        importlib.import_module(f"{app}.choices")
    slugs: set[str] = set()
    with translation.override("es"):
        for cls in _subclasses(models.TextChoices):
            if cls.__module__.split(".")[0] not in APPS:
                continue
            for value, label in cls.choices:  # type: ignore[attr-defined]
                if str(label).lower() != str(value).lower() and (len(value) >= 4 or "_" in value):
                    slugs.add(value)
    return slugs


class _Text(HTMLParser):
    """The text nodes of a page (no attributes, scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " | ".join(parser.parts)


def codes_in(html: str, slugs: set[str]) -> list[str]:
    """The codes a person would read on the page (empty when there are none)."""
    text = visible_text(html)
    # A slug after a dot is a file name's extension ("errores.xlsx", "(.csv)"), not a code.
    found = [
        f"slug {s!r}"
        for s in sorted(slugs)
        if re.search(r"(?<![\w.-])" + re.escape(s) + r"(?![\w-])", text)
    ]
    found += [f"UUID {u}" for u in UUID.findall(text)[:3]]
    found += [f"ISO date {d}" for d in ISO_DATE.findall(text)[:3]]
    found += [f"JSON {j!r}" for j in JSON.findall(text)[:3]]
    return found


def context_of(html: str, needle: str, width: int = 120) -> str:
    text = visible_text(html)
    at = text.find(needle.split(" ", 1)[-1].strip("'"))
    return text[max(0, at - width) : at + width] if at >= 0 else ""
