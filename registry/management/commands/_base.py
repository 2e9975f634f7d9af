"""Shared helpers for the kernel's management commands."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def validation_to_command_error(exc: ValidationError) -> CommandError:
    """A readable one-line-per-field message for a command's bad arguments."""
    if hasattr(exc, "error_dict"):
        lines = [
            f"{field}: {' '.join(str(m) for e in errors for m in e.messages)}"
            for field, errors in exc.error_dict.items()
        ]
    else:
        lines = [" ".join(exc.messages)]
    return CommandError("; ".join(lines))


def split_csv(value: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
