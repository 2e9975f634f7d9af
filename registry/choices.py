"""Enumerations of the registry kernel (lowercase slugs, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    """What an organization does in the programme."""

    PROGRAM_AGENCY = "program_agency", _("Programme agency")
    IMPLEMENTER = "implementer", _("Implementing agency")
    TITLING_AUTHORITY = "titling_authority", _("Titling authority")
    BUYER = "buyer", _("Buyer or cooperative")
    FUNDER = "funder", _("Funder")
    # A cooperative or association of producers: sells its members' produce under its own
    # contracts and may buy from its members (``markets.models.ProducerMembership``).
    PRODUCER_ORG = "producer_org", _("Producer organisation (cooperative or association)")


class IatiOrganisationType(models.TextChoices):
    """The IATI 2.03 ``OrganisationType`` codelist (codes as published; labels translated)."""

    GOVERNMENT = "10", _("Government")
    LOCAL_GOVERNMENT = "11", _("Local government")
    OTHER_PUBLIC_SECTOR = "15", _("Other public sector")
    INTERNATIONAL_NGO = "21", _("International NGO")
    NATIONAL_NGO = "22", _("National NGO")
    REGIONAL_NGO = "23", _("Regional NGO")
    PARTNER_COUNTRY_NGO = "24", _("Partner country based NGO")
    PUBLIC_PRIVATE_PARTNERSHIP = "30", _("Public private partnership")
    MULTILATERAL = "40", _("Multilateral")
    FOUNDATION = "60", _("Foundation")
    PRIVATE_SECTOR = "70", _("Private sector")
    PRIVATE_SECTOR_PROVIDER = "71", _("Private sector in provider country")
    PRIVATE_SECTOR_RECIPIENT = "72", _("Private sector in aid recipient country")
    PRIVATE_SECTOR_THIRD = "73", _("Private sector in third country")
    ACADEMIC = "80", _("Academic, training and research")
    OTHER = "90", _("Other")


class Currency(models.TextChoices):
    """The currency of an amount (ISO 4217 code, lowercase); the registry's own sums are PEN."""

    PEN = "pen", _("Peruvian sol (PEN)")
    USD = "usd", _("US dollar (USD)")
    EUR = "eur", _("Euro (EUR)")


class Role(models.TextChoices):
    """A person's role inside an organization."""

    FIELD_OFFICER = "field_officer", _("Field officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    PROGRAM_STAFF = "program_staff", _("Programme staff")
    # Manages organizations, programmes, keys and memberships across the platform (policies.py).
    ADMINISTRATOR = "administrator", _("Platform administrator")


class Scope(models.TextChoices):
    """What an API key (or a role) may do through the API."""

    REFERENCE_READ = "reference:read", _("Read reference data")
    HOUSEHOLDS_READ = "households:read", _("Read households")
    HOUSEHOLDS_WRITE = "households:write", _("Register and update households")
    HOUSEHOLDS_REVIEW = "households:review", _("Review household registrations")
    COCA_READ = "coca:read", _("Read coca data (logged)")
    TITLES_READ = "titles:read", _("Read title applications")
    TITLES_WRITE = "titles:write", _("Advance title applications")
    CONTRACTS_READ = "contracts:read", _("Read contracts and deliveries")
    CONTRACTS_WRITE = "contracts:write", _("Record contracts and deliveries")
    INDICATORS_READ = "indicators:read", _("Read aggregate indicators")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage the organization's webhooks")


class WebhookEventType(models.TextChoices):
    """Events an organization may subscribe a URL to (``registry.webhooks``)."""

    HOUSEHOLD_STATUS_CHANGED = "household.status_changed", _("Household status changed")
    HOUSEHOLD_STAGE_CHANGED = "household.stage_changed", _("Household stage changed")
    HOUSEHOLD_CONSENT_CHANGED = "household.consent_changed", _("Household consent changed")
    TITLE_APPLICATION_STATUS_CHANGED = (
        "title_application.status_changed",
        _("Title application status changed"),
    )
    CONTRACT_STATUS_CHANGED = "contract.status_changed", _("Contract status changed")
    DELIVERY_RECORDED = "delivery.recorded", _("Delivery recorded")
    DELIVERY_STATUS_CHANGED = "delivery.status_changed", _("Delivery status changed")
    ALERT_RAISED = "alert.raised", _("Alert raised")


class WebhookDeliveryStatus(models.TextChoices):
    """Where one event's delivery to one subscription stands."""

    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead-lettered")
    SKIPPED = "skipped", _("Not visible to the subscriber")


class ChangeAction(models.TextChoices):
    """What happened to a record, for its history."""

    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DEACTIVATE = "deactivate", _("Deactivated")
    TRANSITION = "transition", _("Status changed")


class AlertKind(models.TextChoices):
    """What an alert is about (raised by the transition engine, titles and markets)."""

    RELAPSE = "relapse", _("Relapse into coca")
    VISIT_DUE = "visit_due", _("Verification visit due")
    EVIDENCE_EXPIRY = "evidence_expiry", _("Evidence about to expire")
    TITLE_OVERDUE = "title_overdue", _("Title application overdue")
    DELIVERY_OVERDUE = "delivery_overdue", _("Delivery overdue")
    SIDE_SELLING = "side_selling", _("Possible side-selling")
    DSR_DUE = "dsr_due", _("Data-subject request due")


class AlertStatus(models.TextChoices):
    """Workflow of an alert: ``open → acknowledged → resolved`` (or straight to resolved)."""

    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


LIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertSeverity(models.TextChoices):
    """How urgent an alert is."""

    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Crop(models.TextChoices):
    """Crops recorded on plots and in verification visits (kernel vocabulary: a programme's
    licit-crop list, ``Program.licit_crops``, names them; ``farmers.choices.Crop`` is this one)."""

    CACAO = "cacao", _("Cacao")
    COFFEE = "coffee", _("Coffee")
    PINEAPPLE = "pineapple", _("Pineapple")
    BANANA = "banana", _("Banana / plantain")
    CITRUS = "citrus", _("Citrus")
    ACHIOTE = "achiote", _("Achiote")
    PALM_HEART = "palm_heart", _("Palm heart")
    FOOD_CROPS = "food_crops", _("Food crops")
    TIMBER = "timber", _("Timber / agroforestry")
    OTHER = "other", _("Other")


def licit_crops_default() -> list[str]:
    """The licit-crop list of a new programme: every crop except ``other`` (an unnamed crop
    cannot be checked against the list)."""
    return [crop for crop in Crop.values if crop != Crop.OTHER]


LICIT_CROPS_DEFAULT = tuple(licit_crops_default())
