"""Serializers of the markets API: explicit fields; a household appears only as the few fields a
contract needs (no national IDs, phones or coca data, whoever asks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farmers.choices import Crop
from farmers.consent import personal_visible
from farmers.models import Household
from markets.choices import (
    Certification,
    ContractStatus,
    DeliveryStatus,
    MemberRole,
    PriceRule,
    ProductForm,
    QualityGrade,
    RejectionReason,
)
from markets.models import (
    BuyerOffer,
    Contract,
    ContractStatusChange,
    Delivery,
    DeliverySchedule,
    ProducerMembership,
    contract_fulfilment,
)
from registry.api.fields import BoundedDateField, ChoiceField, DecimalStringField, funder_code_field
from registry.models import Organization

SLUG = r"^[-a-zA-Z0-9_]+$"


CENT = Decimal("0.01")
_DATETIME = serializers.DateTimeField()


def _money(value: Decimal | None) -> str | None:
    """A two-place decimal string, as DRF's ``DecimalField(decimal_places=2)`` renders it."""
    return None if value is None else f"{Decimal(value).quantize(CENT):f}"


class HouseholdRefSerializer(serializers.ModelSerializer[Household]):
    """The household of a contract: only what a buyer needs to recognise the family."""

    district = serializers.CharField(source="district_id", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    community = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Household
        fields = ["id", "code", "head_name", "district", "community"]
        read_only_fields = fields


def household_ref(household: Household, *, personal: bool = True) -> dict[str, Any]:
    """The household as ``HouseholdRefSerializer`` shows it, built directly (hot list path);
    without ``personal`` (the family's consent does not cover the caller: ``farmers.consent``)
    the head's name and community are ``null``."""
    return {
        "id": str(household.pk),
        "code": household.code,
        "head_name": household.head_name if personal else None,
        "district": household.district_id,
        "community": household.community if personal else None,
    }


def _personal(serializer: serializers.BaseSerializer[Any], record: Any) -> bool:
    """Whether the caller sees the personal data of ``record``'s household (its consent)."""
    return personal_visible(serializer.context.get("actor"), record)


class OfferedHouseholdSerializer(serializers.ModelSerializer[Household]):
    """A household offered to a buyer: only its id (to propose a contract), code and district;
    the head's name and community appear on the buyer's contracts, nothing more, ever."""

    district = serializers.CharField(source="district_id", read_only=True)

    class Meta:
        model = Household
        fields = ["id", "code", "district"]
        read_only_fields = fields


class OfferSerializer(serializers.ModelSerializer[BuyerOffer]):
    """The programme's offer of a household to a buyer."""

    household = OfferedHouseholdSerializer(read_only=True)
    buyer = serializers.CharField(source="buyer.code", read_only=True)
    program = serializers.CharField(source="program.code", read_only=True)

    class Meta:
        model = BuyerOffer
        fields = ["id", "household", "buyer", "program", "offered_at", "withdrawn_at"]
        read_only_fields = fields


class OfferCreateSerializer(serializers.Serializer[Any]):
    """Offer an active household to a buyer (programme staff and implementers, in their area)."""

    household = serializers.UUIDField()
    buyer = serializers.RegexField(SLUG, max_length=64)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OfferWithdrawSerializer(serializers.Serializer[Any]):
    """Withdraw an offer (optionally saying why; kept in the history)."""

    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class BuyerSerializer(serializers.ModelSerializer[Organization]):
    """A buyer or cooperative with its RUC and contact details."""

    district = serializers.CharField(source="district_id", read_only=True, allow_null=True)
    contact_name = serializers.CharField(
        source="buyer_profile.contact_name", read_only=True, default=""
    )
    phone = serializers.CharField(source="buyer_profile.phone", read_only=True, default="")
    email = serializers.CharField(source="buyer_profile.email", read_only=True, default="")

    class Meta:
        model = Organization
        fields = [
            "code",
            "name",
            "ruc",
            "district",
            "contact_name",
            "phone",
            "email",
            "is_active",
            "version",
        ]
        read_only_fields = fields


class BuyerCreateSerializer(serializers.Serializer[Any]):
    """Register a buyer: idempotent on ``code``; the RUC's check digit is verified."""

    code = serializers.RegexField(SLUG, max_length=50)
    name = serializers.CharField(max_length=200)
    ruc = serializers.CharField(
        max_length=20, help_text=_("11 digits; the check digit is verified (SUNAT).")
    )
    district = serializers.RegexField(r"^[0-9]{6}$", max_length=6, required=False)
    contact_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")


class ScheduleSerializer(serializers.ModelSerializer[DeliverySchedule]):
    """A delivery the contract expects by a date."""

    class Meta:
        model = DeliverySchedule
        fields = ["due_on", "expected_kg"]
        read_only_fields = fields


class ScheduleInputSerializer(serializers.Serializer[Any]):
    due_on = BoundedDateField(kind="plan")
    expected_kg = DecimalStringField(max_digits=12, decimal_places=2)


class StatusChangeSerializer(serializers.ModelSerializer[ContractStatusChange]):
    """One entry of a contract's status ledger."""

    class Meta:
        model = ContractStatusChange
        fields = ["from_status", "to_status", "reason", "at"]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer[Contract]):
    """A market-access contract with its running delivery totals and fulfilment. Its seller is
    a household or (``seller_organization``) a producer organisation; the other is null. The
    household's name and community only where its consent covers the caller."""

    household = HouseholdRefSerializer(read_only=True, allow_null=True)
    seller_organization = serializers.CharField(
        source="seller_organization.code", read_only=True, allow_null=True, default=None
    )
    buyer = serializers.CharField(source="buyer.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    funding_source = serializers.SerializerMethodField(
        help_text=_("Funder of the programme's support to the contract (organization code).")
    )
    fulfilment = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        read_only=True,
        help_text=_("Accepted kg over contracted kg (1.0000 = fulfilled)."),
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "household",
            "seller_organization",
            "buyer",
            "district",
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
            "funding_source",
            "status",
            "status_reason",
            "signed_on",
            "activated_on",
            "closed_on",
            "delivered_kg",
            "accepted_kg",
            "accepted_value_pen",
            "fulfilment",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # Set by ``lean_row_mask`` on the lean list path (``registry.api.lean``).
    lean_computed = ("funding_source", "fulfilment")

    def get_funding_source(self, contract: Contract) -> str | None:
        """The funder's code (``funding_source_code``)."""
        return funding_source_code(contract)

    def to_representation(self, instance: Contract) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        self.lean_row_mask(self.context, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """The funder and the fulfilment of ``record`` (a contract, or a row of the lean list
        path: its columns), and its household's name and community withheld where the
        household's consent does not cover the caller."""
        data["funding_source"] = funding_source_code(record)
        data["fulfilment"] = cls._declared_fields["fulfilment"].to_representation(
            contract_fulfilment(record.accepted_kg, record.volume_kg)
        )
        # An organisation's contract has no household (its members are on the deliveries).
        if data["household"] is not None and not personal_visible(context.get("actor"), record):
            data["household"] = household_ref(record.household, personal=False)


def funding_source_code(contract: Any) -> str | None:
    """The funder's code of ``contract``: annotated by ``contract_list`` (no query; a row of
    the lean list has it too), else looked up."""
    if hasattr(contract, "funding_source_code"):
        return cast(str | None, contract.funding_source_code)
    return contract.funding_source.code if contract.funding_source_id else None


class ContractDetailSerializer(ContractSerializer):
    """A contract with its delivery schedule and status history."""

    schedule = ScheduleSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(many=True, read_only=True, source="status_changes")

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "schedule", "status_history"]
        read_only_fields = fields


