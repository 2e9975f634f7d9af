"""The read-only inlines of the household page (members, consent, plots, crop installations,
agreements, visits, support, stage history)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import (
    Agreement,
    Consent,
    CropInstallation,
    Member,
    Plot,
    StageChange,
    Support,
    Verification,
)
from .base import MASK, CocaInlineMixin, LinkedInline


class MemberInline(LinkedInline):
    model = Member
    fields = [
        "given_names",
        "surnames",
        "document_type",
        "document_number",
        "sex",
        "birth_date",
        "relationship",
        "phone",
        "is_head",
        "is_active",
    ]


class PlotInline(LinkedInline):
    model = Plot
    fields = ["name", "tenure", "area_ha", "crops", "is_active"]


class CropInstallationInline(LinkedInline):
    """Crops installed on the household's (or the plot's) plots."""

    model = CropInstallation
    fk_name = "household"
    fields = ["plot", "crop", "variety", "area_ha", "plants", "planted_on", "status", "lost_on"]
    verbose_name_plural = _("crop installations")


class PlotInstallationInline(CropInstallationInline):
    fk_name = "plot"
    fields = ["crop", "variety", "area_ha", "plants", "planted_on", "support", "status", "lost_on"]


class AgreementInline(CocaInlineMixin, LinkedInline):
    model = Agreement
    fields = ["signed_on", "coca_committed", "is_active"]

    @admin.display(description=_("coca committed (ha)"))
    def coca_committed(self, obj: Agreement) -> str:
        return str(obj.coca_ha_committed) if self.coca_shown else MASK


class VerificationInline(CocaInlineMixin, LinkedInline):
    model = Verification
    fields = ["visited_on", "method", "coca", "status", "created_by"]

    @admin.display(description=_("coca observed (ha)"))
    def coca(self, obj: Verification) -> str:
        return str(obj.coca_ha) if self.coca_shown else MASK


class SupportInline(LinkedInline):
    model = Support
    fields = ["given_on", "kind", "cost_pen", "funding_source"]


class StageChangeInline(CocaInlineMixin, LinkedInline):
    """The household's stage history (the transition ledger), oldest first: every stage with
    its reason and the evidence behind it (coca figures only for coca:read)."""

    model = StageChange
    fields = ["effective_on", "from_stage", "to_stage", "reason", "evidence_shown", "at"]
    ordering = ["id"]
    show_change_link = False
    verbose_name_plural = _("stage history")

    @admin.display(description=_("evidence summary"))
    def evidence_shown(self, obj: StageChange) -> str:
        evidence = dict(obj.evidence or {})
        if "coca" in evidence and not self.coca_shown:
            evidence["coca"] = MASK
        return ", ".join(f"{key}: {value}" for key, value in sorted(evidence.items())) or "—"


class ConsentInline(LinkedInline):
    model = Consent
    fields = [
        "signed_on",
        "purposes",
        "reason",
        "notice_version",
        "language",
        "officer",
        "created_by_key",
        "created_at",
    ]
