"""The contracts and deliveries staff and buyers export (``registry.exporting``), as their API
lists show them (scope, the buyer's own records, the family's consent), with labels and names."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registry import exporting
from registry.exporting import DECIMAL, Column, ExportResource, model_column

from .models import Contract, Delivery


def register() -> None:
    """Offer contracts and deliveries for export (from ``MarketsConfig.ready``)."""
    from .api.views import ContractViewSet, DeliveryViewSet

    exporting.register(
        ExportResource(
            name="contracts",
            label=_("contracts"),
            filename="contratos",
            viewset=ContractViewSet,
            route="contracts",
            model=Contract,
            columns=(
                Column("household.code", _("household")),
                Column("household.head_name", _("head of household")),
                Column("household.community", _("community")),
                model_column(Contract, "district"),
                model_column(Contract, "buyer", lookup="organization"),
                model_column(Contract, "seller_organization", lookup="organization"),
                model_column(Contract, "crop"),
                model_column(Contract, "product_form"),
                model_column(Contract, "season_start"),
                model_column(Contract, "season_end"),
                model_column(Contract, "volume_kg"),
                model_column(Contract, "price_rule"),
                model_column(Contract, "price_unit"),
                model_column(Contract, "price_pen"),
                model_column(Contract, "price_pen_per_kg"),
                model_column(Contract, "certification"),
                model_column(Contract, "status"),
                model_column(Contract, "signed_on"),
                model_column(Contract, "activated_on"),
                model_column(Contract, "closed_on"),
                model_column(Contract, "delivered_kg"),
                model_column(Contract, "accepted_kg"),
                model_column(Contract, "accepted_value_pen"),
                Column("fulfilment", _("fulfilment"), DECIMAL),
                model_column(Contract, "created_at"),
            ),
        )
    )
    exporting.register(
        ExportResource(
            name="deliveries",
            label=_("deliveries"),
            filename="entregas",
            viewset=DeliveryViewSet,
            route="deliveries",
            model=Delivery,
            columns=(
                Column("household.code", _("household")),
                Column("household.head_name", _("head of household")),
                model_column(Delivery, "buyer", lookup="organization"),
                model_column(Delivery, "delivered_on"),
                model_column(Delivery, "weight_kg"),
                model_column(Delivery, "quality_grade"),
                model_column(Delivery, "price_unit"),
                model_column(Delivery, "price_pen"),
                model_column(Delivery, "price_pen_per_kg"),
                model_column(Delivery, "amount_pen"),
                model_column(Delivery, "receipt_reference"),
                model_column(Delivery, "status"),
                model_column(Delivery, "rejection_reason"),
                model_column(Delivery, "paid_on"),
                model_column(Delivery, "paid_amount_pen"),
                model_column(Delivery, "confirmed_at"),
                model_column(Delivery, "created_at"),
            ),
        )
    )