def override_reason_field() -> serializers.CharField:
    """``override_reason``: programme staff's reason to go ahead for a suspended household."""
    return serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Programme staff only: why this goes ahead while the household is relapsed or excluded."
        ),
    )


class ContractCreateSerializer(serializers.Serializer[Any]):
    """Record a draft contract. Give the volume in kg, or (coffee) in quintales of 46 kg."""

    id = serializers.UUIDField(required=False, help_text=_("Client-chosen id: retries are safe."))
    household = serializers.UUIDField(
        required=False,
        help_text=_("The selling household (or give seller_organization instead)."),
    )
    seller_organization = serializers.RegexField(
        SLUG,
        max_length=50,
        required=False,
        help_text=_("The code of the selling producer organisation (instead of household)."),
    )
    program = serializers.RegexField(
        SLUG,
        max_length=50,
        required=False,
        help_text=_(
            "An organisation's contract only: the programme (default: the organisation's only "
            "assigned programme)."
        ),
    )
    buyer = serializers.RegexField(SLUG, max_length=50)
    crop = ChoiceField(choices=Crop.choices)
    product_form = ChoiceField(choices=ProductForm.choices)
    season_start = BoundedDateField(kind="plan")
    season_end = BoundedDateField(kind="plan")
    volume_kg = DecimalStringField(max_digits=12, decimal_places=2, required=False)
    volume_qq = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("Quintales of 46 kg, converted to kg (instead of volume_kg)."),
    )
    price_rule = ChoiceField(choices=PriceRule.choices, default=PriceRule.FIXED)
    price_pen_per_kg = DecimalStringField(max_digits=10, decimal_places=2, required=False)
    price_floor_pen_per_kg = DecimalStringField(max_digits=10, decimal_places=2, required=False)
    price_pen_per_qq = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("The price per quintal of 46 kg, kept as given (instead of price_pen_per_kg)."),
    )
    price_floor_pen_per_qq = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("The floor per quintal of 46 kg (instead of price_floor_pen_per_kg)."),
    )
    reference_price_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    quality_terms = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    certification = ChoiceField(choices=Certification.choices, default=Certification.NONE)
    schedule = serializers.ListField(child=ScheduleInputSerializer(), required=False, max_length=52)
    override_reason = override_reason_field()
    funding_source = funder_code_field(
        _("Funder of the programme's support to the contract (organization code, kind funder).")
    )


