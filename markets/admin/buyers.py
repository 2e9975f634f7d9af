"""Buyers' side of the markets admin: households offered to buyers, buyers' contact details
and the yield norms, each saved through its service and allowed by ``markets.policies``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from farmers.choices import HouseholdStatus
from farmers.identity import normalize_phone
from registry.actors import Actor
from registry.admin import LargeTableAdmin, ProgrammeSettingsAdmin, request_actor
from registry.choices import OrganizationKind
from registry.models import Organization

from .. import policies, selectors, services
from ..choices import forms_for_crop
from ..models import BuyerOffer, BuyerProfile, HarvestCalendar, YieldNorm
from .common import BuyerFilter, apply_each


class BuyerOfferForm(forms.ModelForm):
    """Offer a household to a buyer: the same checks as the service (area, role, active)."""

    class Meta:
        model = BuyerOffer
        fields = ["household", "buyer", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.actor: Actor = kwargs.pop("actor")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        household = data.get("household")
        if household is None:
            return data
        if not policies.offer_can(self.actor, household, "view"):
            self.add_error("household", _("Unknown household."))
        elif not policies.offer_can(self.actor, household, "create"):
            self.add_error(
                None, _("Only programme staff and implementers may offer households to buyers.")
            )
        elif household.status != HouseholdStatus.ACTIVE:
            self.add_error(
                "household",
                _("Only households whose registration was approved can be offered to buyers."),
            )
        return data


@admin.register(BuyerOffer)
class BuyerOfferAdmin(LargeTableAdmin):
    """Households offered to buyers (the families a buyer may propose contracts to): programme
    staff add and withdraw offers in their area; never edited or deleted (history is kept)."""

    form = BuyerOfferForm
    list_display = ["household", "buyer", "program", "district", "offered_at", "withdrawn_at"]
    list_filter = [BuyerFilter]
    list_select_related = ["household", "buyer", "program", "district"]
    search_fields = ["=household__code", "buyer__code"]
    raw_id_fields = ["household"]
    actions = ["withdraw"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BuyerOffer]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.offer_q(actor))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        actor = request_actor(request)

        class WithActor(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, actor=actor, **kw)

        return WithActor

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [
            "household",
            "buyer",
            "program",
            "district",
            "note",
            "offered_at",
            "created_by",
            "created_by_key",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_by_key",
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            ["household", "buyer", "note"]
            if obj is None
            else self.get_readonly_fields(request, obj)
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "buyer":
            kwargs["queryset"] = Organization.objects.filter(
                kind=OrganizationKind.BUYER, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policies.offer_can(
            request_actor(request), None, "create"
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BuyerOffer, form: Any, change: bool) -> None:
        """Through the service (checks, history); an existing live offer is kept."""
        saved, _created = services.offer_create(
            actor=request_actor(request),
            household=obj.household,
            buyer=obj.buyer,
            note=obj.note,
            channel="admin",
        )
        obj.pk = saved.pk

    @admin.action(description=_("Withdraw the selected offers"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[BuyerOffer]) -> None:
        apply_each(
            request,
            queryset.filter(withdrawn_at__isnull=True),
            lambda actor, offer: services.offer_withdraw(actor=actor, offer=offer, channel="admin"),
            lambda n: _("%(n)s offers withdrawn.") % {"n": n},
        )


class BuyerProfileForm(forms.ModelForm):
    """Checks the phone the way the service stores it (E.164)."""

    class Meta:
        model = BuyerProfile
        fields = ["organization", "contact_name", "phone", "email"]

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data.get("phone") or "")
        return normalize_phone(phone) if phone else ""


@admin.register(BuyerProfile)
class BuyerProfileAdmin(ProgrammeSettingsAdmin):
    """Buyers' contact details (the buyer itself is an organization of kind buyer): edited by
    the staff of the agencies whose programmes the buyer works in (``registry.policies``)."""

    form = BuyerProfileForm

    list_display = ["organization", "contact_name", "phone", "email"]
    list_select_related = ["organization"]
    search_fields = ["organization__code", "organization__name", "organization__ruc"]
    fields = ["organization", "contact_name", "phone", "email"]

    def scope_rows(self, actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(organization__in=selectors.manageable_buyers(actor).values("pk"))

    def may_change(self, actor: Actor, obj: Any) -> bool:
        return policies.buyer_can(actor, obj.organization, "manage")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["organization"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = selectors.manageable_buyers(request_actor(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BuyerProfile, form: Any, change: bool) -> None:
        """Through the service: phone normalised to E.164, history recorded."""
        saved = services.buyer_profile_update(
            actor=request_actor(request),
            organization=obj.organization,
            contact_name=obj.contact_name,
            phone=obj.phone,
            email=obj.email,
            channel="admin",
        )
        obj.pk = saved.pk


class YieldNormForm(forms.ModelForm):
    """The product form must suit the crop."""

    class Meta:
        model = YieldNorm
        fields = [
            "crop",
            "product_form",
            "department",
            "kg_per_ha_per_season",
            "bearing_from_years",
            "full_from_years",
            "source",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        crop, form = data.get("crop"), data.get("product_form")
        if crop and form and form not in forms_for_crop(crop):
            self.add_error("product_form", _("This product form does not suit the crop."))
        return data


@admin.register(YieldNorm)
class YieldNormAdmin(admin.ModelAdmin):
    """Expected yields per hectare and season: programme staff tune them."""

    form = YieldNormForm

    list_display = [
        "crop",
        "product_form",
        "department",
        "kg_per_ha_per_season",
        "bearing_from_years",
        "full_from_years",
        "source",
        "updated_at",
    ]
    list_filter = ["crop"]
    fields = [
        "crop",
        "product_form",
        "department",
        "kg_per_ha_per_season",
        "bearing_from_years",
        "full_from_years",
        "source",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policies.yield_norm_can(
            request_actor(request), "add"
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and policies.yield_norm_can(
            request_actor(request)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: YieldNorm, form: Any, change: bool) -> None:
        """Through the service: the form suits the crop, history recorded."""
        saved = services.yield_norm_save(
            actor=request_actor(request),
            crop=obj.crop,
            product_form=obj.product_form,
            kg_per_ha_per_season=obj.kg_per_ha_per_season,
            source=obj.source,
            department=obj.department_id,
            bearing_from_years=obj.bearing_from_years,
            full_from_years=obj.full_from_years,
        )
        obj.pk = saved.pk


MONTHS = [
    (1, _("January")),
    (2, _("February")),
    (3, _("March")),
    (4, _("April")),
    (5, _("May")),
    (6, _("June")),
    (7, _("July")),
    (8, _("August")),
    (9, _("September")),
    (10, _("October")),
    (11, _("November")),
    (12, _("December")),
]


class HarvestCalendarForm(forms.ModelForm):
    """The harvest months as checkboxes (never the stored list)."""

    months = forms.TypedMultipleChoiceField(
        label=_("harvest months"),
        choices=MONTHS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = HarvestCalendar
        fields = ["crop", "department", "months", "source"]


@admin.register(HarvestCalendar)
class HarvestCalendarAdmin(admin.ModelAdmin):
    """The months each crop is harvested, by zone: programme staff tune them."""

    form = HarvestCalendarForm
    list_display = ["crop", "department", "months_shown", "source", "updated_at"]
    list_filter = ["crop"]
    fields = ["crop", "department", "months", "source"]

    @admin.display(description=_("harvest months"))
    def months_shown(self, obj: HarvestCalendar) -> str:
        names = dict(MONTHS)
        return ", ".join(str(names[m]) for m in obj.months if m in names)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and policies.yield_norm_can(
            request_actor(request), "add"
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and policies.yield_norm_can(
            request_actor(request)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: HarvestCalendar, form: Any, change: bool
    ) -> None:
        """Through the service: months checked, history recorded."""
        saved = services.harvest_calendar_save(
            actor=request_actor(request),
            crop=obj.crop,
            months=obj.months,
            department=obj.department_id,
            source=obj.source,
        )
        obj.pk = saved.pk
