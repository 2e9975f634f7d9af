"""Template helpers of the field pages: errors and values of dotted form fields."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def errors_for(errors: dict[str, list[str]] | None, name: str) -> list[str]:
    """The messages of the field ``name`` (a dotted API path such as ``members.0.surnames``)."""
    return list((errors or {}).get(name, []))


@register.filter
def value_for(values: dict[str, Any] | None, name: str) -> Any:
    """The submitted value of field ``name`` (re-shown after a server-side error)."""
    return (values or {}).get(name, "")


@register.simple_tag
def field_name(prefix: str, index: Any, name: str) -> str:
    """``members`` + 0 + ``surnames`` → ``members.0.surnames``."""
    return f"{prefix}.{index}.{name}"


@register.filter
def stage_reason(code: str) -> str:
    """The transition engine's reason code in words (``farmers.pages.stage``)."""
    from farmers.pages.stage import reason_label

    return reason_label(code)


@register.simple_tag
def evidence_lines(evidence: Any, show_coca: Any) -> list[tuple[str, str]]:
    """An evidence summary as labelled lines; coca figures only when ``show_coca``."""
    from farmers.pages.stage import evidence_rows

    return evidence_rows(evidence, show_coca=bool(show_coca))


@register.filter
def correction_value(value: Any, field: str) -> str:
    """A visit correction's old or new value, formatted for people (``farmers.pages.stage``)."""
    from farmers.pages.stage import correction_value as formatted

    return formatted(value, field)
