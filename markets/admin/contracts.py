"""Contracts with their deliveries, schedule and status history, totals per buyer and crop,
CSV exports; the deliveries' reception queue. Status moves through actions that call the
workflow services; changelists show what the person may see (``markets.policies``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.admin import LargeTableAdmin, request_actor
from registry.admin.exports import ExportActionsMixin
from registry.admin_toolkit import DashboardLinksMixin, ReadOnlyInline, stream_csv
from registry.display import number

from .. import eudr, selectors, services
from ..choices import ContractStatus, DeliveryStatus
from ..models import Contract, ContractStatusChange, Delivery, DeliverySchedule
from .common import BuyerFilter, ScopedMixin, apply_each
from .story import ContractStoryMixin


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fk_name = "contract"
    show_change_link = True
    fields = [
        "delivered_on",
        "weight_kg",
        "quality_grade",
        "price_pen",
        "price_unit",
        "amount_pen",
        "status",
        "exceeds_volume",
        "price_below_contract",
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


@admin.register(Contract)
class ContractAdmin(
    DashboardLinksMixin, ExportActionsMixin, ContractStoryMixin, ScopedMixin, LargeTableAdmin
):
    """Contracts with their deliveries, schedule and status history."""

    # The dashboard's links (``markets.dashboard``): the active contracts by product form.
    dashboard_lookups = frozenset({"status__exact", "product_form__exact"})

    list_display = [
        "household",
        "seller_organization",
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
    list_select_related = ["household", "buyer", "seller_organization"]
    search_fields = ["=household__code", "=id"]
    readonly_fields = [
        "household",
        "seller_organization",
        "buyer",
        "district",
        "program",
        "crop",
        "product_form",
        "season_start",
        "season_end",
        "volume_kg",
        "price_rule",
        "price_unit",
        "price_pen",
        "price_floor_pen",
        "price_pen_per_kg",
        "price_floor_pen_per_kg",
        "reference_price_note",
        "quality_terms",
        "certification",
        "status",
        "status_reason",
        "signed_on",
        "activated_on",
        "closed_on",
        "delivered_kg",
        "accepted_kg",
        "accepted_value_pen",
        "fulfilment_pct",
        "eudr_download",
        "plots_map",
        "history_in_words",
        "created_by",
        "created_by_key",
        "version",
        "created_at",
        "updated_at",
    ]
    fields = tuple(readonly_fields)
    inlines = [ScheduleInline, DeliveryInline, StatusChangeInline]
    actions = ["activate", "complete", "cancel"]
    change_list_template = "admin/markets/contract/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewable; the workflow moves through actions only.
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("fulfilment"))
    def fulfilment_pct(self, obj: Contract) -> str:
        return f"{number(obj.fulfilment * 100, 1)} %"

    def _move(self, request: HttpRequest, queryset: QuerySet[Contract], to: str) -> None:
        apply_each(
            request,
            queryset,
            lambda actor, contract: services.contract_transition(
                actor=actor, contract=contract, to=to, channel="admin"
            ),
            lambda n: _("%(n)s contracts changed.") % {"n": n},
        )

    @admin.action(description=_("Sign: make the selected draft contracts active"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.ACTIVE)

    @admin.action(description=_("Mark the selected contracts as completed"))
    def complete(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.COMPLETED)

    @admin.action(description=_("Cancel the selected draft contracts"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Contract]) -> None:
        self._move(request, queryset, ContractStatus.CANCELLED)

    # --- totals per buyer and crop ---------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("totals/", view(self.totals_view), name="markets_contract_totals"),
            path("<uuid:object_id>/eudr/", view(self.eudr_view), name="markets_contract_eudr"),
            *super().get_urls(),
        ]

    @admin.display(description=_("EUDR geolocation"))
    def eudr_download(self, obj: Contract) -> str:
        """A link to the contract's EUDR GeoJSON file (the API's ``contracts/{id}/eudr/``)."""
        url = reverse("admin:markets_contract_eudr", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the GeoJSON file (EUDR)"))

    def eudr_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """The same file as ``GET contracts/{id}/eudr/``, as a download (the read is logged)."""
        contract = self.get_queryset(request).filter(pk=object_id).first()
        if contract is None or not self.has_view_permission(request, contract):
            raise Http404
        text = eudr.eudr_read(request_actor(request), contract, request.get_full_path())
        response = HttpResponse(text, content_type=eudr.MEDIA_TYPE)
        response["Content-Disposition"] = f'attachment; filename="eudr-{contract.pk}.geojson"'
        return response

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


@admin.register(Delivery)
class DeliveryAdmin(DashboardLinksMixin, ExportActionsMixin, ScopedMixin, LargeTableAdmin):
    """Deliveries: the reception queue (accept through the service) and XLSX / CSV export."""

    # The dashboard's links (``markets.dashboard``): the sales behind a figure.
    dashboard_lookups = frozenset(
        {"status__in", "delivered_on__gte", "delivered_on__lte", "contract__product_form__exact"}
    )

    list_display = [
        "delivered_on",
        "household",
        "buyer",
        "weight_kg",
        "quality_grade",
        "price_pen",
        "price_unit",
        "amount_pen",
        "status",
        "confirmed_at",
        "exceeds_volume",
        "price_below_contract",
    ]
    list_filter = [
        "status",
        ("confirmed_at", admin.EmptyFieldListFilter),
        BuyerFilter,
        "exceeds_volume",
        "price_below_contract",
        "quality_grade",
    ]
    list_select_related = ["household", "buyer"]
    search_fields = ["=receipt_reference", "=household__code"]
    date_hierarchy = None
    readonly_fields = [
        "contract",
        "household",
        "buyer",
        "delivered_on",
        "weight_kg",
        "quality_grade",
        "price_unit",
        "price_pen",
        "price_pen_per_kg",
        "price_below_contract",
        "price_reason",
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
    actions = ["accept", "confirm"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.action(description=_("Accept the selected recorded deliveries"))
    def accept(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        apply_each(
            request,
            queryset.filter(status=DeliveryStatus.RECORDED),
            lambda actor, delivery: services.delivery_transition(
                actor=actor, delivery=delivery, to=DeliveryStatus.ACCEPTED, channel="admin"
            ),
            lambda n: _("%(n)s deliveries accepted.") % {"n": n},
        )

    @admin.action(description=_("Confirm the selected accepted deliveries (programme)"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        pending = queryset.filter(
            status__in=[DeliveryStatus.ACCEPTED, DeliveryStatus.PAID], confirmed_at__isnull=True
        )
        apply_each(
            request,
            pending,
            lambda actor, delivery: services.delivery_confirm(
                actor=actor, delivery=delivery, channel="admin"
            ),
            lambda n: _("%(n)s deliveries confirmed.") % {"n": n},
        )
