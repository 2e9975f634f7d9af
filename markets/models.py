"""Buyers' contact details, market-access contracts with their status ledger and delivery
schedule, deliveries and payments, and the yield norms behind the side-selling check."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farmers.choices import Crop
from farmers.models import Household
from registry import display
from registry.models import (
    CreatedByModel,
    IdempotentModel,
    Organization,
    VersionedModel,
    by_column,
    by_key_column,
    district_column,
    funder_reference,
    program_column,
)

from .choices import (
    Certification,
    ContractStatus,
    DeliveryStatus,
    MemberRole,
    PriceRule,
    PriceUnit,
    ProductForm,
    QualityGrade,
    RejectionReason,
)

KG = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
PRICE = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class BuyerProfile(VersionedModel):
    """A buyer's contact details (the buyer itself is a ``registry.Organization`` of kind buyer)."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.PROTECT,
        related_name="buyer_profile",
        verbose_name=_("buyer"),
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["organization__code"]
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")

    def __str__(self) -> str:
        return str(self.organization)


class BuyerOffer(CreatedByModel):
    """The programme's link between a household and a buyer: the buyer may propose contracts to,
    and see, only the households offered to it (``markets.policies.households_offered_to``).

    Made and withdrawn by programme staff or an implementer whose area covers the household
    (``markets.services.offer_create`` / ``offer_withdraw``); at most one live (not withdrawn)
    offer per household and buyer; history in the registry's change records.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="buyer_offers",
        verbose_name=_("household"),
        db_index=False,
    )
    buyer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="offers",
        verbose_name=_("buyer"),
        db_index=False,
    )
    # Denormalised from the household, for scoping without joins.
    district = district_column(db_index=False)
    program = program_column()
    note = models.CharField(_("note"), max_length=300, blank=True)
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now, editable=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawn_by = by_column(_("withdrawn by"))
    withdrawn_by_key = by_key_column(_("withdrawn with key"))

    class Meta:
        ordering = ["offered_at", "id"]
        verbose_name = _("offer to a buyer")
        verbose_name_plural = _("offers to buyers")
        indexes = [
            # A buyer's live offers, in list order (its key's list and the contract check).
            models.Index(
                fields=["buyer", "offered_at", "id"],
                condition=Q(withdrawn_at__isnull=True),
                name="offer_buyer_live_idx",
            ),
            models.Index(fields=["household", "buyer"], name="offer_household_idx"),
            models.Index(fields=["district", "offered_at"], name="offer_district_idx"),
            # The list's order: a page is read from this index instead of joining every offer
            # of the area to its household (287 ms at 30,000 offers and 1M households).
            models.Index(fields=["offered_at", "id"], name="offer_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "buyer"],
                condition=Q(withdrawn_at__isnull=True),
                name="offer_one_live_per_buyer",
                violation_error_message=_("This household is already offered to this buyer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.buyer_id}"

    @property
    def is_live(self) -> bool:
        """True until the offer is withdrawn."""
        return self.withdrawn_at is None


class ProducerOrganization(Organization):
    """A cooperative or association of producers (an ``Organization`` of kind
    ``producer_org``): its own page in the admin, with its member households."""

    class Meta:
        proxy = True
        ordering = ["code"]
        verbose_name = _("producer organisation")
        verbose_name_plural = _("producer organisations")


class ProducerMembership(VersionedModel, CreatedByModel):
    """A household's membership of a producer organisation: when it joined, when it left (open
    while empty) and its role. A household holds at most one open membership per organisation;
    written by ``markets.services.organisations`` (dates checked there: not in the future, not
    before the family's enrolment, leaving not before joining)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="producer_memberships",
        verbose_name=_("producer organisation"),
        db_index=False,
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="producer_memberships",
        verbose_name=_("household"),
        db_index=False,
    )
    # Denormalised from the household, for scoping without joins.
    district = district_column(db_index=False)
    program = program_column(db_index=False)
    role = models.CharField(
        _("role"), max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        ordering = ["joined_on", "id"]
        verbose_name = _("producer organisation membership")
        verbose_name_plural = _("producer organisation memberships")
        indexes = [
            models.Index(fields=["organization", "joined_on", "id"], name="membership_org_idx"),
            models.Index(fields=["household", "joined_on"], name="membership_household_idx"),
            models.Index(fields=["district", "joined_on", "id"], name="membership_district_idx"),
            models.Index(fields=["program", "joined_on", "id"], name="membership_program_idx"),
            models.Index(fields=["joined_on", "id"], name="membership_joined_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "household"],
                condition=Q(left_on__isnull=True),
                name="membership_one_open",
                violation_error_message=_(
                    "This household is already a member of this organisation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="membership_dates_order",
                violation_error_message=_("A member cannot leave before joining."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} ∈ {self.organization_id}"

    def is_member_on(self, day: date) -> bool:
        """Whether the household was a member on ``day`` (joined on or before it, not left
        before it)."""
        return self.joined_on <= day and (self.left_on is None or self.left_on >= day)


class Contract(VersionedModel, IdempotentModel, CreatedByModel):
    """A market-access contract between a seller (a household, or a producer organisation
    selling its members' produce) and a buyer for one crop and season."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("household"),
        null=True,
        blank=True,
    )
    seller_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="sales_contracts",
        verbose_name=_("selling producer organisation"),
        null=True,
        blank=True,
        db_index=False,
    )
    buyer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("buyer")
    )
    # Denormalised from the household (or the organisation), for scoping and indexes without
    # joins.
    district = district_column()
    program = program_column()
    crop = models.CharField(_("crop"), max_length=16, choices=Crop.choices)
    product_form = models.CharField(_("product form"), max_length=20, choices=ProductForm.choices)
    season_start = models.DateField(_("season starts"))
    season_end = models.DateField(_("season ends"))
    volume_kg = models.DecimalField(_("contracted volume (kg)"), **KG)  # type: ignore[arg-type]
    price_rule = models.CharField(
        _("price rule"), max_length=12, choices=PriceRule.choices, default=PriceRule.FIXED
    )
    price_pen_per_kg = models.DecimalField(
        _("price (PEN/kg)"),
        null=True,
        blank=True,
        **PRICE,  # type: ignore[arg-type]
    )
    price_floor_pen_per_kg = models.DecimalField(
        _("floor price (PEN/kg)"),
        null=True,
        blank=True,
        **PRICE,  # type: ignore[arg-type]
    )
    # The price as agreed, in the unit it was agreed in (per kg, or per quintal of 46 kg): the
    # amounts are computed from these; the ``*_pen_per_kg`` columns are their per-kg
    # equivalents, rounded to the céntimo, for comparisons and lists.
    price_unit = models.CharField(
        _("price unit"), max_length=2, choices=PriceUnit.choices, default=PriceUnit.KG
    )
    price_pen = models.DecimalField(
        _("price (PEN per unit)"),
        null=True,
        blank=True,
        **PRICE,  # type: ignore[arg-type]
    )
    price_floor_pen = models.DecimalField(
        _("floor price (PEN per unit)"),
        null=True,
        blank=True,
        **PRICE,  # type: ignore[arg-type]
    )
    reference_price_note = models.CharField(
        _("reference price"),
        max_length=200,
        blank=True,
        help_text=_("E.g. New York futures minus a differential, set at each delivery."),
    )
    quality_terms = models.TextField(_("quality terms"), blank=True)
    certification = models.CharField(
        _("certification"),
        max_length=20,
        choices=Certification.choices,
        default=Certification.NONE,
    )
    # The funder of the programme's support to the contract (linkage, certification, logistics).
    funding_source = funder_reference(_("programme support funded by"))
    status = models.CharField(
        _("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    status_reason = models.TextField(_("reason of the last status change"), blank=True)
    # Made or activated while the household was relapsed or excluded: staff's recorded reason.
    suspension_override = models.TextField(_("suspension override reason"), blank=True)
    # The day both parties signed (given when the contract is signed, today by default; never
    # after the day it was activated in the registry): no delivery may precede it.
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    activated_on = models.DateField(_("activated on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Running totals kept by the delivery services under the contract's row lock.
    delivered_kg = models.DecimalField(
        _("delivered (kg, not rejected)"),
        default=Decimal("0"),
        editable=False,
        **KG,  # type: ignore[arg-type]
    )
    accepted_kg = models.DecimalField(
        _("accepted (kg)"),
        default=Decimal("0"),
        editable=False,
        **KG,  # type: ignore[arg-type]
    )
    accepted_value_pen = models.DecimalField(
        _("accepted value (PEN)"),
        default=Decimal("0"),
        editable=False,
        **MONEY,  # type: ignore[arg-type]
    )
    # Stamped by the services (``touch()``, the workflow), not on every save: the running
    # totals a delivery updates do not make a new version of the contract.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["buyer", "created_at"], name="contract_buyer_idx"),
            models.Index(fields=["district", "created_at"], name="contract_district_idx"),
            models.Index(fields=["program", "created_at"], name="contract_program_idx"),
            models.Index(fields=["household", "created_at"], name="contract_household_idx"),
            models.Index(
                fields=["seller_organization", "created_at"],
                condition=Q(seller_organization__isnull=False),
                name="contract_seller_org_idx",
            ),
            models.Index(fields=["status", "created_at"], name="contract_status_idx"),
            models.Index(fields=["crop", "created_at"], name="contract_crop_idx"),
            models.Index(fields=["season_start", "season_end"], name="contract_season_idx"),
            models.Index(fields=["created_at", "id"], name="contract_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(season_end__gte=F("season_start")),
                name="contract_season_order",
                violation_error_message=_("The season cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(volume_kg__gt=0),
                name="contract_volume_positive",
                violation_error_message=_("The contracted volume must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(price_rule=PriceRule.REFERENCE, price_floor_pen_per_kg__isnull=False)
                | Q(price_rule=PriceRule.FIXED, price_pen_per_kg__isnull=False),
                name="contract_price_given",
                violation_error_message=_(
                    "A fixed-price contract needs its price; a reference-price one its floor."
                ),
            ),
            models.CheckConstraint(
                condition=Q(household__isnull=False, seller_organization__isnull=True)
                | Q(household__isnull=True, seller_organization__isnull=False),
                name="contract_one_seller",
                violation_error_message=_(
                    "A contract's seller is either a household or a producer organisation."
                ),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_crop_display()} · {self.get_product_form_display()} · "
            f"{display.day(self.season_start)}–{display.day(self.season_end)}"
        )

    @property
    def fulfilment(self) -> Decimal:
        """Accepted kilograms over contracted kilograms (0–1 and beyond when over-delivered)."""
        return contract_fulfilment(self.accepted_kg, self.volume_kg)


def contract_fulfilment(accepted_kg: Decimal, volume_kg: Decimal) -> Decimal:
    """A contract's fulfilment: ``accepted_kg`` over ``volume_kg`` to four places (0 without a
    volume); ``Contract.fulfilment``, also for a contract read as columns (the lean list)."""
    if not volume_kg:
        return Decimal("0")
    return (accepted_kg / volume_kg).quantize(Decimal("0.0001"))


class ContractStatusChange(CreatedByModel):
    """One entry of a contract's status ledger: who moved it, from where to where, why."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("contract"),
    )
    from_status = models.CharField(
        _("from"), max_length=12, choices=ContractStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=12, choices=ContractStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("contract status change")
        verbose_name_plural = _("contract status changes")
        indexes = [models.Index(fields=["contract", "at"], name="contract_change_idx")]

    def __str__(self) -> str:
        start = self.get_from_status_display() if self.from_status else "—"
        return f"{start} → {self.get_to_status_display()}"


class DeliverySchedule(models.Model):
    """A delivery the contract expects by a date; overdue when the date passes uncovered."""

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="schedule", verbose_name=_("contract")
    )
    due_on = models.DateField(_("due on"))
    expected_kg = models.DecimalField(_("expected (kg)"), **KG)  # type: ignore[arg-type]

    class Meta:
        ordering = ["contract", "due_on"]
        verbose_name = _("scheduled delivery")
        verbose_name_plural = _("scheduled deliveries")
        indexes = [models.Index(fields=["due_on"], name="schedule_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "due_on"],
                name="schedule_one_per_day",
                violation_error_message=_("This contract already expects a delivery that day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{display.day(self.due_on)} · {display.number(self.expected_kg)} kg"


class Delivery(VersionedModel, IdempotentModel, CreatedByModel):
    """Produce a family delivered against an active contract: weight, grade, price, amount.
    Under a producer organisation's contract, ``household`` is the member it came from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("contract"),
        db_index=False,
    )
    # The family whose produce it is: the contract's household, or under a producer
    # organisation's contract the member household it came from (a member that day).
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("household"),
        db_index=False,
    )
    buyer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("buyer"),
        db_index=False,
    )
    district = district_column(db_index=False)
    program = program_column(db_index=False)
    delivered_on = models.DateField(_("delivered on"))
    weight_kg = models.DecimalField(_("weight (kg)"), **KG)  # type: ignore[arg-type]
    quality_grade = models.CharField(
        _("quality grade"), max_length=12, choices=QualityGrade.choices
    )
    price_pen_per_kg = models.DecimalField(_("price (PEN/kg)"), **PRICE)  # type: ignore[arg-type]
    # The price as given (per kg or per quintal of 46 kg): the amount is weight × this price in
    # its own unit, rounded once to the céntimo; ``price_pen_per_kg`` is its per-kg equivalent.
    price_unit = models.CharField(
        _("price unit"), max_length=2, choices=PriceUnit.choices, default=PriceUnit.KG
    )
    price_pen = models.DecimalField(_("price (PEN per unit)"), **PRICE)  # type: ignore[arg-type]
    # Paid below the contract's price (fixed) or floor (reference): the recorded reason, and the
    # flag the compliance check reports.
    price_reason = models.TextField(_("reason for a price below the contract"), blank=True)
    price_below_contract = models.BooleanField(
        _("price below the contract"), default=False, editable=False
    )
    amount_pen = models.DecimalField(_("amount (PEN)"), editable=False, **MONEY)  # type: ignore[arg-type]
    receipt_reference = models.CharField(_("receipt reference"), max_length=60, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.RECORDED,
    )
    exceeds_volume = models.BooleanField(
        _("exceeds the contracted volume"), default=False, editable=False
    )
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=16, choices=RejectionReason.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    # Recorded while the household was relapsed or excluded: staff's recorded reason.
    suspension_override = models.TextField(_("suspension override reason"), blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_amount_pen = models.DecimalField(
        _("amount paid (PEN)"),
        null=True,
        blank=True,
        **MONEY,  # type: ignore[arg-type]
    )
    # The programme's confirmation (programme people, never the buyer): only a confirmed
    # accepted delivery is evidence for the transition engine (docs/markets.md).
    confirmed_at = models.DateTimeField(
        _("confirmed by the programme at"), null=True, blank=True, editable=False
    )
    confirmed_by = by_column(_("confirmed by"))
    confirmed_by_key = by_key_column(_("confirmed with key"))
    # Stamped by the services (``touch()``, the workflow), not on every save.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-delivered_on", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        # Lists are ordered newest delivery first (``-delivered_on, -id``): each scope and filter
        # has an index in that order, so a page (and a date window) is a short index range scan.
        indexes = [
            models.Index(fields=["buyer", "-delivered_on", "-id"], name="delivery_buyer_idx"),
            models.Index(
                fields=["buyer", "status", "-delivered_on", "-id"],
                name="delivery_buyer_status_idx",
            ),
            models.Index(fields=["program", "-delivered_on", "-id"], name="delivery_program_idx"),
            models.Index(
                fields=["program", "status", "-delivered_on", "-id"],
                name="delivery_program_status_idx",
            ),
            models.Index(fields=["district", "-delivered_on", "-id"], name="delivery_district_idx"),
            models.Index(fields=["contract", "-delivered_on", "-id"], name="delivery_contract_idx"),
            models.Index(fields=["household", "delivered_on"], name="delivery_household_idx"),
            models.Index(fields=["status", "-delivered_on", "-id"], name="delivery_status_idx"),
            models.Index(fields=["-delivered_on", "-id"], name="delivery_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__gt=0),
                name="delivery_weight_positive",
                violation_error_message=_("The weight must be above zero."),
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.PAID)
                | Q(paid_on__isnull=False, paid_amount_pen__isnull=False),
                name="delivery_paid_has_payment",
                violation_error_message=_("A paid delivery needs its payment date and amount."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{display.day(self.delivered_on)} · {display.number(self.weight_kg)} kg · "
            f"S/ {display.number(self.amount_pen)}"
        )


class YieldNorm(models.Model):
    """Expected harvest per hectare and year (one season) of a mature stand of a crop, in a
    product form, in a zone (a department; empty: every zone without its own norm); and how it
    grows with the stand's age (years since planting): nothing before ``bearing_from_years``,
    the full norm from ``full_from_years``, a straight ramp between (``share_at``). The
    side-selling check expects Σ installations' area × norm(age), spread over the harvest
    months of ``HarvestCalendar`` (``markets.compliance``)."""

    crop = models.CharField(_("crop"), max_length=16, choices=Crop.choices)
    product_form = models.CharField(_("product form"), max_length=20, choices=ProductForm.choices)
    department = models.ForeignKey(
        "registry.Department",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("zone (department)"),
        help_text=_("Empty: every department without a norm of its own."),
    )
    kg_per_ha_per_season = models.DecimalField(
        _("kg per hectare and season"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    bearing_from_years = models.PositiveSmallIntegerField(
        _("first harvest at age (years)"),
        default=0,
        validators=[MaxValueValidator(30)],
        help_text=_("Years after planting before the first harvest (nothing expected before)."),
    )
    full_from_years = models.PositiveSmallIntegerField(
        _("full production at age (years)"),
        default=0,
        validators=[MaxValueValidator(30)],
        help_text=_("Years after planting when the stand yields the full norm."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["crop", "product_form", "department"]
        verbose_name = _("yield norm")
        verbose_name_plural = _("yield norms")
        constraints = [
            models.UniqueConstraint(
                fields=["crop", "product_form"],
                condition=Q(department__isnull=True),
                name="yield_norm_unique",
                violation_error_message=_("There is already a norm for this crop and form."),
            ),
            models.UniqueConstraint(
                fields=["crop", "product_form", "department"],
                condition=Q(department__isnull=False),
                name="yield_norm_zone_unique",
                violation_error_message=_(
                    "There is already a norm for this crop, form and department."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kg_per_ha_per_season__gt=0),
                name="yield_norm_positive",
                violation_error_message=_("The yield must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(full_from_years__gte=F("bearing_from_years")),
                name="yield_norm_ages_ordered",
                violation_error_message=_("Full production cannot come before the first harvest."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crop} · {self.product_form}: {self.kg_per_ha_per_season} kg/ha"

    def share_at(self, age_years: int) -> Decimal:
        """The share (0–1) of the full norm a stand of ``age_years`` yields."""
        if age_years < self.bearing_from_years:
            return Decimal("0")
        if age_years >= self.full_from_years:
            return Decimal("1")
        done = age_years - self.bearing_from_years + 1
        return Decimal(done) / Decimal(self.full_from_years - self.bearing_from_years + 1)


class HarvestCalendar(models.Model):
    """The months a crop is harvested in a zone (a department; empty: every department without
    its own calendar). The side-selling check spreads a year's expected harvest evenly over
    them; a crop with no calendar is harvested evenly all year."""

    crop = models.CharField(_("crop"), max_length=16, choices=Crop.choices)
    department = models.ForeignKey(
        "registry.Department",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("zone (department)"),
        help_text=_("Empty: every department without a calendar of its own."),
    )
    months = models.JSONField(_("harvest months"), default=list)
    source = models.CharField(_("source"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["crop", "department"]
        verbose_name = _("harvest calendar")
        verbose_name_plural = _("harvest calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["crop"],
                condition=Q(department__isnull=True),
                name="harvest_calendar_unique",
                violation_error_message=_("There is already a calendar for this crop."),
            ),
            models.UniqueConstraint(
                fields=["crop", "department"],
                condition=Q(department__isnull=False),
                name="harvest_calendar_zone_unique",
                violation_error_message=_(
                    "There is already a calendar for this crop and department."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crop}: {', '.join(str(m) for m in self.months)}"


class DashboardSalesMonth(models.Model):
    """The dashboard's sales cells per month and product form (``markets.summaries``): accepted
    or paid deliveries by the month delivered, their weight in grams and their value (the
    delivery's amount) in céntimos of PEN (exact sums on every database). Append-only delta
    rows: a cell is the sum of its rows."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    month = models.DateField(_("month"))
    product_form = models.CharField(_("product form"), max_length=20, choices=ProductForm.choices)
    grams = models.BigIntegerField(_("weight (g)"), default=0)
    value_cents = models.BigIntegerField(_("value (céntimos of PEN)"), default=0)
    deliveries = models.IntegerField(_("deliveries"), default=0)

    class Meta:
        ordering = ["district", "program", "month", "product_form"]
        verbose_name = _("dashboard cell: sales per month")
        verbose_name_plural = _("dashboard cells: sales per month")
        indexes = [
            models.Index(
                fields=["district", "program", "month", "product_form"],
                name="dash_salesmonth_cell_idx",
            ),
            models.Index(fields=["program", "month"], name="dash_salesmonth_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.month} {self.product_form}"


class DashboardContracts(models.Model):
    """The dashboard's active contracts now (``markets.summaries``), by product form.
    Append-only delta rows."""

    district = district_column(db_index=False)
    program = program_column(db_index=False)
    product_form = models.CharField(_("product form"), max_length=20, choices=ProductForm.choices)
    contracts = models.IntegerField(_("active contracts"), default=0)

    class Meta:
        ordering = ["district", "program", "product_form"]
        verbose_name = _("dashboard cell: active contracts")
        verbose_name_plural = _("dashboard cells: active contracts")
        indexes = [
            models.Index(
                fields=["district", "program", "product_form"], name="dash_contracts_cell_idx"
            ),
            models.Index(fields=["program"], name="dash_contracts_prog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.program_id} {self.product_form}: {self.contracts}"
