"""Admin for programme staff: title-file queues by state and overdue, history, objections and
documents inline, and actions that call the workflow services (``status`` is never editable)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.actors import Actor
from registry.admin import LargeTableAdmin, ProgrammeSettingsAdmin, request_actor
from registry.admin.exports import ExportActionsMixin
from registry.admin_toolkit import DashboardLinksMixin, ReadOnlyInline
from registry.exceptions import RegistryError

from . import policies, selectors, services
from .admin_story import DocumentInline, TitleStoryMixin
from .choices import OPEN_STATUSES, RejectionReason, TitleStatus
from .models import (
    AuthorityNoticeDays,
    Objection,
    TitleApplication,
    TitleSettings,
    TitleStatusChange,
)
from .workflow import next_states

S = TitleStatus


class OverdueFilter(admin.SimpleListFilter):
    """The SLA queues: overdue, approaching the target, on time."""

    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("approaching", _("Approaching the target"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(selectors.overdue_q(today))
        if self.value() == "approaching":
            return queryset.filter(status__in=OPEN_STATUSES, warn_on__lte=today, due_on__gte=today)
        return queryset


class StatusChangeInline(ReadOnlyInline):
    model = TitleStatusChange
    readonly_fields = ["at", "from_status", "to_status", "created_by", "created_by_key", "note"]
    fields = list(readonly_fields)
    verbose_name_plural = _("history")


class ObjectionInline(ReadOnlyInline):
    model = Objection
    readonly_fields = [
        "filed_on",
        "objector_name",
        "grounds",
        "decision",
        "decision_note",
        "decided_on",
    ]
    fields = list(readonly_fields)


class TransitionForm(forms.Form):
    """A move of one file, with the fields some moves need."""

    to = forms.ChoiceField(label=_("move to"), choices=S.choices)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.ChoiceField(
        label=_("rejection reason"), required=False, choices=[("", "—"), *RejectionReason.choices]
    )
    partida_number = forms.CharField(label=_("SUNARP partida number"), required=False)
    registry_zone = forms.CharField(label=_("SUNARP registry zone"), required=False)
    registered_on = forms.DateField(label=_("registered on"), required=False)
    on = forms.DateField(
        label=_("date of the act"),
        required=False,
        help_text=_(
            "Survey, legal report, start of the public notice, title or dispatch to SUNARP: "
            "the day it happened (empty: today)."
        ),
    )


def _move_many(request: HttpRequest, queryset: QuerySet[TitleApplication], to: str) -> None:
    actor = request_actor(request)
    done = 0
    for application in queryset[:500]:
        try:
            services.title_application_transition(
                actor=actor, application=application.pk, to=to, channel="admin"
            )
            done += 1
        except (RegistryError, ValidationError) as exc:
            detail = getattr(exc, "detail", None) or "; ".join(exc.messages)  # type: ignore[union-attr]
            messages.warning(request, f"{application}: {detail}")
    if done:
        messages.success(request, _("%(n)s files moved.") % {"n": done})


def _bulk_action(to: str) -> Any:
    def act(modeladmin: Any, request: HttpRequest, queryset: QuerySet[TitleApplication]) -> None:
        _move_many(request, queryset, to)

    act.__name__ = f"move_to_{to}"
    return admin.action(
        description=_("Move selected files to “%(state)s”") % {"state": S(to).label}
    )(act)


@admin.register(TitleApplication)
class TitleApplicationAdmin(
    DashboardLinksMixin, ExportActionsMixin, TitleStoryMixin, LargeTableAdmin
):
    """Title files by state and SLA; moves through the services only."""

    # The dashboard's links (``titles.dashboard``): the files behind a figure.
    dashboard_lookups = frozenset(
        {
            "status__in",
            "status__exact",
            "submitted_on__gte",
            "submitted_on__lte",
            "title_issued_on__gte",
            "title_issued_on__lte",
            "registered_on__gte",
            "registered_on__lte",
        }
    )

    list_display = [
        "household",
        "authority",
        "district",
        "status",
        "status_since",
        "due_on",
        "overdue",
        "created_at",
    ]
    list_filter = ["status", OverdueFilter, "procedure", "authority", "program"]
    list_select_related = ["household", "authority", "district"]
    search_fields = ["=household__code", "=partida_number"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        """The file with its household and plot (the page's map and captions: no extra
        queries)."""
        queryset = self.get_queryset(request).select_related("plot", "program")
        try:
            return queryset.get(pk=object_id)
        except (TitleApplication.DoesNotExist, ValidationError):
            return None

    readonly_fields = [
        "household",
        "plot",
        "authority",
        "district",
        "program",
        "procedure",
        "possession_started_on",
        "status",
        "status_since",
        "observed_from",
        "submitted_on",
        "surveyed_on",
        "legal_review_on",
        "notice_starts_on",
        "notice_ends_on",
        "title_issued_on",
        "sent_to_sunarp_on",
        "registered_on",
        "closed_on",
        "partida_number",
        "registry_zone",
        "rejection_reason",
        "note",
        "clock_started_on",
        "warn_on",
        "due_on",
        "file_due_on",
        "programme_days",
        "family_days",
        "authority_days",
        "sunarp_days",
        "version",
        "created_at",
        "updated_at",
        "move_link",
        "plot_map",
        "history_in_words",
    ]
    fields = list(readonly_fields)
    inlines = [StatusChangeInline, ObjectionInline, DocumentInline]
    actions = [
        _bulk_action(S.SURVEYED),
        _bulk_action(S.LEGAL_REVIEW),
        _bulk_action(S.PUBLIC_NOTICE),
        _bulk_action(S.TITLE_ISSUED),
        _bulk_action(S.SENT_TO_SUNARP),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TitleApplication]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.title_application_q(actor))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files are opened through the API by field officers

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing is edited freely: moves go through the transition form."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Inlines are read-only."""

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj: TitleApplication) -> bool:
        return bool(
            obj.status in OPEN_STATUSES and obj.due_on and obj.due_on < timezone.localdate()
        )

    @admin.display(description=_("move"))
    def move_link(self, obj: TitleApplication) -> str:
        if obj.pk is None or not next_states(obj):
            return "—"
        url = reverse("admin:titles_titleapplication_transition", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Move this file…"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<uuid:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="titles_titleapplication_transition",
            ),
            path(
                "<uuid:object_id>/documents/<uuid:document_id>/",
                self.admin_site.admin_view(self.document_view),
                name="titles_titleapplication_document",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        """A form that moves one file through ``title_application_transition``."""
        application = get_object_or_404(self.get_queryset(request), pk=pk)
        form = TransitionForm(request.POST or None)
        choices = [(s, S(s).label) for s in next_states(application)]
        form.fields["to"].choices = choices  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            try:
                services.title_application_transition(
                    actor=request_actor(request),
                    application=application.pk,
                    channel="admin",
                    **form.cleaned_data,
                )
            except RegistryError as exc:
                form.add_error(None, exc.detail)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("The file was moved."))
                return HttpResponseRedirect(
                    reverse("admin:titles_titleapplication_change", args=[application.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "form": form,
            "title": _("Move title file"),
        }
        return TemplateResponse(request, "admin/titles/transition.html", context)


class AuthorityNoticeDaysRows(admin.TabularInline):
    """Titling authorities with a public notice of their own in the programme; changed by
    whoever may change the programme's title settings."""

    model = AuthorityNoticeDays
    extra = 0
    fields = ["authority", "public_notice_days"]

    def _may_change(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or policies.title_settings_can(request_actor(request), obj, "change")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(TitleSettings)
class TitleSettingsAdmin(ProgrammeSettingsAdmin):
    """A programme's title settings — the public-notice window and the SLA targets — saved
    through the service, with history: seen by the programme's people, changed only by the
    programme agency's staff (``titles.policies``)."""

    list_display = [
        "program",
        "public_notice_days",
        "prescription_years",
        "submitted_days",
        "legal_review_days",
        "file_months",
        "alert_percent",
    ]
    # Editable rows of settings (not history): a plain inline, not ``ReadOnlyInline``.
    inlines = [AuthorityNoticeDaysRows]

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(policies.title_settings_q(actor))

    def may_change(self, actor: Actor, obj: Any) -> bool:
        return policies.title_settings_can(actor, obj, "change")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "program":
            kwargs["queryset"] = policies.title_settings_programs(request_actor(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["program"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: TitleSettings, form: Any, change: bool) -> None:
        services.title_settings_save(actor=request_actor(request), settings_obj=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The authorities' notice windows, through the service (history, policy)."""
        actor = request_actor(request)
        rows = formset.save(commit=False)
        for row in formset.deleted_objects:
            services.authority_notice_days_save(actor=actor, row=row, delete=True)
        for row in rows:
            row.settings = form.instance
            services.authority_notice_days_save(actor=actor, row=row)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
