"""System checks of the registry's own settings (``manage.py check``, ``check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .crypto import IdentifierKeyError, configured_keys


@register(Tags.security, deploy=True)
def identifier_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Production needs its own identifier keys: the development keys are public (they are
    derived from a constant in the source), so IDs and phones under them are not protected."""
    try:
        keys, index_key = configured_keys()
    except IdentifierKeyError as exc:
        return [Error(str(exc), id="registry.E101")]
    messages: list[CheckMessage] = []
    if not keys:
        messages.append(
            Error(
                "IDENTIFIER_ENCRYPTION_KEYS is not set: national IDs and phones would be "
                "encrypted with the public development key.",
                hint="Generate a key (docs/data-protection.md) and set it in the environment.",
                id="registry.E102",
            )
        )
    if index_key is None:
        messages.append(
            Error(
                "IDENTIFIER_INDEX_KEY is not set: blind indexes would use the public "
                "development key.",
                hint="Generate a separate key (docs/data-protection.md).",
                id="registry.E103",
            )
        )
    if index_key is not None and index_key in keys:
        messages.append(
            Error(
                "IDENTIFIER_INDEX_KEY must differ from every IDENTIFIER_ENCRYPTION_KEYS key.",
                id="registry.E104",
            )
        )
    if getattr(settings, "IDENTIFIER_DEV_KEYS_ALLOWED", False):
        messages.append(
            Warning(
                "IDENTIFIER_DEV_KEYS_ALLOWED is on: without keys, the development keys are used.",
                id="registry.W101",
            )
        )
    return messages
