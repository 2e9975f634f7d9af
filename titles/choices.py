"""Enumerations of the titles app (lowercase slugs, translated labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TitleStatus(models.TextChoices):
    """Where a title file is in its workflow (DESIGN.md §5)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SURVEYED = "surveyed", _("Surveyed")
    LEGAL_REVIEW = "legal_review", _("Legal review")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    OBJECTED = "objected", _("Objected")
    TITLE_ISSUED = "title_issued", _("Title issued")
    SENT_TO_SUNARP = "sent_to_sunarp", _("Sent to SUNARP")
    SUNARP_OBSERVED = "sunarp_observed", _("Observed by SUNARP")
    REGISTERED = "registered", _("Registered")
    OBSERVED = "observed", _("Observed (waiting on the family)")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A "live" file blocks overlapping plots of other households: filed and not closed, or titled.
LIVE_STATUSES = tuple(
    s
    for s in TitleStatus
    if s not in (TitleStatus.DRAFT, TitleStatus.REJECTED, TitleStatus.WITHDRAWN)
)
# Files whose clock runs (a due date is kept): filed and not finished.
OPEN_STATUSES = tuple(s for s in LIVE_STATUSES if s != TitleStatus.REGISTERED)


class Party(models.TextChoices):
    """Who the file is waiting on: the SLA clock is split between them."""

    PROGRAMME = "programme", _("Programme")
    FAMILY = "family", _("Family")
    AUTHORITY = "authority", _("Titling authority")
    SUNARP = "sunarp", _("SUNARP")


class RejectionReason(models.TextChoices):
    """Why a titling authority rejects a file (code list of DESIGN.md §5)."""

    POSSESSION_NOT_PROVEN = "possession_not_proven", _("Possession not proven")
    POSSESSION_TOO_RECENT = "possession_too_recent", _("Possession too recent")
    NO_ECONOMIC_USE = "no_economic_use", _("No economic use of the land")
    PROTECTED_AREA = "protected_area", _("Protected natural area")
    COMMUNITY_LAND = "community_land", _("Native or peasant community land")
    FOREST_LAND = "forest_land", _("Forest land")
    LITIGATION = "litigation", _("Litigation over the land")
    OVERLAP = "overlap", _("Overlap with another plot")
    DOCUMENTS_NOT_FIXED = "documents_not_fixed", _("Documents not fixed in time")


class Procedure(models.TextChoices):
    """How the title is granted (``docs/titles.md``, "Procedures"): adjudication of state land
    to its possessor (formalización y titulación de predios rústicos del Estado) or the
    administrative declaration of ownership by prescription (prescripción adquisitiva de dominio
    administrativa) over private land."""

    ADJUDICATION = "adjudication", _("Adjudication of state land")
    PRESCRIPTION = "prescription", _("Administrative prescription")


# Tenures a family can title through these procedures: untitled possession (or another
# informal holding). Titled, rented and community land are refused (``tenure_not_titleable``).
TITLEABLE_TENURES = ("possession", "other")


class TitleDocumentType(models.TextChoices):
    """Kinds of document kept in a title file."""

    ID_COPY = "id_copy", _("Copy of the identity document")
    PROOF_OF_POSSESSION = "proof_of_possession", _("Proof of possession")
    NEIGHBOUR_STATEMENT = "neighbour_statement", _("Statement of the neighbours (colindantes)")
    PLOT_PLAN = "plot_plan", _("Plot plan")
    CADASTRAL_SEARCH = "cadastral_search", _("Cadastral search certificate (SUNARP)")
    SURVEY_RECORD = "survey_record", _("Cadastral survey record")
    LEGAL_REPORT = "legal_report", _("Legal qualification report")
    NOTICE_PUBLICATION = "notice_publication", _("Public notice publication")
    OBJECTION_RECORD = "objection_record", _("Objection record")
    TITLE_DEED = "title_deed", _("Title deed")
    SUNARP_CERTIFICATE = "sunarp_certificate", _("SUNARP registration certificate")
    OTHER = "other", _("Other")


class ObjectionDecision(models.TextChoices):
    """The outcome of an objection filed during the public notice."""

    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")
