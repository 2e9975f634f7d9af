"""Admin for the registry kernel, in Spanish: geography, organizations, programmes, people, keys,
the audit trail, alerts and webhooks (one module each); the shared pieces live in ``base`` (capped
changelists in ``registry.admin_toolkit``) and are re-exported here for the other apps' admins
(``from registry.admin import request_actor``).
"""

from ..admin_toolkit import (
    CappedCountPaginator,
    DecimalCommaField,
    KeysFirstPaginator,
    LargeTableAdmin,
)
from . import alerts, audit, exports, geography, organizations, people, webhooks
from .base import (
    ACTOR_ATTRIBUTE,
    DecimalCommaAdmin,
    NoDeleteAdmin,
    ProgrammeSettingsAdmin,
    ReadOnlyAdmin,
    VersionedAdmin,
    VersionedForm,
    autocomplete_source,
    denied_as_form_error,
    request_actor,
)

__all__ = [
    "ACTOR_ATTRIBUTE",
    "CappedCountPaginator",
    "DecimalCommaAdmin",
    "DecimalCommaField",
    "KeysFirstPaginator",
    "LargeTableAdmin",
    "NoDeleteAdmin",
    "ProgrammeSettingsAdmin",
    "ReadOnlyAdmin",
    "VersionedAdmin",
    "VersionedForm",
    "alerts",
    "audit",
    "autocomplete_source",
    "denied_as_form_error",
    "exports",
    "geography",
    "organizations",
    "people",
    "request_actor",
    "webhooks",
]
