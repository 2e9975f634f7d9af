"""Admin for alerts: scoped like households, acknowledged and resolved through the workflow."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .. import display, policies
from ..actors import Actor
from ..admin_toolkit import CappedCountPaginator
from ..alerts import alert_transition
from ..choices import LIVE_ALERT_STATUSES, AlertStatus
from ..exceptions import RegistryError
from ..models import (
    Alert,
)
from .base import (
    request_actor,
)
from .exports import ExportActionsMixin

HouseholdNames = Callable[[Iterable[UUID], Actor | None], dict[UUID, str]]
_household_names: list[HouseholdNames] = []
#: How the change page says each key of an alert's ``details``: ``key → (label, words)``, where
#: ``words(value)`` is the value in words (``None``: dates, numbers and lists as
#: ``registry.display`` shows them). Registered by the apps that raise alerts.
DetailWords = tuple[Any, Callable[[Any], str] | None]
_detail_words: dict[str, DetailWords] = {}


def register_household_names(names: HouseholdNames) -> None:
    """How the alert pages name a household from its id (its code, and its head's name where
    the reader may see it): registered by the app that owns households (the kernel does not
    import it), called once per page of alerts."""
    _household_names[:] = [names]


def register_alert_details(words: dict[str, DetailWords]) -> None:
    """Labels (and value formatters) of the ``details`` keys an app's alerts carry."""
    _detail_words.update(words)


def name_households(alerts: Iterable[Alert], actor: Actor | None = None) -> None:
    """Set ``household_label`` on each alert (one query for the whole page)."""
    rows = list(alerts)
    ids = {a.household_id for a in rows if a.household_id}
    names = _household_names[0](ids, actor) if ids and _household_names else {}
    for alert in rows:
        label = names.get(alert.household_id) if alert.household_id else None
        alert.household_label = label or "—"  # type: ignore[attr-defined]


def detail_lines(details: Any, hidden: Iterable[str] = ()) -> list[tuple[str, str]]:
    """An alert's ``details`` as ``(label, value in words)`` pairs, without the ``hidden``
    keys; keys no app named and values that are ids (a linked record) are left out: the
    page never shows a code or a JSON document."""
    if not isinstance(details, dict):
        return []
    lines = []
    for key, value in details.items():
        if key in hidden or key not in _detail_words or value in (None, "", [], {}):
            continue
        label, words = _detail_words[key]
        shown = words(value) if words is not None else display.value_words(value)
        if shown:
            lines.append((str(label), shown))
    return lines


class AlertChangeList(ChangeList):
    """The alert list, with each alert's household named (one query a page)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        name_households(self.result_list, request_actor(request))


class AlertDistrictFilter(admin.SimpleListFilter):
    """Districts that have alerts in the person's area (not all 1,891 of Peru)."""

    title = _("district")
    parameter_name = "district"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        rows = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list("district_id", "district__name")
            .distinct()
        )
        return sorted(((ubigeo, f"{name} ({ubigeo})") for ubigeo, name in rows), key=lambda r: r[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(district_id=value) if value else queryset


@admin.register(Alert)
class AlertAdmin(ExportActionsMixin, admin.ModelAdmin):
    """The alert queue of the person's area: acknowledge or resolve through the workflow."""

    list_display = [
        "raised_at",
        "kind",
        "severity",
        "status",
        "household_shown",
        "message",
        "district",
        "program",
        "due_on",
        "assigned_to",
    ]
    list_filter = ["status", "kind", "severity", AlertDistrictFilter, "program"]
    list_select_related = ["district", "program", "assigned_to"]
    search_fields = ["message", "=key"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    date_hierarchy = "raised_at"
    actions = ["acknowledge", "resolve"]
    readonly_fields = [
        "kind",
        "status",
        "severity",
        "message",
        "details_shown",
        "district",
        "program",
        "household_shown",
        "subject_shown",
        "owner_role",
        "assigned_to",
        "due_on",
        "raised_at",
        "acknowledged_at",
        "resolved_at",
        "resolution_note",
        "version",
    ]
    fields = tuple(readonly_fields)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AlertChangeList

    @admin.display(description=_("household"))
    def household_shown(self, obj: Alert) -> str:
        """The household the alert is about, by its code (never its id), with its head's name
        where the reader may see it."""
        if not hasattr(obj, "household_label"):
            name_households([obj])
        return str(obj.household_label)  # type: ignore[attr-defined]

    @admin.display(description=_("record"))
    def subject_shown(self, obj: Alert) -> str:
        """The record the alert is about, in words (set by ``get_object``)."""
        return getattr(obj, "subject_words", display.EMPTY)

    def _subject_words(self, request: HttpRequest, alert: Alert) -> str:
        """The alert's record as a person reads it: its kind and its name ("Expediente de
        titulación HH-… · Presentado"), linked to its admin page when the reader may open it
        there (its admin's own scoping decides); only its kind otherwise. Never the record
        type's code or the record's id."""
        if alert.subject_type_id is None or not alert.subject_id:
            return display.EMPTY
        model = ContentType.objects.get_for_id(alert.subject_type_id).model_class()
        if model is None:
            return display.EMPTY
        kind = capfirst(str(model._meta.verbose_name))
        model_admin = self.admin_site._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(request):
            return kind
        try:
            record = model_admin.get_queryset(request).filter(pk=alert.subject_id).first()
        except (ValueError, ValidationError):
            record = None
        if record is None:
            return kind
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])
        return format_html('<a href="{}">{} {}</a>', url, kind, str(record))

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        alert = super().get_object(request, object_id, from_field)
        if alert is not None:
            alert.subject_words = self._subject_words(request, alert)
            name_households([alert], request_actor(request))
            alert.stage_hidden = not policies.alert_stage_visible(request_actor(request), alert)
        return alert

    @admin.display(description=_("details"))
    def details_shown(self, obj: Alert) -> Any:
        """The alert's details in words, one labelled line each; without the stage they name
        for who may not see the household's stage (``policies.alert_stage_visible``)."""
        hidden = policies.STAGE_DETAIL_KEYS if getattr(obj, "stage_hidden", True) else ()
        lines = detail_lines(obj.details, hidden)
        if not lines:
            return display.EMPTY
        return format_html_join(mark_safe("<br>"), "{}: {}", lines)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.alert_q(actor, scope=None))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # alerts are raised by the system

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def _move(self, request: HttpRequest, queryset: QuerySet[Alert], to: str) -> int:
        actor = request_actor(request)
        done, refused = 0, []
        for alert in queryset.filter(status__in=LIVE_ALERT_STATUSES)[:500]:
            try:
                alert_transition(actor=actor, alert=alert, to=to)
                done += 1
            except RegistryError as exc:
                refused.append(f"{alert}: {exc.detail}")
        for line in refused[:20]:
            messages.warning(request, line)
        return done

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = self._move(
            request, queryset.filter(status=AlertStatus.OPEN), AlertStatus.ACKNOWLEDGED
        )
        if done:
            messages.success(request, _("%(n)s alerts acknowledged.") % {"n": done})

    @admin.action(description=_("Resolve selected alerts"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = self._move(request, queryset, AlertStatus.RESOLVED)
        if done:
            messages.success(request, _("%(n)s alerts resolved.") % {"n": done})
