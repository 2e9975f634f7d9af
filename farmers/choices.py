"""Enumerations of the farmers app (lowercase slugs, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.choices import Crop as Crop  # the kernel's vocabulary, re-exported


class HouseholdStatus(models.TextChoices):
    """Review state of a household registration (DESIGN.md §5)."""

    PENDING_REVIEW = "pending_review", _("Pending review")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    INACTIVE = "inactive", _("Inactive")
    MERGED = "merged", _("Merged into another household")


LIVE_STATUSES = (HouseholdStatus.PENDING_REVIEW, HouseholdStatus.ACTIVE)


class Stage(models.TextChoices):
    """A family's stage in the transition away from coca (DESIGN.md §6). Land tenure is not a
    stage: it is a track of its own (``milestones["tenure"]``)."""

    ENROLLED = "enrolled", _("Enrolled")
    COMMITTED = "committed", _("Committed")
    COCA_FREE = "coca_free", _("Coca-free")
    LICIT_PRODUCTION = "licit_production", _("Licit production")
    MARKET_LINKED = "market_linked", _("Market-linked")
    GRADUATED = "graduated", _("Graduated")
    RELAPSED = "relapsed", _("Relapsed")
    EXCLUDED = "excluded", _("Excluded")


class DocumentType(models.TextChoices):
    """Identity documents accepted for members."""

    DNI = "dni", _("DNI")
    CE = "ce", _("Foreign resident card (CE)")


class Sex(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")


class Relationship(models.TextChoices):
    """A member's relationship to the head of the household."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Son or daughter")
    PARENT = "parent", _("Father or mother")
    SIBLING = "sibling", _("Brother or sister")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER = "other", _("Other relative")


class ConsentPurpose(models.TextChoices):
    """What the family agreed its data may be used for; which purpose each kind of partner
    needs to see the family's personal data is ``farmers.consent`` (docs/data-protection.md)."""

    REGISTRY = "registry", _("Programme registry")
    PARTNER_SHARING = "partner_sharing", _("Sharing with partner agencies")
    BUYER_SHARING = "buyer_sharing", _("Sharing with buyers (contracts, EUDR)")
    STATISTICS = "statistics", _("Statistics for funders")
    PHOTOS = "photos", _("Photos of the family and its plots")
    RESEARCH = "research", _("Anonymised research")
    CONTACT = "contact", _("Contact by phone")


class Tenure(models.TextChoices):
    """How the family holds the plot."""

    OWNED_TITLED = "owned_titled", _("Owned, titled")
    POSSESSION = "possession", _("Possession (untitled)")
    COMMUNITY = "community", _("Community land")
    RENTED = "rented", _("Rented")
    OTHER = "other", _("Other")


class VerificationMethod(models.TextChoices):
    FIELD_VISIT = "field_visit", _("Field visit")
    GPS_SURVEY = "gps_survey", _("GPS survey")
    REMOTE_SENSING = "remote_sensing", _("Satellite or drone imagery")


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class EradicationKind(models.TextChoices):
    """Who eradicated the coca: the state (CORAH) or the family itself."""

    FORCED = "forced", _("Forced (CORAH)")
    VOLUNTARY = "voluntary", _("Voluntary (by the family)")


class EradicationStatus(models.TextChoices):
    """Verification of an eradication record (``workflow.ERADICATION_MACHINE``)."""

    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class InstallationStatus(models.TextChoices):
    """A crop installation's life (``workflow.INSTALLATION_MACHINE``): planted, bearing, lost."""

    INSTALLED = "installed", _("Installed (not yet producing)")
    PRODUCING = "producing", _("Producing")
    LOST = "lost", _("Lost")


#: Installations that still stand on the plot (they take its area and count as licit hectares).
LIVE_INSTALLATION_STATUSES = (InstallationStatus.INSTALLED, InstallationStatus.PRODUCING)


class Variety(models.TextChoices):
    """Varieties (clones) of a crop installation; ``VARIETIES`` says which crop each belongs to.
    Crops with no list take no variety."""

    CCN_51 = "ccn51", _("CCN-51")
    CHUNCHO = "chuncho", _("Chuncho")
    ICS_95 = "ics95", _("ICS-95")
    TSH_565 = "tsh565", _("TSH-565")
    ICS_1 = "ics1", _("ICS-1")
    TRINITARIO = "trinitario", _("Trinitario")
    CRIOLLO = "criollo", _("Criollo")
    CACAO_OTHER = "cacao_other", _("Other cacao")
    CATIMOR = "catimor", _("Catimor")
    TYPICA = "typica", _("Typica")
    CATURRA = "caturra", _("Caturra")
    BOURBON = "bourbon", _("Bourbon")
    GEISHA = "geisha", _("Geisha")
    PACHE = "pache", _("Pache")
    CASTILLO = "castillo", _("Castillo")
    COFFEE_OTHER = "coffee_other", _("Other coffee")


