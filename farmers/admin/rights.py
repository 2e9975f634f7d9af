"""The register of data-subject requests (Law 29733): a queue for programme staff, open requests
first and the most urgent on top, with the deadline and the working days left; actions take a
request in progress, extend it (once, with the reason), refuse it (with the reason) or answer it
(a rectification with the corrected values, an opposition with the purposes opposed), all
through ``farmers.services`` (policies and history are the services'); the access file
downloads (JSON, XLSX). Only programme staff, in their programmes' areas
(``policies.request_q``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.exceptions import RegistryError
from registry.workdays import working_days_between

from .. import policies, services
from ..choices import OPEN_REQUEST_STATUSES, ConsentPurpose, RequestStatus
from ..models import DataSubjectRequest, Household, Member


class RequestActionForm(ActionForm):
    """The action bar: the answer or the reason, and what an answer applies."""

    note = forms.CharField(label=_("answer or reason"), required=False)
    given_names = forms.CharField(label=_("corrected given names"), required=False)
    surnames = forms.CharField(label=_("corrected surnames"), required=False)
    document_number = forms.CharField(label=_("corrected document number"), required=False)
    phone = forms.CharField(label=_("corrected phone"), required=False)
    purposes = forms.MultipleChoiceField(
        label=_("purposes opposed"), choices=ConsentPurpose.choices, required=False
    )


class RequestForm(forms.ModelForm):
    """A new request, registered through ``services.request_register`` when the form is
    checked (its field errors shown on the form; the admin's transaction holds the write)."""

    class Meta:
        model = DataSubjectRequest
        fields = [
            "household",
            "member",
            "kind",
            "received_on",
            "channel",
            "identity_check",
            "details",
        ]

    actor: Any = None
    registered: DataSubjectRequest | None = None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.errors:
            return data
        try:
            self.registered = services.request_register(
                actor=self.actor,
                household=data["household"],
                member=data.get("member"),
                kind=data["kind"],
                received_on=data["received_on"],
                channel=data["channel"],
                identity_check=data["identity_check"],
                details=data.get("details") or "",
            )
        except ValidationError as exc:
            for attr, errors in exc.update_error_dict({}).items():
                self.add_error(attr if attr in self.fields else None, errors)
        except RegistryError as exc:
            self.add_error(None, str(exc.detail))
        return data

    def _post_clean(self) -> None:
        """The service has checked the request (the model's own checks would query again)."""


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """The queue of data-subject requests (see the module docstring)."""

    form = RequestForm
    action_form = RequestActionForm
    list_display = [
        "household",
        "member",
        "kind",
        "received_on",
        "due_on",
        "days_left",
        "status",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["household", "member"]
    search_fields = ["=household__code"]
    raw_id_fields = ["household", "member"]
    show_full_result_count = False
    actions = ["take", "answer", "refuse", "extend"]
    readonly_fields = [
        "status",
        "due_on",
        "extension_reason",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_by",
        "created_at",
        "access_file",
    ]

    # --- who ---------------------------------------------------------------------------------

    def _staff(self, request: HttpRequest) -> bool:
        return policies.may_handle_requests(request_actor(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._staff(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None or not self._staff(request):
            return False  # a request changes only through the actions (services)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataSubjectRequest]:
        """The actor's requests: open ones first, the earliest deadline (overdue) on top."""
        return (
            super()
            .get_queryset(request)
            .filter(policies.request_q(request_actor(request)))
            .annotate(
                closed=Case(
                    When(status__in=OPEN_REQUEST_STATUSES, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("closed", "due_on", "id")
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        actor = request_actor(request)
        if db_field.name == "household":
            kwargs["queryset"] = Household.objects.filter(policies.household_q(actor))
        elif db_field.name == "member":
            kwargs["queryset"] = Member.objects.filter(policies.member_q(actor))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kw)
        form.actor = request_actor(request)  # type: ignore[attr-defined]
        return form

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        """The request the form's check registered (``services.request_register``)."""
        return form.registered

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved by the service already."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related to save (the service wrote the request and its history)."""

    # --- columns -----------------------------------------------------------------------------

    @admin.display(description=_("working days left"))
    def days_left(self, obj: DataSubjectRequest) -> Any:
        if obj.status not in OPEN_REQUEST_STATUSES:
            return "—"
        left = working_days_between(timezone.localdate(), obj.due_on)
        if obj.due_on < timezone.localdate():
            return format_html('<strong class="errornote">{}</strong>', _("overdue"))
        return left

    @admin.display(description=_("access file"))
    def access_file(self, obj: DataSubjectRequest) -> Any:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">JSON</a> · <a href="{}">XLSX</a>',
            reverse("admin:farmers_datasubjectrequest_access", args=[obj.pk, "json"]),
            reverse("admin:farmers_datasubjectrequest_access", args=[obj.pk, "xlsx"]),
        )

    # --- the access file ---------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.access_view)
        return [
            path(
                "<uuid:pk>/acceso.<str:fmt>",
                view,
                name="farmers_datasubjectrequest_access",
            ),
            *super().get_urls(),
        ]

    def access_view(self, request: HttpRequest, pk: Any, fmt: str) -> HttpResponse:
        """Download everything held about the request's person (programme staff only)."""
        actor = request_actor(request)
        if not self._staff(request) or fmt not in ("json", "xlsx"):
            return HttpResponse(status=404)
        try:
            if fmt == "json":
                body = services.access_json(actor=actor, request=pk)
                content_type = "application/json; charset=utf-8"
            else:
                body = services.access_xlsx(actor=actor, request=pk)
                content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        except RegistryError:
            return HttpResponse(status=404)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="acceso-{pk}.{fmt}"'
        return response

    # --- actions -----------------------------------------------------------------------------

    def _move(self, request: HttpRequest, queryset: QuerySet[Any], to: str) -> None:
        actor = request_actor(request)
        post = request.POST
        note = post.get("note", "")
        changes = {
            name: post.get(name, "").strip()
            for name in ("given_names", "surnames", "document_number", "phone")
            if post.get(name, "").strip()
        }
        for record in queryset.filter(status__in=OPEN_REQUEST_STATUSES)[:100]:
            try:
                services.request_transition(
                    actor=actor,
                    request=record,
                    to=to,
                    reason=note,
                    note=note,
                    changes=changes,
                    purposes=post.getlist("purposes"),
                    channel="admin",
                )
            except RegistryError as exc:
                messages.warning(request, f"{record}: {exc.detail}")
            except ValidationError as exc:
                messages.warning(request, f"{record}: {' '.join(exc.messages)}")
            else:
                messages.success(request, f"{record.household}: {RequestStatus(to).label}")

    @admin.action(description=_("Take in progress"), permissions=["change"])
    def take(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._move(request, queryset, RequestStatus.IN_PROGRESS)

    @admin.action(description=_("Answer (applies the request)"), permissions=["change"])
    def answer(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._move(request, queryset, RequestStatus.ANSWERED)

    @admin.action(description=_("Refuse (give the reason)"), permissions=["change"])
    def refuse(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._move(request, queryset, RequestStatus.REFUSED)

    @admin.action(description=_("Extend once (give the reason)"), permissions=["change"])
    def extend(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._move(request, queryset, RequestStatus.EXTENDED)
