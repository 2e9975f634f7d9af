"""The read-only inlines of the household page (members, consent, plots, crop installations,
agreements, visits, support, stage history)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from registry.display import choice_label, choice_labels, number

from ..choices import ConsentPurpose, Crop
from ..models import (
    MEMBER_FIELDS,
    Agreement,
    Consent,
    CropInstallation,
    Member,
    Plot,
    StageChange,
    Support,
    Verification,
)
from ..pages.stage import evidence_rows, reason_label
from .base import MASK, CocaInlineMixin, LinkedInline


class MemberInline(LinkedInline):
    model = Member
    fields = [*MEMBER_FIELDS, "is_head", "is_active"]


class PlotInline(LinkedInline):
    model = Plot
    fields = ["name", "tenure", "area_ha", "crops_shown", "is_active"]

    @admin.display(description=_("crops"))
    def crops_shown(self, obj: Plot) -> str:
        return choice_labels(obj.crops, Crop)


class CropInstallationInline(LinkedInline):
    """Crops installed on the household's (or the plot's) plots."""

    model = CropInstallation
    fk_name = "household"
    fields = ["plot", "crop", "variety", "area_ha", "plants", "planted_on", "status", "lost_on"]
    verbose_name_plural = _("crop installations")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("plot")


class PlotInstallationInline(CropInstallationInline):
    fk_name = "plot"
    fields = ["crop", "variety", "area_ha", "plants", "planted_on", "support", "status", "lost_on"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("support")


class AgreementInline(CocaInlineMixin, LinkedInline):
    model = Agreement
    fields = ["signed_on", "coca_committed", "is_active"]

    @admin.display(description=_("coca committed (ha)"))
    def coca_committed(self, obj: Agreement) -> str:
        return number(obj.coca_ha_committed) if self.coca_shown else MASK


class VerificationInline(CocaInlineMixin, LinkedInline):
    model = Verification
    fields = ["visited_on", "method", "coca", "licit_shown", "status", "photo_link", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("created_by")

    @admin.display(description=_("coca observed (ha)"))
    def coca(self, obj: Verification) -> str:
        return number(obj.coca_ha) if self.coca_shown else MASK

    @admin.display(description=_("licit crops (ha)"))
    def licit_shown(self, obj: Verification) -> str:
        return licit_crops_text(obj.licit_crops)

    @admin.display(description=_("photo"))
    def photo_link(self, obj: Verification) -> str:
        return visit_photo_link(obj)


class SupportInline(LinkedInline):
    model = Support
    fields = ["given_on", "kind", "cost_pen", "funding_source"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("funding_source")


class StageChangeInline(CocaInlineMixin, LinkedInline):
    """The household's stage history (the transition ledger), oldest first: every stage with
    its reason and the evidence behind it (coca figures only for coca:read)."""

    model = StageChange
    fields = ["effective_on", "from_stage", "to_stage", "reason_shown", "evidence_shown", "at"]
    ordering = ["id"]
    show_change_link = False
    verbose_name_plural = _("stage history")

    @admin.display(description=_("reason"))
    def reason_shown(self, obj: StageChange) -> str:
        return reason_label(obj.reason)

    @admin.display(description=_("evidence summary"))
    def evidence_shown(self, obj: StageChange) -> str:
        return evidence_text(obj.evidence, show_coca=self.coca_shown)


class ConsentInline(LinkedInline):
    model = Consent
    fields = [
        "signed_on",
        "purposes_shown",
        "reason",
        "notice_version",
        "language_shown",
        "officer",
        "created_by_key",
        "created_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("officer")

    @admin.display(description=_("purposes"))
    def purposes_shown(self, obj: Consent) -> str:
        return choice_labels(obj.purposes, ConsentPurpose)

    @admin.display(description=_("language"))
    def language_shown(self, obj: Consent) -> str:
        return language_name(obj.language)


def evidence_text(evidence: Any, *, show_coca: bool) -> str:
    """A ledger row's evidence summary in words (``farmers.pages.stage.evidence_rows``)."""
    rows = evidence_rows(evidence, show_coca=show_coca)
    return "; ".join(f"{label}: {value}" for label, value in rows) or "—"


def language_name(code: str) -> str:
    """A language code (``es``, ``qu``) as its name in the reader's language."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def licit_crops_text(items: Any) -> str:
    """A visit's licit crops (``[{"crop": "cacao", "ha": "1.5"}]``) as "Cacao 1,50 ha"."""
    rows = [
        f"{choice_label(item.get('crop'), Crop)} {number(item.get('ha'))} ha"
        for item in items or []
        if isinstance(item, dict)
    ]
    return ", ".join(rows) or "—"


def visit_photo_link(visit: Verification) -> str:
    """A link to the visit's photo through the admin (scoped, signed-in), or ``—``."""
    if not visit.photo:
        return "—"
    url = reverse("admin:farmers_verification_photo", args=[visit.pk])
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("See the photo")
    )
