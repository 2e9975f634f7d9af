"""Reads of the titles app, narrowed to what ``titles.policies`` lets the actor see (404
outside it), and the evidence provider of the transition engine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from farmers.consent import with_consent
from farmers.transition.evidence import TITLE_APPLIED, TITLE_REGISTERED, Fact, batch_q
from registry.actors import Actor
from registry.exceptions import NotFound

from . import policies
from .choices import OPEN_STATUSES, TitleStatus
from .models import Objection, TitleApplication, TitleDocument, TitleStatusChange


def overdue_q(today: date | None = None, prefix: str = "") -> Q:
    """Open files past their due date (an indexed range on ``due_on``)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}status__in": OPEN_STATUSES, f"{prefix}due_on__lt": today})


def title_application_list(*, actor: Actor) -> QuerySet[TitleApplication]:
    """Title files in the actor's scope, with the references a list shows and the household's
    current consent annotated (``farmers.consent``; one query a page)."""
    return with_consent(
        TitleApplication.objects.filter(policies.title_application_q(actor)), "household_id"
    ).select_related("authority", "program", "funding_source")


def with_document_types(
    queryset: QuerySet[TitleApplication],
) -> QuerySet[TitleApplication]:
    """``queryset`` with the types of each file's documents (one query a page), for the
    documents still missing."""
    return queryset.prefetch_related(
        Prefetch("documents", queryset=TitleDocument.objects.only("application_id", "type"))
    )


def title_application_get(*, actor: Actor, application_id: Any) -> TitleApplication:
    """One title file in the actor's scope (with its document types), or 404."""
    application = (
        with_document_types(title_application_list(actor=actor)).filter(pk=application_id).first()
    )
    if application is None:
        raise NotFound()
    return application


def status_change_list(*, application: TitleApplication) -> QuerySet[TitleStatusChange]:
    """A file's moves, oldest first, with who made them."""
    return TitleStatusChange.objects.filter(application=application).select_related(
        "created_by", "created_by_key"
    )


def objection_list(*, application: TitleApplication) -> QuerySet[Objection]:
    """A file's objections, oldest first."""
    return Objection.objects.filter(application=application)


def document_list(*, application: TitleApplication) -> QuerySet[TitleDocument]:
    """A file's documents, oldest first."""
    return TitleDocument.objects.filter(application=application)


def document_get(*, actor: Actor, application_id: Any, document_id: Any) -> TitleDocument:
    """One document of a file in the actor's scope, or 404."""
    document = (
        TitleDocument.objects.filter(policies.title_document_q(actor))
        .filter(pk=document_id, application_id=application_id)
        .first()
    )
    if document is None:
        raise NotFound()
    return document


def title_facts(household_ids: Sequence[UUID], as_of: date) -> Iterable[Fact]:
    """Evidence for the transition engine, in one query for the whole batch: a ``title_applied``
    fact per filed application (its submission date) and a ``title_registered`` fact per title
    registered in SUNARP (its registration date)."""
    rows = (
        TitleApplication.objects.filter(batch_q(household_ids))
        .filter(Q(submitted_on__isnull=False) | Q(registered_on__isnull=False))
        .values_list("pk", "household_id", "status", "submitted_on", "registered_on")
        .order_by()
    )
    facts: list[Fact] = []
    for pk, household_id, status, submitted_on, registered_on in rows:
        if submitted_on is not None:
            facts.append(
                Fact(
                    household_id=household_id,
                    kind=TITLE_APPLIED,
                    on=submitted_on,
                    ref=str(pk),
                    status=status,
                )
            )
        if registered_on is not None and status == TitleStatus.REGISTERED:
            facts.append(
                Fact(
                    household_id=household_id,
                    kind=TITLE_REGISTERED,
                    on=registered_on,
                    ref=str(pk),
                    status=status,
                )
            )
    return facts


def title_access_section(household: Any) -> dict[str, list[dict[str, Any]]]:
    """What titles holds about a household, for a data-subject access request
    (``farmers.rights_sections``): its title files, their status history, objections and
    documents (names and dates, not the files)."""
    from farmers.rights_sections import record_rows

    from .models import Objection, TitleApplication, TitleDocument, TitleStatusChange

    files = list(TitleApplication.objects.filter(household=household).order_by("created_at"))
    return {
        "title_files": record_rows(files),
        "title_status_changes": record_rows(
            TitleStatusChange.objects.filter(application__in=files).order_by("id")
        ),
        "title_objections": record_rows(
            Objection.objects.filter(application__in=files).order_by("id")
        ),
        "title_documents": record_rows(
            TitleDocument.objects.filter(application__in=files).order_by("id"), exclude=("sha256",)
        ),
    }
