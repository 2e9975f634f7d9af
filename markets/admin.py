"""Admin for programme staff: contracts with their deliveries, schedule and status history,
totals per buyer and crop, CSV export, buyers' contacts and the yield norms.

Status never changes by free editing: actions call the workflow services. Changelists are
narrowed to the person's area (the same rule as the API) and never count big tables.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from farmers.choices import HouseholdStatus
from farmers.identity import normalize_phone
from registry.actors import Actor
from registry.admin import CappedCountPaginator, ProgrammeSettingsAdmin, request_actor
from registry.admin_toolkit import ReadOnlyInline, stream_csv
from registry.choices import OrganizationKind
from registry.exceptions import RegistryError
from registry.models import Organization

from . import policies, selectors, services
from .choices import ContractStatus, DeliveryStatus, forms_for_crop
from .models import (
    BuyerOffer,
    BuyerProfile,
    Contract,
    ContractStatusChange,
    Delivery,
    DeliverySchedule,
    YieldNorm,
)


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fk_name = "contract"
    show_change_link = True
    fields = [
        "delivered_on",
        "weight_kg",
        "quality_grade",
        "price_pen_per_kg",
        "amount_pen",
        "status",
        "exceeds_volume",
        "paid_on",
        "paid_amount_pen",
        "receipt_reference",
    ]
    ordering = ["delivered_on"]


class ScheduleInline(ReadOnlyInline):
    model = DeliverySchedule
    fields = ["due_on", "expected_kg"]


class StatusChangeInline(ReadOnlyInline):
    model = ContractStatusChange
    fields = ["at", "from_status", "to_status", "reason", "created_by", "created_by_key"]
    verbose_name_plural = _("status history")


class SeasonYearFilter(admin.SimpleListFilter):
    """Contracts whose season touches a calendar year."""

    title = _("season")
    parameter_name = "season"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = Contract.objects.dates("season_start", "year", order="DESC")[:10]
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        year = int(value)
        return queryset.filter(season_start__year__lte=year, season_end__year__gte=year)


class BuyerFilter(admin.SimpleListFilter):
    """Only organizations that are buyers."""

    title = _("buyer")
    parameter_name = "buyer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in Organization.objects.filter(kind=OrganizationKind.BUYER).values_list(
                "pk", "name"
            )
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(buyer_id=value) if value and value.isdigit() else queryset


class ScopedMixin:
    """Narrows changelists and change views to what the person may see (as in the API)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(policies.contract_q(request_actor(request)))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded through the API by buyers and programme staff


CONTRACT_CSV = [
    "id",
    "household",
    "buyer",
    "district",
    "crop",
    "product_form",
    "season_start",
    "season_end",
    "volume_kg",
    "price_rule",
    "price_pen_per_kg",
    "price_floor_pen_per_kg",
    "certification",
    "status",
    "delivered_kg",
    "accepted_kg",
    "accepted_value_pen",
]


