"""The titles app's part of the field officers' pages (``/campo/``), registered from
``TitlesConfig.ready()`` through ``farmers.pages.registry`` (farmers never imports titles): a
panel of the household's title files and the page to file a title application with its
documents. With JavaScript the form goes through the phone's outbox to the partner API
(``/api/v1/title-applications/`` with a client id, then ``{id}/documents/``); without it the form
posts here and the view calls the same service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers import selectors as farmers_selectors
from farmers.models import Household
from farmers.pages.base import field_page, service_errors, uuid_or_none
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.dates import typed_date
from registry.models import Organization

from . import policies, selectors, services
from .choices import OPEN_STATUSES, Procedure, TitleDocumentType
from .models import TitleDocument
from .workflow import next_states, required_documents

PANEL_TEMPLATE = "field/titles/_panel.html"
APPLY_TEMPLATE = "field/titles/apply.html"


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
    """Active titling authorities covering the household's district (an authority without
    assigned districts covers them all)."""
    return list(
        Organization.objects.filter(kind=OrganizationKind.TITLING_AUTHORITY, is_active=True)
        .filter(Q(districts__isnull=True) | Q(districts=household.district_id))
        .distinct()
        .order_by("name")
    )


@field_page
def title_apply(request: HttpRequest, actor: Actor, household_id: uuid.UUID) -> HttpResponse:
    """File a title application for one of the household's plots with an authority covering
    its district, with an optional first document (type + file)."""
    household = farmers_selectors.household_get(actor=actor, household_id=household_id)
    plots = list(
        farmers_selectors.plot_list(actor=actor)
        .filter(household=household, is_active=True)
        .order_by("name")
    )
    authorities = authorities_for(household)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
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
