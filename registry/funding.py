"""Funding sources and agreements: the one rule every cost and result of the registry applies to
"who paid" (support items, training events, title files, contracts' programme support), and the
writes of funding agreements.

A funding source is always a funder organization (``Organization.kind = funder``); a funding
agreement, when one is named, belongs to that funder (or names it), and the cost's date must lie
within the agreement's period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from . import policies
from .actors import Actor
from .choices import ChangeAction, Currency
from .cleaning import clean_choice, clean_decimal, typed_number
from .history import change_record, diff, snapshot
from .models import FundingAgreement, Organization, Program
from .services import field_error
from .validators import require_funder

__all__ = [
    "Funding",
    "funder_resolve",
    "funding_agreement_upsert",
    "funding_resolve",
]

MAX_BUDGET = Decimal("999999999999.99")


@dataclass(frozen=True)
class Funding:
    """Who paid: the funder organization and, optionally, the agreement it paid under."""

    source: Organization | None = None
    agreement: FundingAgreement | None = None


def funder_resolve(code: Any, *, attr: str = "funding_source") -> Organization | None:
    """The funder organization ``code`` (``None`` when empty); a field error on ``attr`` when no
    organization has that code (``does_not_exist``) or it is no funder (``not_funder``)."""
    if code in (None, ""):
        return None
    if isinstance(code, Organization):
        organization: Organization | None = code
    else:
        organization = Organization.objects.filter(code=str(code)).first()
    if organization is None:
        raise field_error(attr, _("Unknown organization code."), "does_not_exist")
    require_funder(organization, attr)
    return organization


def funding_resolve(
    *,
    source: Any = None,
    agreement: Any = None,
    on: date | None = None,
    program_id: int | None = None,
    source_attr: str = "funding_source",
    agreement_attr: str = "funding_agreement",
    date_attr: str = "date",
) -> Funding:
    """Validate a cost's funding: the source is a funder; the agreement (by code), when given,
    exists, is active, belongs to that funder (it supplies the source when none is given), to
    the record's programme, and its period holds the cost's date ``on``."""
    funder = funder_resolve(source, attr=source_attr)
    if agreement in (None, ""):
        return Funding(source=funder)
    if isinstance(agreement, FundingAgreement):
        found: FundingAgreement | None = agreement
    else:
        found = (
            FundingAgreement.objects.select_related("funder")
            .filter(code=str(agreement), is_active=True)
            .first()
        )
    if found is None:
        raise field_error(agreement_attr, _("Unknown funding agreement code."), "does_not_exist")
    if funder is not None and found.funder_id != funder.pk:
        raise field_error(
            agreement_attr,
            _("This agreement belongs to another funder than the funding source."),
            "funder_mismatch",
        )
    if program_id is not None and found.program_id != program_id:
        raise field_error(
            agreement_attr,
            _("This agreement funds another programme."),
            "program_mismatch",
        )
    if on is not None and not found.covers(on):
        raise field_error(
            date_attr,
            _("The date lies outside the funding agreement's period (%(start)s – %(end)s).")
            % {
                "start": found.starts_on.strftime("%d/%m/%Y"),
                "end": found.ends_on.strftime("%d/%m/%Y"),
            },
            "outside_agreement",
        )
    return Funding(source=found.funder, agreement=found)


@transaction.atomic
def funding_agreement_upsert(
    *,
    code: str,
    funder_code: str,
    program_code: str,
    starts_on: date,
    ends_on: date,
    budget_amount: Any,
    currency: str = Currency.PEN,
    name: str = "",
    actor: Actor | None = None,
    channel: str = "system",
) -> tuple[FundingAgreement, bool]:
    """Create the funding agreement ``code`` or bring it up to date; idempotent on ``code``
    (platform administrators only, like programmes)."""
    policies.require(
        policies.can_administer_organizations(actor),
        _("Only platform administrators create or change funding agreements."),
        code="not_administrator",
    )
    funder = funder_resolve(funder_code, attr="funder")
    if funder is None:
        raise field_error("funder", _("This field is required."), "required")
    program = Program.objects.filter(code=program_code).first()
    if program is None:
        raise field_error("program", _("Unknown programme code."), "does_not_exist")
    amount = clean_decimal(typed_number(budget_amount), "budget_amount", max_value=MAX_BUDGET)
    currency = clean_choice(currency, Currency, "currency")
    if ends_on < starts_on:
        raise field_error(
            "ends_on", _("An agreement cannot end before it starts."), "invalid_period"
        )
    record = FundingAgreement.objects.select_for_update().filter(code=code).first()
    created = record is None
    before = {} if record is None else snapshot(record)
    if record is None:
        record = FundingAgreement(code=code)
    record.name = name[:200]
    record.funder = funder
    record.program = program
    record.starts_on, record.ends_on = starts_on, ends_on
    record.budget_amount = amount.quantize(Decimal("0.01"))
    record.currency = currency
    record.full_clean(exclude=None if created else ["code"])
    changes = diff(before, snapshot(record))
    if created or changes:
        if created:
            record.save()
        else:
            record.touch(*changes)
        change_record(
            instance=record,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return record, created