class ContractTransitionSerializer(serializers.Serializer[Any]):
    """A contract move: ``{"to": "active"}``; suspension and termination need a ``reason``."""

    to = ChoiceField(choices=ContractStatus.choices)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    override_reason = override_reason_field()
    signed_on = BoundedDateField(
        kind="event",
        required=False,
        help_text=_(
            "Signing a draft (to active) only: the day the parties signed (default today). "
            "No delivery may precede it."
        ),
    )


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    """A delivery with its computed amount and, once paid, its payment."""

    contract = serializers.UUIDField(source="contract_id", read_only=True)
    household = serializers.SerializerMethodField()
    buyer = serializers.CharField(source="buyer.code", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "contract",
            "household",
            "buyer",
            "delivered_on",
            "weight_kg",
            "quality_grade",
            "price_unit",
            "price_pen",
            "price_pen_per_kg",
            "price_reason",
            "price_below_contract",
            "amount_pen",
            "receipt_reference",
            "status",
            "exceeds_volume",
            "rejection_reason",
            "note",
            "payment_reference",
            "paid_on",
            "paid_amount_pen",
            "confirmed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(HouseholdRefSerializer)
    def get_household(self, delivery: Delivery) -> dict[str, Any]:
        return household_ref(delivery.household, personal=_personal(self, delivery))

    # Set by ``lean_row_mask`` on the lean list path (``registry.api.lean``).
    lean_computed = ("household",)

    def to_representation(self, instance: Delivery) -> dict[str, Any]:
        """The same output as the declared fields give (a test holds them equal), built
        directly: a delivery read alone, or a page on the serializer path."""
        d = instance
        data = {
            "id": str(d.pk),
            "contract": str(d.contract_id),
            "household": None,
            "buyer": d.buyer.code,
            "delivered_on": d.delivered_on.isoformat(),
            "weight_kg": _money(d.weight_kg),
            "quality_grade": d.quality_grade,
            "price_unit": d.price_unit,
            "price_pen": _money(d.price_pen),
            "price_pen_per_kg": _money(d.price_pen_per_kg),
            "price_reason": d.price_reason,
            "price_below_contract": d.price_below_contract,
            "amount_pen": _money(d.amount_pen),
            "receipt_reference": d.receipt_reference,
            "status": d.status,
            "exceeds_volume": d.exceeds_volume,
            "rejection_reason": d.rejection_reason,
            "note": d.note,
            "payment_reference": d.payment_reference,
            "paid_on": d.paid_on.isoformat() if d.paid_on is not None else None,
            "paid_amount_pen": _money(d.paid_amount_pen),
            "confirmed_at": (
                _DATETIME.to_representation(d.confirmed_at) if d.confirmed_at is not None else None
            ),
            "version": d.version,
            "created_at": _DATETIME.to_representation(d.created_at),
            "updated_at": _DATETIME.to_representation(d.updated_at),
        }
        self.lean_row_mask(self.context, d, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """The household of ``record`` (a delivery, or a row of the lean list path: its
        ``household__…`` columns), its name and community only where its consent covers the
        caller."""
        personal = personal_visible(context.get("actor"), record)
        data["household"] = household_ref(record.household, personal=personal)

    def generic_representation(self, instance: Delivery) -> dict[str, Any]:
        """What DRF's declared fields produce (kept to check the fast path against)."""
        return dict(super().to_representation(instance))


class DeliveryCreateSerializer(serializers.Serializer[Any]):
    """Record a delivery against an active contract. ``amount_pen`` is computed."""

    id = serializers.UUIDField(required=False, help_text=_("Client-chosen id: retries are safe."))
    contract = serializers.UUIDField()
    household = serializers.UUIDField(
        required=False,
        help_text=_(
            "Under a producer organisation's contract (required there): the member household "
            "the produce came from, a member on the delivery date."
        ),
    )
    delivered_on = BoundedDateField(kind="event")
    weight_kg = DecimalStringField(max_digits=12, decimal_places=2, required=False)
    weight_qq = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("Quintales of 46 kg, converted to kg (instead of weight_kg)."),
    )
    quality_grade = ChoiceField(choices=QualityGrade.choices)
    price_pen_per_kg = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_(
            "Defaults to the contract's price; below the contract's price (or floor) it needs "
            "a price_reason."
        ),
    )
    price_pen_per_qq = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("The price per quintal of 46 kg, kept as given (instead of price_pen_per_kg)."),
    )
    price_reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Why the price is below the contract's price or floor (required then)."),
    )
    receipt_reference = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    override_reason = override_reason_field()


