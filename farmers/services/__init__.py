"""Writes of the farmers app: registration with deduplication, review, merge, plots, agreements,
verification visits and support. Every write checks the actor's area (``farmers.policies``),
runs in a transaction and leaves history in it.

One module per sub-domain; this package re-exports the public services, so
``from farmers import services; services.household_register(...)`` keeps working:

- ``registration``: ``household_register``, ``household_update``, ``household_transition``;
- ``consent``: ``consent_record`` (a new consent version: withdrawal, narrowing);
- ``dedup``: ID clashes, near matches, ``duplicate_dismiss``;
- ``merge``: ``household_merge``;
- ``plots``: ``plot_create``, ``plot_update``;
- ``agreements``: ``agreement_create``;
- ``visits``: ``verification_create``, ``verification_attach_photo``,
  ``verification_transition``;
- ``appeals``: ``appeal_file``, ``appeal_transition`` (staff uphold or reject);
- ``stage_reviews``: ``appeal_file_now`` (an appeal of what the household is in now);
- ``corrections``: ``correction_propose``, ``correction_transition`` (maker–checker);
- ``exclusions``: ``exclusion_transition`` (staff confirm or dismiss the engine's proposal);
- ``support``: ``support_record``;
- ``training``: ``training_event_create``, ``training_attendees_add``,
  ``training_members_check``, ``practice_record``;
- ``crops``: ``installation_create``, ``installation_transition`` (crop installations);
- ``eradications``: ``eradication_create``, ``eradication_transition``;
- ``enrolment``: ``enrolment_date``, ``require_not_before_enrolment`` (no evidence before it);
- ``rights``: data-subject requests (Law 29733): ``request_register``, ``request_transition``
  (answering applies a rectification, cancellation or opposition), ``request_alerts_sync``;
  ``anonymise``: ``household_anonymise``; ``access_file``: ``access_json``, ``access_xlsx``;
- ``identifiers``: ``identifiers_rotate`` (re-encrypt IDs and phones under a new key, or
  recompute their blind indexes);
- ``suspension``: ``suspension_check`` (409 ``household_suspended`` unless staff override);
- ``cleaning``: input cleaning shared by all of them; ``common``: the household locked for a
  write, the replay check of idempotent creates.
"""

from __future__ import annotations

from registry.choices import Scope
from registry.idempotency import request_hash

from .access_file import access_data, access_json, access_xlsx
from .agreements import agreement_create
from .anonymise import household_anonymise
from .appeals import APPEAL_FLOW, appeal_file, appeal_transition
from .consent import consent_record
from .corrections import CORRECTION_FLOW, correction_propose, correction_transition
from .crops import INSTALLATION_FLOW, installation_create, installation_transition
from .dedup import duplicate_dismiss
from .enrolment import enrolment_date, require_not_before_enrolment
from .eradications import ERADICATION_FLOW, eradication_create, eradication_transition
from .exclusions import EXCLUSION_FLOW, exclusion_transition
from .merge import household_merge
from .plots import plot_create, plot_update
from .registration import (
    CODE_ALPHABET,
    HOUSEHOLD_FLOW,
    household_register,
    household_transition,
    household_update,
)
from .rights import (
    REQUEST_FLOW,
    request_alerts_sync,
    request_due_on,
    request_register,
    request_transition,
)
from .stage_reviews import appeal_file_now
from .support import support_record
from .suspension import SUSPENDED_STAGES, is_suspended, suspension_check
from .training import (
    practice_record,
    training_attendees_add,
    training_event_create,
    training_members_check,
)
from .visits import (
    PHOTO_MAX_BYTES,
    VERIFICATION_FLOW,
    verification_attach_photo,
    verification_create,
    verification_transition,
)

__all__ = [
    "APPEAL_FLOW",
    "CODE_ALPHABET",
    "CORRECTION_FLOW",
    "ERADICATION_FLOW",
    "EXCLUSION_FLOW",
    "HOUSEHOLD_FLOW",
    "INSTALLATION_FLOW",
    "PHOTO_MAX_BYTES",
    "REQUEST_FLOW",
    "SUSPENDED_STAGES",
    "VERIFICATION_FLOW",
    "Scope",
    "access_data",
    "access_json",
    "access_xlsx",
    "agreement_create",
    "appeal_file",
    "appeal_file_now",
    "appeal_transition",
    "consent_record",
    "correction_propose",
    "correction_transition",
    "duplicate_dismiss",
    "enrolment_date",
    "eradication_create",
    "eradication_transition",
    "exclusion_transition",
    "household_anonymise",
    "household_merge",
    "household_register",
    "household_transition",
    "household_update",
    "installation_create",
    "installation_transition",
    "is_suspended",
    "plot_create",
    "plot_update",
    "practice_record",
    "request_alerts_sync",
    "request_due_on",
    "request_hash",
    "request_register",
    "request_transition",
    "require_not_before_enrolment",
    "support_record",
    "suspension_check",
    "training_attendees_add",
    "training_event_create",
    "training_members_check",
    "verification_attach_photo",
    "verification_create",
    "verification_transition",
]
