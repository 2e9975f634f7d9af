"""Filing a title application: a draft for a household's plot with a titling authority
(idempotent on a client-chosen ``id``, ``registry.idempotency``), and the field pages' filing
with its first documents in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.choices import HouseholdStatus
from farmers.models import Household, Plot
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind
from registry.exceptions import Conflict
from registry.funding import funder_resolve
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.models import Organization
from registry.services import field_error

from .. import policies, summaries
from ..choices import Procedure
from ..clock import settings_for
from ..models import TitleApplication, TitleStatusChange
from .documents import document_upload
from .procedure import check_possession, check_tenure, clean_procedure
from .transitions import CLOSED_STATUSES, S


@replays_lost_race(TitleApplication)
@transaction.atomic
def title_application_create(
    *,
    actor: Actor,
    household: Any,
    plot: Any,
    authority: str,
    procedure: str = Procedure.ADJUDICATION,
    possession_started_on: date | None = None,
    funding_source: str | None = None,
    id: Any = None,
    note: str = "",
    channel: str = "api",
) -> tuple[TitleApplication, bool]:
    """File a draft title application for a household's plot with a titling authority, under
    a legal procedure (adjudication of state land by default, or administrative prescription)
    with the day the family's possession began (needed by the submission at the latest).

    Refused when the plot's tenure cannot be titled (409 ``tenure_not_titleable``) or the
    possession is too recent for the procedure (409 ``possession_too_recent`` /
    ``possession_after_cutoff``; a future start is a 400). ``funding_source``, when given, is
    the code of the funder organization that pays for the file (``not_funder`` otherwise).
    Idempotent on a client-chosen ``id``:
    the same payload returns the existing file, another payload is a 409
    ``idempotency_conflict``.
    """
    payload: dict[str, Any] = {
        "household": str(household),
        "plot": str(plot),
        "authority": authority,
        "note": note,
    }
    if procedure != Procedure.ADJUDICATION or possession_started_on is not None:
        payload["procedure"] = procedure
        payload["possession_started_on"] = str(possession_started_on)
    if funding_source:
        payload["funding_source"] = funding_source
    digest = request_hash(payload)
    existing = replayed(
        TitleApplication,
        id,
        digest,
        may_see=lambda found: policies.title_application_can(actor, found, "view"),
    )
    if existing is not None:
        return existing, False
    owner = Household.objects.filter(policies.household_q(actor)).filter(pk=household).first()
    if owner is None:
        raise field_error(
            "household", _("No household with this id in your area."), "does_not_exist"
        )
    errors: dict[str, list[ValidationError]] = {}
    if owner.status != HouseholdStatus.ACTIVE:
        errors["household"] = [
            ValidationError(
                _("Only reviewed (active) households can apply for a title."),
                code="inactive_household",
            )
        ]
    land = Plot.objects.filter(pk=plot, household=owner, is_active=True).first()
    if land is None:
        errors["plot"] = [
            ValidationError(_("Choose an active plot of this household."), code="invalid_plot")
        ]
    titling = Organization.objects.filter(
        code=authority, kind=OrganizationKind.TITLING_AUTHORITY, is_active=True
    ).first()
    if titling is None:
        errors["authority"] = [
            ValidationError(
                _("No active titling authority with the code “%(code)s”.") % {"code": authority},
                code="does_not_exist",
            )
        ]
    elif not titling.districts.filter(pk=owner.district_id).exists():
        # A file its authority cannot see would be stuck: neither party could move it.
        errors["authority"] = [
            ValidationError(
                _("This titling authority does not cover the plot's district (%(district)s).")
                % {"district": owner.district_id},
                code="authority_out_of_area",
            )
        ]
    today = timezone.localdate()
    try:
        clean_procedure(procedure)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if possession_started_on is not None and possession_started_on > today:
        errors["possession_started_on"] = [
            ValidationError(_("The possession cannot begin in the future."), code="future")
        ]
    funder = None
    try:
        funder = funder_resolve(funding_source)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    assert land is not None and titling is not None
    application = TitleApplication(
        household=owner,
        plot=land,
        authority=titling,
        district_id=owner.district_id,
        program_id=owner.program_id,
        procedure=procedure,
        possession_started_on=possession_started_on,
        funding_source=funder,
        status=S.DRAFT,
        status_since=today,
        clock_started_on=today,
        note=note.strip(),
        request_hash=digest,
        **actor.stamp(),
        **({"id": id} if id is not None else {}),
    )
    policies.require_title_application(actor, application, "file")
    check_tenure(land.tenure)
    check_possession(
        procedure, possession_started_on, settings_for(owner.program_id), today, required=False
    )
    clash = TitleApplication.objects.filter(plot=land).exclude(status__in=CLOSED_STATUSES).first()
    if clash is not None:
        raise Conflict(
            _("This plot already has an open title application."),
            code="duplicate",
            attr="plot",
            extra={"application": str(clash.pk)},
        )
    application.save(force_insert=True)
    # The dashboard's title cells, in this transaction (a draft counts nowhere yet).
    summaries.changed(application, {})
    TitleStatusChange.objects.create(
        application=application,
        from_status="",
        to_status=S.DRAFT,
        note=application.note,
        **actor.stamp(),
    )
    change_record(
        instance=application,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "plot": str(land.pk),
            "authority": titling.code,
            "procedure": procedure,
            "possession_started_on": str(possession_started_on or ""),
            **({"funding_source": funder.code} if funder is not None else {}),
        },
        channel=channel,
    )
    return application, True


@transaction.atomic
def title_application_file(
    *,
    actor: Actor,
    household: Any,
    plot: Any,
    authority: str,
    procedure: str = Procedure.ADJUDICATION,
    possession_started_on: date | None = None,
    documents: Sequence[tuple[str, Any]] = (),
    id: Any = None,
    note: str = "",
    channel: str = "web",
) -> tuple[TitleApplication, bool]:
    """File a title application and attach its first documents (``(type, file)`` pairs) in one
    transaction: any refusal writes nothing. Idempotent on the client ``id`` like
    ``title_application_create``: a retry of a filing already made returns the file and does not
    attach its documents again."""
    application, created = title_application_create(
        actor=actor,
        household=household,
        plot=plot,
        authority=authority,
        procedure=procedure,
        possession_started_on=possession_started_on,
        id=id,
        note=note,
        channel=channel,
    )
    if created:
        for kind, upload in documents:
            document_upload(
                actor=actor, application=application, type=kind, file=upload, channel=channel
            )
    return application, created