@admin.register(Contract)
class ContractAdmin(ScopedMixin, admin.ModelAdmin):
    """Contracts with their deliveries, schedule and status history."""

    list_display = [
        "household",
        "buyer",
        "crop",
        "product_form",
        "season_start",
        "season_end",
        "volume_kg",
        "accepted_kg",
        "fulfilment_pct",
        "status",
    ]
    list_filter = ["crop", BuyerFilter, "status", SeasonYearFilter, "certification"]
    list_select_related = ["household", "buyer"]
    search_fields = ["=household__code", "=id"]
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    readonly_fields = [
        "household",
        "buyer",
        "district",
        "program",
        "crop",
        "product_form",
        "season_start",
        "season_end",
        "volume_kg",
        "price_rule",
        "price_pen_per_kg",
        "price_floor_pen_per_kg",
        "reference_price_note",
        "quality_terms",
        "certification",
        "status",
        "status_reason",
        "activated_on",
        "closed_on",
        "delivered_kg",
        "accepted_kg",
        "accepted_value_pen",
        "fulfilment_pct",
        "created_by",
        "created_by_key",
        "version",
        "created_at",
        "updated_at",
    ]
    fields = tuple(readonly_fields)
    inlines = [ScheduleInline, DeliveryInline, StatusChangeInline]
    actions = ["activate", "complete", "cancel", "export_csv"]
    change_list_template = "admin/markets/contract/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewable; the workflow moves through actions only.
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("fulfilment"))
    def fulfilment_pct(self, obj: Contract) -> str:
        return f"{obj.fulfilment * 100:.1f} %"

    def _move(self, request: HttpRequest, queryset: QuerySet[Contract], to: str) -> None:
        actor = request_actor(request)
        done, refused = 0, []
        for contract in queryset[:500]:
            try:
                services.contract_transition(actor=actor, contract=contract, to=to, channel="admin")
                done += 1
            except (RegistryError, ValidationError) as exc:
                refused.append(f"{contract}: {getattr(exc, 'detail', None) or exc}")
        if done:
            messages.success(request, _("%(n)s contracts changed.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)

    @admin.action(description=_("Sign: make the selected draft contracts active"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.ACTIVE)

    @admin.action(description=_("Mark the selected contracts as completed"))
    def complete(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.COMPLETED)

    @admin.action(description=_("Cancel the selected draft contracts"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.CANCELLED)

    @admin.action(description=_("Export selected contracts as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Contract]
    ) -> StreamingHttpResponse:
        rows = (
            [
                c.pk,
                c.household.code,
                c.buyer.code,
                c.district_id,
                c.crop,
                c.product_form,
                c.season_start,
                c.season_end,
                c.volume_kg,
                c.price_rule,
                c.price_pen_per_kg or "",
                c.price_floor_pen_per_kg or "",
                c.certification,
                c.status,
                c.delivered_kg,
                c.accepted_kg,
                c.accepted_value_pen,
            ]
            for c in queryset.select_related("household", "buyer")
            .order_by("created_at")
            .iterator(chunk_size=2000)
        )
        return stream_csv(CONTRACT_CSV, rows, "contratos.csv")

    # --- totals per buyer and crop ---------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("totals/", view(self.totals_view), name="markets_contract_totals"),
            *super().get_urls(),
        ]

    def totals_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """Contracted kg, accepted kg and value per buyer and crop (of the contracts the person
        sees, narrowed by the changelist's filters); ``?format=csv`` downloads them."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        want_csv = request.GET.get("format") == "csv"
        if want_csv:
            params = request.GET.copy()
            params.pop("format")
            request.GET = params  # type: ignore[assignment]
        changelist = self.get_changelist_instance(request)
        totals = selectors.totals_by_buyer_and_crop(changelist.get_queryset(request))
        if want_csv:
            header = [
                "buyer",
                "crop",
                "product_form",
                "contracted_kg",
                "accepted_kg",
                "accepted_value_pen",
            ]
            rows = (
                [
                    t["buyer__code"],
                    t["crop"],
                    t["product_form"],
                    t["contracted_kg"],
                    t["accepted_kg"],
                    t["accepted_value_pen"],
                ]
                for t in totals
            )
            return stream_csv(header, rows, "totales_por_comprador.csv")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Totals per buyer and crop"),
            "totals": totals,
        }
        return TemplateResponse(request, "admin/markets/contract/totals.html", context)


DELIVERY_CSV = [
    "id",
    "contract",
    "household",
    "buyer",
    "delivered_on",
    "weight_kg",
    "quality_grade",
    "price_pen_per_kg",
    "amount_pen",
    "status",
    "exceeds_volume",
    "paid_on",
    "paid_amount_pen",
    "payment_reference",
    "receipt_reference",
]


@admin.register(Delivery)
class DeliveryAdmin(ScopedMixin, admin.ModelAdmin):
    """Deliveries: the reception queue (accept through the service) and CSV export."""

    list_display = [
        "delivered_on",
        "household",
        "buyer",
        "weight_kg",
        "quality_grade",
        "price_pen_per_kg",
        "amount_pen",
        "status",
        "confirmed_at",
        "exceeds_volume",
    ]
    list_filter = [
        "status",
        ("confirmed_at", admin.EmptyFieldListFilter),
        BuyerFilter,
        "exceeds_volume",
        "quality_grade",
    ]
    list_select_related = ["household", "buyer"]
    search_fields = ["=receipt_reference", "=household__code"]
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    date_hierarchy = None
    readonly_fields = [
        "contract",
        "household",
        "buyer",
        "delivered_on",
        "weight_kg",
        "quality_grade",
        "price_pen_per_kg",
        "amount_pen",
        "receipt_reference",
        "status",
        "exceeds_volume",
        "rejection_reason",
        "note",
        "payment_reference",
        "paid_on",
        "paid_amount_pen",
        "created_by",
        "created_by_key",
        "confirmed_at",
        "confirmed_by",
        "confirmed_by_key",
        "version",
        "created_at",
    ]
    fields = tuple(readonly_fields)
    actions = ["accept", "confirm", "export_csv"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.action(description=_("Accept the selected recorded deliveries"))
    def accept(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        actor = request_actor(request)
        done, refused = 0, []
        for delivery in queryset.filter(status=DeliveryStatus.RECORDED)[:500]:
            try:
                services.delivery_transition(
                    actor=actor, delivery=delivery, to=DeliveryStatus.ACCEPTED, channel="admin"
                )
                done += 1
            except (RegistryError, ValidationError) as exc:
                refused.append(f"{delivery}: {getattr(exc, 'detail', None) or exc}")
        if done:
            messages.success(request, _("%(n)s deliveries accepted.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)

    @admin.action(description=_("Confirm the selected accepted deliveries (programme)"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        actor = request_actor(request)
        done, refused = 0, []
        pending = queryset.filter(
            status__in=[DeliveryStatus.ACCEPTED, DeliveryStatus.PAID], confirmed_at__isnull=True
        )
        for delivery in pending[:500]:
            try:
                services.delivery_confirm(actor=actor, delivery=delivery, channel="admin")
                done += 1
            except (RegistryError, ValidationError) as exc:
                refused.append(f"{delivery}: {getattr(exc, 'detail', None) or exc}")
        if done:
            messages.success(request, _("%(n)s deliveries confirmed.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)

    @admin.action(description=_("Export selected deliveries as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Delivery]
    ) -> StreamingHttpResponse:
        rows = (
            [
                d.pk,
                d.contract_id,
                d.household.code,
                d.buyer.code,
                d.delivered_on,
                d.weight_kg,
                d.quality_grade,
                d.price_pen_per_kg,
                d.amount_pen,
                d.status,
                d.exceeds_volume,
                d.paid_on or "",
                d.paid_amount_pen if d.paid_amount_pen is not None else "",
                d.payment_reference,
                d.receipt_reference,
            ]
            for d in queryset.select_related("household", "buyer")
            .order_by("created_at")
            .iterator(chunk_size=2000)
        )
        return stream_csv(DELIVERY_CSV, rows, "entregas.csv")


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
class BuyerOfferAdmin(admin.ModelAdmin):
    """Households offered to buyers (the families a buyer may propose contracts to): programme
    staff add and withdraw offers in their area; never edited or deleted (history is kept)."""

    form = BuyerOfferForm
    list_display = ["household", "buyer", "program", "district", "offered_at", "withdrawn_at"]
    list_filter = [BuyerFilter]
    list_select_related = ["household", "buyer", "program", "district"]
    search_fields = ["=household__code", "buyer__code"]
    raw_id_fields = ["household"]
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
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
        actor = request_actor(request)
        done, refused = 0, []
        for offer in queryset.filter(withdrawn_at__isnull=True)[:500]:
            try:
                services.offer_withdraw(actor=actor, offer=offer, channel="admin")
                done += 1
            except (RegistryError, ValidationError) as exc:
                refused.append(f"{offer}: {getattr(exc, 'detail', None) or exc}")
        if done:
            messages.success(request, _("%(n)s offers withdrawn.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)


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
        fields = ["crop", "product_form", "kg_per_ha_per_season", "source"]

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

    list_display = ["crop", "product_form", "kg_per_ha_per_season", "source", "updated_at"]
    list_filter = ["crop"]
    fields = ["crop", "product_form", "kg_per_ha_per_season", "source"]

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
        )
        obj.pk = saved.pk
