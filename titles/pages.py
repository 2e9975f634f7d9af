"""The titles app's part of the field officers' pages (``/campo/``), registered from
``TitlesConfig.ready()`` through ``farmers.pages.registry`` (farmers never imports titles): a
panel of the household's title files, the page to file a title application with its documents,
and a title file's page to complete it from the field (add the documents it still needs, submit
it). The "apply" button is offered only where filing can succeed (``title_filing_blockers``).
With JavaScript the application form goes through the phone's outbox to the partner API
(``/api/v1/title-applications/`` with a client id, then ``{id}/documents/``); without it the form
posts here and the view calls the same service. The file's page posts here (the same
``document_upload`` and ``title_application_transition`` services as the API)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from farmers import selectors as farmers_selectors
from farmers.choices import HouseholdStatus
from farmers.models import Household
from farmers.pages.base import field_page, service_errors, uuid_or_none
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.dates import typed_date
from registry.models import Organization
from registry.services import field_error

from . import policies, selectors, services
from .choices import OPEN_STATUSES, Procedure, TitleDocumentType, TitleStatus
from .models import TitleApplication, TitleDocument
from .services.transitions import CLOSED_STATUSES
from .workflow import FILERS, next_states, required_documents

PANEL_TEMPLATE = "field/titles/_panel.html"
APPLY_TEMPLATE = "field/titles/apply.html"
FILE_TEMPLATE = "field/titles/file.html"


def title_panel(actor: Actor, household: Household) -> tuple[str, dict[str, Any]] | None:
    """The household's title files the actor may see (hidden without ``titles:read`` there):
    status, due date, overdue flag and the documents still missing for the next step."""
    if not policies.may_read_titles_of(actor, household):
        return None
    files = list(
        selectors.title_application_list(actor=actor)
        .filter(household=household)
        .select_related("plot")
        .prefetch_related(
            Prefetch("documents", queryset=TitleDocument.objects.only("application_id", "type"))
        )
        .order_by("-created_at")
    )
    today = timezone.localdate()
    for application in files:
        present = {document.type for document in application.documents.all()}
        required: list[str] = []
        for state in next_states(application):
            required += [
                k for k in required_documents(application.procedure, state) if k not in required
            ]
        application.missing_documents = [  # type: ignore[attr-defined]
            TitleDocumentType(kind).label for kind in required if kind not in present
        ]
        application.is_overdue = bool(  # type: ignore[attr-defined]
            application.status in OPEN_STATUSES
            and application.due_on is not None
            and application.due_on < today
        )
    return PANEL_TEMPLATE, {"title_files": files}


def authorities_for(household: Household) -> list[Organization]:
    """Active titling authorities with the household's district among their districts (the
    filing service refuses any other: a file its authority cannot see would be stuck)."""
    return list(
        Organization.objects.filter(
            kind=OrganizationKind.TITLING_AUTHORITY,
            is_active=True,
            districts=household.district_id,
        )
        .distinct()
        .order_by("name")
    )


def title_filing_blockers(actor: Actor, household: Household) -> list[str]:
    """Why a title application for ``household`` would be refused now (in words), ``[]`` when
    it can be filed: the actor's role there, the household's review, an active plot and a
    titling authority covering the district (the filing service's own checks)."""
    parties = policies.actor_parties(
        actor,
        district_id=household.district_id,
        program_id=household.program_id,
        authority_id=None,
    )
    if not parties & FILERS:
        return [str(policies.denied("file").detail)]
    blockers: list[str] = []
    if household.status != HouseholdStatus.ACTIVE:
        blockers.append(_("Only reviewed (active) households can apply for a title."))
    if not farmers_selectors.plot_list(actor=actor).filter(household=household, is_active=True):
        blockers.append(_("This household has no plot yet: capture one first."))
    if not authorities_for(household):
        blockers.append(_("No titling authority covers this district."))
    return blockers


def title_apply_available(actor: Actor, household: Household) -> bool:
    """Offer "Apply for a title" only where it can succeed."""
    return not title_filing_blockers(actor, household)


@field_page
def title_apply(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """File a title application for one of the household's plots with an authority covering
    its district, with an optional first document (type + file)."""
    household = farmers_selectors.household_get(actor=actor, household_id=household_id)
    blockers = title_filing_blockers(actor, household)
    plots = list(
        farmers_selectors.plot_list(actor=actor)
        .filter(household=household, is_active=True)
        .order_by("name")
    )
    authorities = authorities_for(household)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST" and not blockers:
        values = dict(request.POST.items())
        upload = request.FILES.get("file")
        possession = typed_date(values.get("possession_started_on"))
        if possession == "":
            errors["possession_started_on"] = [_("Write the date as dd/mm/aaaa.")]
        if not errors:
            with service_errors(errors):
                services.title_application_file(
                    actor=actor,
                    id=uuid_or_none(values.get("id")),
                    household=household.pk,
                    plot=uuid_or_none(values.get("plot")),
                    authority=str(values.get("authority") or ""),
                    procedure=str(values.get("procedure") or Procedure.ADJUDICATION),
                    possession_started_on=possession if isinstance(possession, date) else None,
                    note=str(values.get("note") or ""),
                    documents=[(str(values.get("type") or ""), upload)] if upload else [],
                    channel="web",
                )
                return redirect("field:household", household_id=household.pk)
    context = {
        "household": household,
        "blockers": blockers,
        "plots": plots,
        "authorities": authorities,
        "document_types": [(value, str(label)) for value, label in TitleDocumentType.choices],
        "procedures": [(value, str(label)) for value, label in Procedure.choices],
        "today": timezone.localdate().isoformat(),
        "errors": errors,
        "values": values,
        "new_id": uuid.uuid4(),
    }
    return render(request, APPLY_TEMPLATE, context, status=400 if errors else 200)


def _labelled(errors: dict[str, list[str]]) -> list[str]:
    """A refused submission's errors as sentences for the top of the page, each led by the
    label of the field it is about (never the field's key)."""
    labels = {
        "possession_started_on": _("Possession began on"),
        "procedure": _("Procedure"),
        "plot": _("Plot"),
        "authority": _("Titling authority"),
        "documents": _("Documents"),
        "type": _("Document type"),
    }
    return [
        f"{labels[key]}: {message}" if key in labels else message
        for key, messages in errors.items()
        for message in messages
    ]


def _missing_for_submission(application: TitleApplication) -> list[str]:
    """The documents (their labels) the draft still needs before it can be submitted."""
    present = {document.type for document in application.documents.all()}
    return [
        str(TitleDocumentType(kind).label)
        for kind in required_documents(application.procedure, TitleStatus.SUBMITTED)
        if kind not in present
    ]


@field_page
@require_http_methods(["GET", "HEAD", "POST"])
def title_file(request: HttpRequest, actor: Actor, application_id: uuid.UUID) -> HttpResponse:
    """A title file from the field: its plot, authority, status and documents; add a document
    (``services.document_upload``) and, once a draft holds every document its procedure needs,
    submit it (``services.title_application_transition`` to ``submitted``), channel ``web``.
    Each is offered only when it can succeed; refusals come back in words next to their
    field."""
    application = selectors.title_application_get(actor=actor, application_id=application_id)
    values: dict[str, Any] = dict(request.POST.items())  # empty on GET
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        with service_errors(errors):
            if values.get("action") == "submit":
                services.title_application_transition(
                    actor=actor,
                    application=application,
                    to=TitleStatus.SUBMITTED,
                    expected_version=int(values.get("version") or 0) or None,
                    channel="web",
                )
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise field_error("file", _("Choose the document's file."), "required")
                services.document_upload(
                    actor=actor,
                    application=application,
                    type=str(values.get("type") or ""),
                    file=upload,
                    channel="web",
                )
            return redirect("field:title_file", application_id=application.pk)
        if values.get("action") == "submit":
            errors = {"": _labelled(errors)}
    documents = list(selectors.document_list(application=application).select_related("created_by"))
    parties = policies.title_application_parties(actor, application)
    missing = _missing_for_submission(application)
    context = {
        "application": application,
        "household": application.household,
        "documents": documents,
        "missing": missing,
        "may_upload": bool(parties) and application.status not in CLOSED_STATUSES,
        "may_submit": application.status == TitleStatus.DRAFT
        and bool(parties & FILERS)
        and not missing,
        "is_draft": application.status == TitleStatus.DRAFT,
        "document_types": [(value, str(label)) for value, label in TitleDocumentType.choices],
        "errors": errors,
        "values": values,
    }
    return render(request, FILE_TEMPLATE, context, status=400 if errors else 200)
