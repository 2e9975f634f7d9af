"""Models of the registry kernel: geography, organizations, programmes, people, keys, history,
alerts, the outbox and webhooks, one module each; the abstract record bases in ``bases``.
Everything is importable from ``registry.models``."""

from .alerts import Alert
from .audit import AccessLog, ChangeRecord
from .bases import (
    CreatedByModel,
    IdempotentModel,
    TimestampedModel,
    VersionedModel,
    VersionedQuerySet,
    by_column,
    by_key_column,
    district_column,
    next_version,
    optional_reference,
    program_column,
    reference,
)
from .exports import ExportFormat, ExportJob
from .funding import FundingAgreement, agreement_reference, funder_reference
from .geography import Department, District, Province
from .jobs import BackgroundJob, JobStatus
from .organizations import ApiKey, Membership, Organization, Program
from .outbox import OutboxMessage
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "AccessLog",
    "Alert",
    "ApiKey",
    "BackgroundJob",
    "ChangeRecord",
    "CreatedByModel",
    "Department",
    "District",
    "ExportFormat",
    "ExportJob",
    "FundingAgreement",
    "IdempotentModel",
    "JobStatus",
    "Membership",
    "Organization",
    "OutboxMessage",
    "Program",
    "Province",
    "TimestampedModel",
    "VersionedModel",
    "VersionedQuerySet",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "agreement_reference",
    "by_column",
    "by_key_column",
    "district_column",
    "funder_reference",
    "next_version",
    "optional_reference",
    "program_column",
    "reference",
]
