"""Title files in the admin's story pages: the section of the household page (each file with its
status, deadline and documents, each document viewable), and what the title file's own page
adds (the plot on a map, the documents' links, the history in words). Documents are served
only to whoever may see the file (``titles.policies.title_document_q``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farmers.models import Household
from registry.actors import Actor
from registry.admin import request_actor
from registry.admin_toolkit import ReadOnlyInline, evidence_file, history_html
from registry.display import choice_label, day
from registry.exceptions import NotFound
from registry.maps import boundary_svg

from . import policies, selectors
from .choices import OPEN_STATUSES, TitleDocumentType
from .models import TitleApplication, TitleDocument

SECTION_TEMPLATE = "admin/titles/_household_section.html"


def document_url(document: TitleDocument) -> str:
    """Where the admin serves a document of a file (within the person's scope)."""
    return reverse(
        "admin:titles_titleapplication_document", args=[document.application_id, document.pk]
    )


def title_admin_section(
    request: HttpRequest, actor: Actor, household: Household
) -> tuple[str, dict[str, Any]] | None:
    """The household's title files the person may see, with their documents (two queries);
    hidden without ``titles:read`` in the household's area."""
    if not policies.may_read_titles_of(actor, household):
        return None
    documents = TitleDocument.objects.only(
        "pk", "application_id", "type", "filename", "created_at"
    ).order_by("created_at")
    files = list(
        selectors.title_application_list(actor=actor)
        .filter(household=household)
        .select_related("plot")
        .prefetch_related(Prefetch("documents", queryset=documents))
        .order_by("-created_at")
    )
    today = timezone.localdate()
    rows = [
        {
            "url": reverse("admin:titles_titleapplication_change", args=[f.pk]),
            "status": f.get_status_display(),
            "authority": f.authority.name,
            "plot": f.plot.name,
            "since": day(f.status_since),
            "due_on": day(f.due_on) if f.due_on else "—",
            "overdue": f.status in OPEN_STATUSES and f.due_on is not None and f.due_on < today,
            "documents": [
                {"url": document_url(d), "label": d.get_type_display(), "on": day(d.created_at)}
                for d in f.documents.all()
            ],
        }
        for f in files
    ]
    return SECTION_TEMPLATE, {"title_files": rows}


class DocumentInline(ReadOnlyInline):
    """A file's documents, each with a link that opens it (within the person's scope)."""

    model = TitleDocument
    fields = ["type", "open_link", "filename", "size", "created_at"]
    verbose_name_plural = gettext_lazy("documents of the file")

    @admin.display(description=gettext_lazy("document"))
    def open_link(self, obj: TitleDocument) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            document_url(obj),
            _("Open the document"),
        )


def _document_line(change: Any) -> str:
    """A document upload in the file's history: "Document added: ID copy"."""
    kind = change[0] if isinstance(change, (list, tuple)) and change else change
    return _("Document added: %(type)s") % {"type": choice_label(kind, TitleDocumentType)}


class TitleStoryMixin:
    """What the title file's admin page adds: its plot on a map, its history in words, and the
    document view."""

    @admin.display(description=gettext_lazy("plot on the map"))
    def plot_map(self, obj: TitleApplication) -> SafeString:
        return boundary_svg(
            [(obj.plot.name, obj.plot.geometry)],
            title=_("Plot of the title file of %(code)s") % {"code": obj.household.code},
            district=obj.household.district_id,
            district_name=obj.household.district.name,
        )

    @admin.display(description=gettext_lazy("history in words"))
    def history_in_words(self, obj: TitleApplication) -> SafeString:
        return history_html([obj], lines_for={"document": _document_line})

    def document_view(self, request: HttpRequest, object_id: Any, document_id: Any) -> FileResponse:
        """One document of a file, to whoever may see the file."""
        try:
            document = selectors.document_get(
                actor=request_actor(request), application_id=object_id, document_id=document_id
            )
        except NotFound as exc:
            raise Http404 from exc
        if not document.file:
            raise Http404
        return evidence_file(document.file, f"{document.type}-{document.sha256[:12]}")
