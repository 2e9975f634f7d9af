"""Values as people read them in the admin and the pages: dates as dd/mm/aaaa, numbers with the
decimal comma, choice codes as their labels and history entries in words. Presentation only:
nothing here decides anything, and no code (slug, JSON, UUID) reaches a reader through it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "CHANNELS",
    "change_lines",
    "channel_label",
    "choice_label",
    "choice_labels",
    "choice_options",
    "day",
    "moment",
    "number",
    "value_words",
]

EMPTY = "—"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Where a change came from (``ChangeRecord.channel``).
CHANNELS: dict[str, Any] = {
    "admin": gettext_lazy("administration"),
    "api": gettext_lazy("API"),
    "web": gettext_lazy("field pages"),
    "system": gettext_lazy("the system"),
    "command": gettext_lazy("command"),
    "import": gettext_lazy("import"),
    "merge": gettext_lazy("merge"),
    "demo": gettext_lazy("demo data"),
    "seed": gettext_lazy("demo data"),
    "sync": gettext_lazy("field app (offline)"),
}


def day(value: Any) -> str:
    """A date (or a datetime, or an ISO date string) as dd/mm/aaaa; ``—`` when empty."""
    if value in (None, ""):
        return EMPTY
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def moment(value: datetime | None) -> str:
    """A moment in local time as dd/mm/aaaa hh:mm."""
    if value is None:
        return EMPTY
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def number(value: Any, places: int = 2) -> str:
    """A number with the local decimal separator (``1,50`` in Spanish) and ``places`` decimals."""
    if value in (None, ""):
        return EMPTY
    try:
        return str(number_format(value, decimal_pos=places, use_l10n=True))
    except (TypeError, ValueError):
        return str(value)


_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def value_words(value: Any) -> str:
    """One value of a JSON document (an alert's details) as a reader reads it: yes/no, decimals
    with the local separator, dates as dd/mm/aaaa, lists joined by commas; an id (a UUID) is
    no word for anyone: empty."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(shown for shown in (value_words(v) for v in value) if shown)
    if isinstance(value, dict):
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _UUID.match(text):
        return ""
    if isinstance(value, float) or _DECIMAL.match(text):
        places = len(text.partition(".")[2]) if "." in text else 2
        return number(text, min(places, 2))
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return day(text)
    return text


def choice_label(value: Any, choices: Any) -> str:
    """The label of one code of ``choices`` (a ``TextChoices`` or ``(value, label)`` pairs)."""
    pairs = dict(getattr(choices, "choices", choices))
    return str(pairs.get(value, value)) if value not in (None, "") else EMPTY


def choice_labels(values: Iterable[Any] | None, choices: Any) -> str:
    """A list of codes (a JSON field such as a consent's purposes) as their labels, comma
    separated; ``—`` when empty."""
    pairs = dict(getattr(choices, "choices", choices))
    shown = [str(pairs.get(v, v)) for v in values or []]
    return ", ".join(shown) if shown else EMPTY


def choice_options(choices: Any) -> str:
    """Every option of ``choices`` (a ``TextChoices``, ``(value, label)`` pairs or a mapping of
    them) by its label, quoted, as a person picks it: "“Mujer”, “Hombre”". For error messages
    that say what may be chosen: the codes are the API's business (its schema lists them)."""
    pairs = getattr(choices, "choices", choices)
    if isinstance(pairs, Mapping):
        pairs = pairs.items()
    return ", ".join(f"“{label}”" for _value, label in pairs)


def channel_label(channel: str) -> str:
    """Where a change came from, in words."""
    return str(CHANNELS.get(channel, channel))


def _field_value(field: models.Field[Any, Any] | None, value: Any) -> str:
    if value in (None, "", [], {}):
        return EMPTY
    if field is not None and field.choices:
        return choice_label(value, field.flatchoices)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_field_value(None, v) for v in value)
    if isinstance(value, dict):
        return _("updated")
    text = str(value)
    if _UUID.match(text) or (field is not None and field.is_relation):
        return _("changed")
    if isinstance(field, (models.DateField,)) or re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return day(text)
    if isinstance(field, models.DecimalField):
        return number(text, field.decimal_places or 2)
    return text


def change_lines(
    model: type[models.Model] | None,
    changes: Mapping[str, Any] | None,
    labels: Mapping[str, Any] | None = None,
    lines_for: Mapping[str, Callable[[Any], str]] | None = None,
) -> list[str]:
    """A history entry's ``{field: [old, new]}`` in words: "Status: Draft → Submitted", with the
    fields' verbose names and the choices' labels. ``labels`` names keys that are not fields;
    ``lines_for`` says in words what a key that is not a field recorded (its whole line)."""
    by_name: dict[str, models.Field[Any, Any]] = {}
    if model is not None:
        for concrete in model._meta.concrete_fields:
            by_name[concrete.name] = concrete
            by_name[concrete.attname] = concrete
    lines: list[str] = []
    for key, change in (changes or {}).items():
        if lines_for and key in lines_for:
            lines.append(lines_for[key](change))
            continue
        field = by_name.get(key)
        label = (labels or {}).get(key) or (field.verbose_name if field is not None else None)
        if label is None:
            label = key.replace("_", " ")
        if isinstance(change, (list, tuple)) and len(change) == 2:
            old, new = change
            lines.append(
                f"{str(label)[:1].upper()}{str(label)[1:]}: "
                f"{_field_value(field, old)} → {_field_value(field, new)}"
            )
        else:
            lines.append(f"{str(label)[:1].upper()}{str(label)[1:]}: {_field_value(field, change)}")
    return lines