class DeliveryTransitionSerializer(serializers.Serializer[Any]):
    """``accepted``; ``rejected`` with a ``rejection_reason``; ``paid`` with
    ``payment_reference`` and ``paid_on`` (``paid_amount_pen`` defaults to the amount)."""

    to = ChoiceField(choices=DeliveryStatus.choices)
    rejection_reason = ChoiceField(choices=RejectionReason.choices, required=False)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    payment_reference = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    paid_on = BoundedDateField(kind="event", required=False)
    paid_amount_pen = DecimalStringField(max_digits=14, decimal_places=2, required=False)


class OrganizationRefSerializer(serializers.ModelSerializer[Organization]):
    """A producer organisation as a membership names it."""

    class Meta:
        model = Organization
        fields = ["code", "name"]
        read_only_fields = fields


class ProducerOrganizationSerializer(serializers.ModelSerializer[Organization]):
    """A producer organisation (cooperative or association) with its RUC and district."""

    district = serializers.CharField(source="district_id", read_only=True, allow_null=True)

    class Meta:
        model = Organization
        fields = ["code", "name", "ruc", "district", "is_active", "version"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer[ProducerMembership]):
    """A household's membership of a producer organisation (open while ``left_on`` is null)."""

    organization = OrganizationRefSerializer(read_only=True)
    household = HouseholdRefSerializer(read_only=True)

    class Meta:
        model = ProducerMembership
        fields = [
            "id",
            "organization",
            "household",
            "role",
            "joined_on",
            "left_on",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer[Any]):
    """Add a member household to a producer organisation."""

    organization = serializers.RegexField(SLUG, max_length=50)
    household = serializers.UUIDField()
    role = ChoiceField(choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_on = BoundedDateField(kind="event")


class MembershipUpdateSerializer(serializers.Serializer[Any]):
    """Change a member's role, or record the day it left the organisation."""

    role = ChoiceField(choices=MemberRole.choices, required=False)
    left_on = BoundedDateField(kind="event", required=False)