#: The varieties of each crop that has a list (a crop absent here takes no variety).
VARIETIES: dict[str, tuple[str, ...]] = {
    Crop.CACAO: (
        Variety.CCN_51,
        Variety.CHUNCHO,
        Variety.ICS_95,
        Variety.TSH_565,
        Variety.ICS_1,
        Variety.TRINITARIO,
        Variety.CRIOLLO,
        Variety.CACAO_OTHER,
    ),
    Crop.COFFEE: (
        Variety.CATIMOR,
        Variety.TYPICA,
        Variety.CATURRA,
        Variety.BOURBON,
        Variety.GEISHA,
        Variety.PACHE,
        Variety.CASTILLO,
        Variety.COFFEE_OTHER,
    ),
}


class SupportKind(models.TextChoices):
    """What the programme gave the family."""

    INPUTS = "inputs", _("Inputs (seedlings, fertiliser, tools)")
    TECHNICAL_ASSISTANCE = "technical_assistance", _("Technical assistance")
    TITLING_FEES = "titling_fees", _("Titling fees")
    INFRASTRUCTURE = "infrastructure", _("Productive infrastructure")
    CASH_TRANSFER = "cash_transfer", _("Cash transfer")
    TRAINING = "training", _("Training")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed: not the same family")
    MERGED = "merged", _("Merged")


class SweepStatus(models.TextChoices):
    """Progress of a nightly sweep and of each of its id ranges."""

    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class ExclusionStatus(models.TextChoices):
    """An exclusion the engine proposed: programme staff confirm or dismiss it."""

    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class AppealKind(models.TextChoices):
    """What a family appeals: its relapse, or an exclusion (proposed or confirmed)."""

    RELAPSE = "relapse", _("Relapse")
    EXCLUSION = "exclusion", _("Exclusion")


class AppealStatus(models.TextChoices):
    """An appeal is filed, then upheld or rejected by programme staff."""

    FILED = "filed", _("Filed")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class CorrectionStatus(models.TextChoices):
    """A correction of a confirmed visit: proposed, then approved or rejected by a second
    person (maker–checker)."""

    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CorrectableField(models.TextChoices):
    """The fields of a confirmed visit a correction may change."""

    COCA_HA = "coca_ha", _("coca observed (ha)")
    VISITED_ON = "visited_on", _("visited on")


class RequestKind(models.TextChoices):
    """A data-subject request under Law 29733 (ARCO rights): access, rectification,
    cancellation (erasure) or opposition."""

    ACCESS = "access", _("Access")
    RECTIFICATION = "rectification", _("Rectification")
    CANCELLATION = "cancellation", _("Cancellation")
    OPPOSITION = "opposition", _("Opposition")


class RequestStatus(models.TextChoices):
    """A data-subject request: received, in progress, extended once (with a reason), then
    answered or refused (with a reason)."""

    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    EXTENDED = "extended", _("Extended")
    ANSWERED = "answered", _("Answered")
    REFUSED = "refused", _("Refused")


OPEN_REQUEST_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED)


class RequestChannel(models.TextChoices):
    """How a data-subject request reached the programme."""

    IN_PERSON = "in_person", _("In person")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    FIELD_OFFICER = "field_officer", _("Through a field officer")


class TrainingTopic(models.TextChoices):
    """What a technical-assistance or training event taught (the programmes' list)."""

    CROP_MANAGEMENT = "crop_management", _("Crop management")
    PRUNING_GRAFTING = "pruning_grafting", _("Pruning and grafting")
    SOIL_FERTILITY = "soil_fertility", _("Soil fertility and organic fertilisers")
    PEST_MANAGEMENT = "pest_management", _("Integrated pest management")
    POST_HARVEST = "post_harvest", _("Harvest and post-harvest (fermentation, drying)")
    QUALITY_CERTIFICATION = "quality_certification", _("Quality and certification")
    AGROFORESTRY = "agroforestry", _("Agroforestry and conservation")
    ASSOCIATIVITY = "associativity", _("Associativity and business management")
    FINANCIAL_EDUCATION = "financial_education", _("Financial education")
    OTHER = "other", _("Other topic")


class Practice(models.TextChoices):
    """A good practice a family adopted after technical assistance or training."""

    PRUNING = "pruning", _("Pruning")
    GRAFTING = "grafting", _("Grafting")
    COMPOSTING = "composting", _("Composting")
    FERMENTATION = "fermentation", _("Fermentation")
    DRYING = "drying", _("Drying")
    INTEGRATED_PEST_MANAGEMENT = "integrated_pest_management", _("Integrated pest management")
    SHADE_MANAGEMENT = "shade_management", _("Shade management")
    SOIL_CONSERVATION = "soil_conservation", _("Soil conservation")
    RECORD_KEEPING = "record_keeping", _("Farm record keeping")
