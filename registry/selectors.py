"""Reads of the registry kernel. Reference data is visible to every authenticated actor; alerts
only inside the actor's area."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from . import policies
from .actors import Actor
from .exceptions import NotFound
from .models import Alert, District, FundingAgreement, Organization, Program


def district_list(*, actor: Actor) -> QuerySet[District]:
    """All districts, with province and department joined (one query per page)."""
    return District.objects.select_related("province", "department")


def organization_list(*, actor: Actor) -> QuerySet[Organization]:
    """Active organizations (reference data)."""
    return Organization.objects.filter(is_active=True).select_related(
        "district__province", "district__department"
    )


def organization_get(*, actor: Actor, code: str) -> Organization:
    """One active organization by code, or 404."""
    organization = organization_list(actor=actor).filter(code=code).first()
    if organization is None:
        raise NotFound()
    return organization


def program_list(*, actor: Actor) -> QuerySet[Program]:
    """Active programmes (reference data), with agency and funder joined."""
    return Program.objects.filter(is_active=True).select_related("agency", "funder")


def funding_agreement_list(*, actor: Actor) -> QuerySet[FundingAgreement]:
    """Active funding agreements of active programmes (reference data), funder and programme
    joined."""
    return FundingAgreement.objects.filter(is_active=True, program__is_active=True).select_related(
        "funder", "program"
    )


def alert_list(*, actor: Actor) -> QuerySet[Alert]:
    """Alerts in the actor's area (where it may read households), programme joined."""
    return Alert.objects.filter(policies.alert_q(actor)).select_related("program", "subject_type")


def alert_get(*, actor: Actor, alert_id: Any) -> Alert:
    """One alert in the actor's area, or 404 (also for an id that is not a UUID)."""
    try:
        key = uuid.UUID(str(alert_id))
    except ValueError:
        raise NotFound() from None
    alert = alert_list(actor=actor).filter(pk=key).first()
    if alert is None:
        raise NotFound()
    return alert
