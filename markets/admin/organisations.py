"""Admin pages of producer organisations (cooperatives and associations) and of their members.

The organisation's page shows its details as on any organisation's page, its member households
(read-only rows, each with a link to the membership) and an "add a member" link. A membership's
own page adds a member (organisation, household in the person's area, role, day it joined) or
changes its role and records the day it left, always through
``markets.services.organisations`` (``membership_create`` / ``membership_update``): the form's
check calls the service and shows its refusals as field errors; nothing else is saved. Who may
write: programme people with households:write in the household's area
(``policies.membership_can``), within their admin group's model permissions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from farmers.models import Household
from registry.admin import LargeTableAdmin, VersionedForm, request_actor
from registry.admin.organizations import OrganizationAdmin
from registry.admin_toolkit import ReadOnlyInline
from registry.choices import OrganizationKind
from registry.exceptions import RegistryError
from registry.models import Organization

from .. import policies
from ..models import ProducerMembership, ProducerOrganization
from ..services import organisations as services

# Days are typed dd/mm/aaaa (the ISO form of a date picker is accepted too), in any language.
DAY_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


def day_field(label: Any, *, required: bool) -> forms.DateField:
    """A date typed dd/mm/aaaa (in any language), with the admin's calendar."""
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DAY_FORMATS,
        widget=AdminDateWidget(format="%d/%m/%Y"),
        help_text=_("dd/mm/aaaa"),
    )


class MemberInline(ReadOnlyInline):
    """The organisation's member households the person may see (their area), each with a link to
    its membership page (change the role, record the day it left)."""

    model = ProducerMembership
    fk_name = "organization"
    fields = ["household", "role", "joined_on", "left_on", "created_at", "membership_link"]
    ordering = ["joined_on", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProducerMembership]:
        queryset = super().get_queryset(request).select_related("household")
        return queryset.filter(policies.membership_q(request_actor(request)))

    @admin.display(description=_("membership page"))
    def membership_link(self, obj: ProducerMembership) -> Any:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:markets_producermembership_change", args=[obj.pk]),
            _("Open the membership"),
        )


@admin.register(ProducerOrganization)
class ProducerOrganizationAdmin(OrganizationAdmin):
    """Cooperatives and associations with their members; the kind is always ``producer_org``."""

    list_display = ["code", "name", "ruc", "district", "is_active"]
    list_filter = ["is_active"]
    exclude = ["kind"]
    inlines = [MemberInline]
    change_form_template = "admin/markets/producerorganization/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(kind=OrganizationKind.PRODUCER_ORG)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.kind = OrganizationKind.PRODUCER_ORG
        super().save_model(request, obj, form, change)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        """The page, with the "add a member" link (prefilled with the organisation) for whoever
        may add members."""
        context = dict(extra_context or {})
        if self.admin_site.get_model_admin(ProducerMembership).has_add_permission(request):
            url = reverse("admin:markets_producermembership_add")
            context["member_add_url"] = f"{url}?organization={object_id}"
        return super().change_view(request, object_id, form_url, context)


def _service_errors(form: forms.BaseForm, exc: ValidationError | RegistryError) -> None:
    """A service's refusal on the form: on its field when the form shows it, else on top."""
    if isinstance(exc, RegistryError):
        form.add_error(None, str(exc.detail))
        return
    for attr, errors in exc.update_error_dict({}).items():
        form.add_error(attr if attr in form.fields else None, errors)


class MembershipAddForm(forms.ModelForm):
    """A new member, added through ``services.membership_create`` when the form is checked
    (its refusals shown on the fields; the admin's transaction holds the write)."""

    class Meta:
        model = ProducerMembership
        fields = ["organization", "household", "role", "joined_on"]

    actor: Any = None
    saved: ProducerMembership | None = None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.errors:
            return data
        try:
            self.saved = services.membership_create(
                actor=self.actor,
                organization=data["organization"],
                household=data["household"],
                role=data["role"],
                joined_on=data["joined_on"],
                channel="admin",
            )
        except (ValidationError, RegistryError) as exc:
            _service_errors(self, exc)
        return data

    def _post_clean(self) -> None:
        """The service has checked the membership (the model's own checks would query again)."""


class MembershipChangeForm(VersionedForm):
    """A member's new role or the day it left, through ``services.membership_update`` (with the
    version the editor started from)."""

    class Meta:
        model = ProducerMembership
        fields = ["role", "left_on"]

    actor: Any = None
    saved: ProducerMembership | None = None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.errors:
            return data
        try:
            self.saved = services.membership_update(
                actor=self.actor,
                membership=self.instance,
                role=data.get("role"),
                left_on=data.get("left_on"),
                expected_version=data.get("edited_version"),
                channel="admin",
            )
        except (ValidationError, RegistryError) as exc:
            _service_errors(self, exc)
        return data

    def _post_clean(self) -> None:
        """The service has checked the change."""


@admin.register(ProducerMembership)
class ProducerMembershipAdmin(LargeTableAdmin):
    """Memberships of producer organisations in the person's area: add a member, change its role
    or record the day it left (see the module docstring); never deleted."""

    list_display = ["household", "organization", "role", "joined_on", "left_on"]
    list_filter = ["role"]
    list_select_related = ["household", "organization"]
    search_fields = ["=household__code"]
    raw_id_fields = ["household"]
    ordering = ["-joined_on", "id"]

    # --- who ---------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProducerMembership]:
        queryset = super().get_queryset(request).select_related("household", "organization")
        return queryset.filter(policies.membership_q(request_actor(request)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policies.may_write_memberships(
            request_actor(request)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        actor = request_actor(request)
        if obj is None:
            return policies.may_write_memberships(actor)
        return policies.membership_can(actor, obj.household)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a member leaves (the day it left is recorded); the row stays

    # --- the forms ---------------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["organization", "household", "role", "joined_on"]
        fields = [
            "organization",
            "household",
            "role",
            "joined_on",
            "left_on",
            "created_by",
            "created_at",
            "version",
        ]
        if self.has_change_permission(request, obj):
            fields.append("edited_version")  # the version the editor started from (hidden)
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        fixed = ["organization", "household", "joined_on", "created_by", "created_at", "version"]
        if obj.left_on is not None:
            fixed.append("left_on")  # a membership that has ended stays ended
        return fixed

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in ("joined_on", "left_on"):
            return day_field(capfirst(db_field.verbose_name), required=not db_field.null)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.filter(
                kind=OrganizationKind.PRODUCER_ORG, is_active=True
            ).order_by("name")
        elif db_field.name == "household":
            actor = request_actor(request)
            kwargs["queryset"] = Household.objects.filter(policies.membership_household_q(actor))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any
    ) -> Any:
        kw["form"] = MembershipAddForm if obj is None else MembershipChangeForm
        form = super().get_form(request, obj, change=change, **kw)
        form.actor = request_actor(request)  # type: ignore[attr-defined]
        return form

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        """The membership the form's check wrote (or left as it was)."""
        return form.saved

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved by the service already."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related to save (the service wrote the membership and its change record)."""
