"""Translations: the Spanish catalogue is complete, its .mo is current, and Spanish is the default.

The .po is read with a tiny standard-library parser (no polib), compiled in memory the way
``msgfmt`` does, and compared with what ``gettext.GNUTranslations`` loads from the committed .mo,
so forgetting ``compilemessages`` after editing the .po fails here (see docs/translations.md).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from rest_framework.exceptions import NotAuthenticated

from registry.choices import Role
from registry.exceptions import PreconditionFailed

CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"
PO_PATH = CATALOGUE_DIR / "django.po"
MO_PATH = CATALOGUE_DIR / "django.mo"
REFRESH = (
    "update the catalogue: makemessages -l es, translate, compilemessages "
    "(see docs/translations.md)"
)

# --- A minimal .po reader ---------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPE_RE = re.compile(r"\\(.)")
_KEYWORD_RE = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
_POT_DATE_RE = re.compile(r"^POT-Creation-Date:.*\n", re.MULTILINE)
_PLACEHOLDER_RE = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%")


@dataclass
class PoEntry:
    """One message of a .po file, with the line where its ``msgid`` starts."""

    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The catalogue key gettext uses: ``context\\x04msgid`` or just ``msgid``."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def where(self) -> str:
        return f"{PO_PATH.name}:{self.line} {self.msgid!r}"


def _unquote(quoted: str) -> str:
    body = quoted.strip()
    assert body.startswith('"') and body.endswith('"'), f"not a quoted string: {quoted!r}"
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body[1:-1])


def parse_po(text: str) -> list[PoEntry]:
    """Parse .po text into entries (obsolete ``#~`` entries are kept but flagged)."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    target: tuple[str, int] | None = None  # the field that continuation lines extend

    def finish() -> None:
        nonlocal entry, target
        if entry is not None and (entry.msgstr or entry.msgid or entry.msgctxt is not None):
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # the previous msgid of an obsolete fuzzy entry
                continue
        elif line.startswith("#"):
            if entry is not None and entry.msgstr:  # a comment after msgstr opens a new entry
                finish()
            if entry is None:
                entry = PoEntry(line=number)
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            assert entry is not None and target is not None, f"stray string at line {number}"
            name, index = target
            value = _unquote(line)
            if name == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif name == "msgid":
                entry.msgid += value
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            else:
                entry.msgstr[index] += value
            continue
        match = _KEYWORD_RE.match(line)
        assert match, f"cannot parse line {number}: {raw!r}"
        keyword, index_text, quoted = match.groups()
        value = _unquote(quoted)
        if keyword in ("msgctxt", "msgid") and entry is not None and entry.msgstr:
            finish()  # entries not separated by a blank line
        if entry is None:
            entry = PoEntry(line=number)
        entry.obsolete = entry.obsolete or obsolete
        if keyword == "msgctxt":
            entry.msgctxt, target = value, ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, entry.line, target = value, number, ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = value, ("msgid_plural", 0)
        else:
            index = int(index_text or 0)
            entry.msgstr[index], target = value, ("msgstr", index)
    finish()
    return entries


def compile_catalogue(entries: list[PoEntry]) -> dict[str | tuple[str, int], str]:
    """What ``msgfmt`` would put in the .mo, keyed the way ``GNUTranslations`` keys it."""
    catalogue: dict[str | tuple[str, int], str] = {}
    for entry in entries:
        is_header = entry.msgid == "" and entry.msgctxt is None
        if entry.obsolete or ("fuzzy" in entry.flags and not is_header):
            continue
        if not all(entry.msgstr.values()):
            continue  # msgfmt leaves untranslated messages out
        if entry.msgid_plural is None:
            catalogue[entry.key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                catalogue[(entry.key, index)] = text
    return catalogue


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    assert PO_PATH.is_file(), f"{PO_PATH} is missing: {REFRESH}"
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


def _messages(entries: list[PoEntry]) -> Iterator[PoEntry]:
    """The live messages (not the header, not obsolete ones)."""
    for entry in entries:
        if not entry.obsolete and (entry.msgid or entry.msgctxt is not None):
            yield entry


def _header(entries: list[PoEntry]) -> dict[str, str]:
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    fields = (line.partition(":") for line in header.msgstr[0].splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, _sep, value in fields}


# --- (a) the catalogue is complete -------------------------------------------------------------


def test_po_parser_reads_multiline_context_and_plural_entries() -> None:
    sample = (
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "tab"\nmsgid ""\n"Two "\n"lines \\"%(x)s\\""\n'
        'msgstr "Dos líneas “%(x)s”"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "uno"\nmsgstr[1] ""\n"muchos"\n\n'
        '#~ msgid "gone"\n#~ msgstr "ido"\n'
    )
    header, contextual, plural, obsolete = parse_po(sample)
    assert header.msgstr == {0: "Language: es\n"}
    assert contextual.flags == {"fuzzy", "python-format"}
    assert contextual.key == 'tab\x04Two lines "%(x)s"'
    assert plural.msgstr == {0: "uno", 1: "muchos"}
    assert obsolete.obsolete
    assert compile_catalogue([header, contextual, plural, obsolete]) == {
        "": "Language: es\n",
        ("one", 0): "uno",
        ("one", 1): "muchos",
    }


def test_po_header_is_spanish_with_spanish_plural_forms(po_entries: list[PoEntry]) -> None:
    header = _header(po_entries)
    assert header["Language"] == "es"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"].startswith("nplurals=")
    assert "fuzzy" not in po_entries[0].flags, "the header is still marked fuzzy"


def test_every_message_is_translated_and_none_is_fuzzy(po_entries: list[PoEntry]) -> None:
    messages = list(_messages(po_entries))
    assert messages, "the catalogue has no messages"
    untranslated = [e.where for e in messages if not e.msgstr or not all(e.msgstr.values())]
    fuzzy = [e.where for e in messages if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}; {REFRESH}"
    assert not fuzzy, f"fuzzy (review them and drop the flag): {fuzzy}"


def test_translations_keep_placeholders_and_typographic_quotes(
    po_entries: list[PoEntry],
) -> None:
    problems = []
    for entry in _messages(po_entries):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        wanted = {p for s in sources for p in _PLACEHOLDER_RE.findall(s)}
        for text in entry.msgstr.values():
            if set(_PLACEHOLDER_RE.findall(text)) != wanted:
                problems.append(f"{entry.where}: placeholders differ in {text!r}")
            for quote in "“”":
                if quote in entry.msgid and quote not in text:
                    problems.append(f"{entry.where}: lost {quote} in {text!r}")
    assert not problems, "\n".join(problems)


# --- (b) the committed .mo matches the .po ------------------------------------------------------


def test_mo_is_compiled_from_the_current_po(po_entries: list[PoEntry]) -> None:
    assert MO_PATH.is_file(), f"{MO_PATH} is missing: run compilemessages and commit it"
    with MO_PATH.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    # The parsed messages live in the instance's ``_catalog`` (what gettext() looks up).
    loaded: dict[str | tuple[str, int], str] = dict(vars(translations)["_catalog"])
    expected = compile_catalogue(po_entries)
    # msgfmt (0.20+) drops the POT-Creation-Date line from the compiled header; ignore it.
    for catalogue in (loaded, expected):
        if "" in catalogue:
            catalogue[""] = _POT_DATE_RE.sub("", catalogue[""])
    missing = sorted(str(k) for k in expected.keys() - loaded.keys())
    extra = sorted(str(k) for k in loaded.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & loaded.keys() if expected[k] != loaded[k])
    assert not (missing or extra or changed), (
        f"the .mo is stale (run compilemessages and commit the .mo): "
        f"missing {missing[:5]}, extra {extra[:5]}, different {changed[:5]}"
    )


# --- (c) our strings follow the active language ------------------------------------------------


def test_our_strings_are_spanish_by_default_and_english_on_request() -> None:
    with translation.override(settings.LANGUAGE_CODE):  # es-pe falls back to the es catalogue
        assert str(Role.FIELD_OFFICER.label) == "Técnico de campo"
    with translation.override("es"):
        assert str(Role.FIELD_OFFICER.label) == "Técnico de campo"
        assert str(Role.PROGRAM_STAFF.label) == "Personal del programa"
        assert PreconditionFailed().detail.startswith("Otra persona modificó el registro")
    with translation.override("en"):
        assert str(Role.FIELD_OFFICER.label) == "Field officer"
        assert PreconditionFailed().detail == (
            "The record was changed by someone else since you read it. Reload it and try again."
        )


# --- (d) the API answers in the caller's language ----------------------------------------------


@pytest.fixture
def plain_client() -> Iterator[Client]:
    """A plain client; the language the middleware activates is undone afterwards."""
    with translation.override(settings.LANGUAGE_CODE, deactivate=True):
        yield Client()


def _single_error(response: Any, status: int) -> dict[str, Any]:
    """The one error of a ``client_error`` body in the documented shape."""
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "client_error"
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert error["attr"] is None
    return error


@pytest.mark.django_db
def test_api_error_detail_is_spanish_by_default(plain_client: Client) -> None:
    response = plain_client.get("/api/v1/districts/")
    error = _single_error(response, 401)
    assert error["code"] == "not_authenticated"
    with translation.override("es"):
        spanish = str(NotAuthenticated.default_detail)
    with translation.override("en"):
        english = str(NotAuthenticated.default_detail)
    assert spanish != english
    assert error["detail"] == spanish
    assert response["Content-Language"] == "es"


@pytest.mark.django_db
def test_api_error_detail_is_english_with_accept_language_en(plain_client: Client) -> None:
    response = plain_client.get("/api/v1/districts/", headers={"accept-language": "en"})
    error = _single_error(response, 401)
    assert error["code"] == "not_authenticated"
    assert error["detail"] == "Authentication credentials were not provided."
    assert response["Content-Language"] == "en"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("authorization", "spanish", "english"),
    [
        (
            "Api-Key ",
            "La cabecera Api-Key no contiene ninguna clave.",
            "The Api-Key header has no key.",
        ),
        ("Api-Key nada.valido", "Clave de API no válida.", "Invalid API key."),
    ],
)
def test_api_key_errors_from_our_catalogue_follow_the_language(
    plain_client: Client, authorization: str, spanish: str, english: str
) -> None:
    def detail(**headers: str) -> Any:
        response = plain_client.get("/api/v1/districts/", headers=headers)
        error = _single_error(response, 401)
        assert error["code"] == "invalid_api_key"
        return error["detail"]

    assert detail(authorization=authorization) == spanish
    assert detail(authorization=authorization, accept_language="en") == english
    assert detail(authorization=authorization, accept_language="es-PE,es;q=0.9") == spanish
