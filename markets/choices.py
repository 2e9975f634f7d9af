"""Enumerations of the markets app (lowercase slugs, translated labels)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from farmers.choices import Crop

# Coffee is quoted in quintales of 46 kg (DESIGN.md §5); the registry stores kilograms.
KG_PER_QUINTAL = Decimal("46")


class ContractStatus(models.TextChoices):
    """Workflow of a market-access contract (DESIGN.md §5, see ``markets.workflow``)."""

    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    TERMINATED = "terminated", _("Terminated")


class DeliveryStatus(models.TextChoices):
    """Workflow of a delivery: ``recorded → accepted | rejected``, ``accepted → paid``."""

    RECORDED = "recorded", _("Recorded")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


class ProductForm(models.TextChoices):
    """The form in which the crop is sold: kilograms of different forms are never mixed."""

    CACAO_WET = "cacao_wet", _("Cacao, wet beans (en baba)")
    CACAO_DRY = "cacao_dry", _("Cacao, dry fermented beans")
    COFFEE_CHERRY = "coffee_cherry", _("Coffee, cherry")
    COFFEE_PARCHMENT = "coffee_parchment", _("Coffee, parchment (pergamino)")
    COFFEE_GREEN = "coffee_green", _("Coffee, green (oro verde)")
    FRESH = "fresh", _("Fresh produce")
    PROCESSED = "processed", _("Dried or processed")


# Which product forms each crop may be contracted in.
PRODUCT_FORMS_BY_CROP: dict[str, tuple[str, ...]] = {
    Crop.CACAO: (ProductForm.CACAO_WET, ProductForm.CACAO_DRY),
    Crop.COFFEE: (
        ProductForm.COFFEE_CHERRY,
        ProductForm.COFFEE_PARCHMENT,
        ProductForm.COFFEE_GREEN,
    ),
}
OTHER_CROP_FORMS: tuple[str, ...] = (ProductForm.FRESH, ProductForm.PROCESSED)


def forms_for_crop(crop: str) -> tuple[str, ...]:
    """The product forms allowed for ``crop``."""
    return PRODUCT_FORMS_BY_CROP.get(crop, OTHER_CROP_FORMS)


class Certification(models.TextChoices):
    """Certification the contract requires of the produce."""

    NONE = "none", _("None")
    ORGANIC = "organic", _("Organic")
    FAIR_TRADE = "fair_trade", _("Fair trade")
    ORGANIC_FAIR_TRADE = "organic_fair_trade", _("Organic and fair trade")


class PriceRule(models.TextChoices):
    """How the price per kilogram is set."""

    FIXED = "fixed", _("Fixed price per kg")
    REFERENCE = "reference", _("Reference price with a floor")


class PriceUnit(models.TextChoices):
    """The unit a price is agreed in: per kilogram, or per quintal of 46 kg (coffee)."""

    KG = "kg", _("per kilogram")
    QQ = "qq", _("per quintal (46 kg)")


class QualityGrade(models.TextChoices):
    """Quality grade given at reception."""

    A = "a", _("Grade A (export)")
    B = "b", _("Grade B")
    C = "c", _("Grade C")
    OFF_GRADE = "off_grade", _("Off grade (descarte)")


class RejectionReason(models.TextChoices):
    """Why a delivery was rejected at reception."""

    MOISTURE = "moisture", _("Moisture too high")
    FERMENTATION = "fermentation", _("Poor fermentation")
    GRADE = "grade", _("Below the contracted grade")
    CONTAMINATION = "contamination", _("Contamination or foreign matter")
    CERTIFICATION = "certification", _("Certification requirements not met")
    OTHER = "other", _("Other")


class MemberRole(models.TextChoices):
    """A household's role in its producer organisation (cooperative or association)."""

    MEMBER = "member", _("Member")
    PRESIDENT = "president", _("President")
    VICE_PRESIDENT = "vice_president", _("Vice-president")
    SECRETARY = "secretary", _("Secretary")
    TREASURER = "treasurer", _("Treasurer")
    DELEGATE = "delegate", _("Delegate")
