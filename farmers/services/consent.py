"""Consent versions (issue 19, point 2): a family withdraws, narrows or widens its consent
by signing a new version. What partners may see follows the current version at once
(``farmers.consent``): lists, details, exports, webhooks and EUDR files read it on every
request."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import webhooks
from registry.actors import Actor
from registry.choices import ChangeAction, WebhookEventType
from registry.display import choice_options
from registry.history import change_record

from ..choices import ConsentPurpose
from ..models import Consent, Household
from ..transition import recompute_on_commit
from .common import _household_for_write

DEFAULT_NOTICE = "2025-1"


def _current(household: Household) -> Consent | None:
    return household.consents.order_by("-signed_on", "-created_at", "-id").first()


@transaction.atomic
def consent_record(
    *,
    actor: Actor,
    household: Household | Any,
    purposes: list[str],
    signed_on: date | None = None,
    reason: str = "",
    notice_version: str = "",
    language: str = "",
    channel: str = "api",
    cause: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> Consent:
    """Record a new version of a household's consent (who: ``actor``; when: now; signed on
    ``signed_on``, default today): ``purposes`` replace the current ones, an empty list
    withdraws every purpose. The household becomes a new version (its ``updated_at`` moves, so
    partners syncing with ``updated_after`` see the change) and the history keeps the change
    (``cause``: what it answers, e.g. a data-subject request; ``detail``: added to the
    consent's entry) and a ``household.consent_changed`` webhook event is written with it. The
    stage is recomputed after the commit: a family that withdrew every
    purpose has no consent for the engine's enrolment rule.

    Field errors: ``purposes`` (unknown purpose), ``signed_on`` (in the future, or before the
    current version's date), ``reason`` (required: why the consent changed)."""
    locked = _household_for_write(
        actor, household.pk if isinstance(household, Household) else household
    )
    current = _current(locked)
    errors: dict[str, list[ValidationError]] = {}
    today = timezone.localdate()
    signed = signed_on or today
    if not isinstance(purposes, list) or any(p not in ConsentPurpose.values for p in purposes):
        errors["purposes"] = [
            ValidationError(
                _("Give the purposes among: %(valid)s (none withdraws them all).")
                % {"valid": choice_options(ConsentPurpose)},
                code="invalid_choice",
            )
        ]
    if not isinstance(signed, date):
        errors["signed_on"] = [ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")]
    elif signed > today:
        errors["signed_on"] = [
            ValidationError(_("The date cannot be in the future."), code="future_date")
        ]
    elif current is not None and signed < current.signed_on:
        errors["signed_on"] = [
            ValidationError(
                _("The new consent cannot predate the current one (%(date)s).")
                % {"date": current.signed_on.strftime("%d/%m/%Y")},
                code="before_current_consent",
            )
        ]
    if not str(reason or "").strip():
        errors["reason"] = [
            ValidationError(
                _("Say why the consent changes (e.g. withdrawn by the family)."), code="required"
            )
        ]
    if errors:
        raise ValidationError(errors)
    before = sorted(current.purposes) if current is not None else []
    after = sorted(set(purposes))
    consent = Consent.objects.create(
        household=locked,
        signed_on=signed,
        purposes=after,
        notice_version=(notice_version or (current.notice_version if current else DEFAULT_NOTICE))[
            :20
        ],
        language=(language or (current.language if current else "es"))[:10],
        officer=actor.user,
        created_by_key=actor.api_key,
        created_by=actor.user,
        reason=" ".join(str(reason).split())[:500],
    )
    locked.touch()
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={
            "consent": {"purposes": [before, after], "consent": consent.pk, **(detail or {})},
            **(cause or {}),
        },
        channel=channel,
    )
    # Partners learn of it in the same transaction (no event without its change): what they
    # may see of the family changes at once.
    webhooks.record(
        WebhookEventType.HOUSEHOLD_CONSENT_CHANGED,
        locked.pk,
        district_id=locked.district_id,
        program_id=locked.program_id,
        **{"from": before, "to": after, "signed_on": signed.isoformat()},
    )
    # A withdrawal of every purpose leaves no consent for the enrolment rule; a new consent
    # after one brings it back: the stage follows.
    recompute_on_commit([locked.pk])
    return consent
