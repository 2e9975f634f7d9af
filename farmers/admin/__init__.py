"""Admin for programme staff: households with inlines, review and duplicate queues, CSV export.

Changelists stay fast on a million households: no full counts, filters on indexed columns,
joins declared up front, and every queryset narrowed to the person's area (``farmers.policies``).

One module per part, registered on import: ``base`` (scoping, coca masking), ``inlines``,
``households`` (changelist, approval, export, import), ``queues`` (duplicates, visit review,
eradications), ``decisions`` (proposed exclusions: confirm or dismiss; appeals: uphold or
reject), ``rights`` (data-subject requests, Law 29733), ``records`` (plots, crop
installations, support, stage ledger, sweeps), ``training`` (events with their attendance,
practices adopted), ``dashboard_page``.
"""

from __future__ import annotations

from .base import MASK, CocaInlineMixin, LinkedInline, ScopedAdminMixin, coca_allowed
from .dashboard_page import DASHBOARD_PAGE, dashboard_allowed, dashboard_view
from .decisions import AppealAdmin, ExclusionProposalAdmin, VisitCorrectionAdmin
from .households import HouseholdAdmin
from .imports import HouseholdImportForm, ImportJobAdmin
from .inlines import (
    AgreementInline,
    ConsentInline,
    CropInstallationInline,
    MemberInline,
    PlotInline,
    StageChangeInline,
    SupportInline,
    VerificationInline,
)
from .queues import EradicationAdmin, PossibleDuplicateAdmin, VerificationAdmin
from .records import (
    CropInstallationAdmin,
    PlotAdmin,
    StageChangeAdmin,
    SupportAdmin,
    SweepRangeInline,
    SweepRunAdmin,
)
from .rights import DataSubjectRequestAdmin
from .training import PracticeAdoptionAdmin, TrainingEventAdmin  # noqa: F401 (registers)

__all__ = [
    "DASHBOARD_PAGE",
    "MASK",
    "AgreementInline",
    "AppealAdmin",
    "CocaInlineMixin",
    "ConsentInline",
    "CropInstallationAdmin",
    "CropInstallationInline",
    "DataSubjectRequestAdmin",
    "EradicationAdmin",
    "ExclusionProposalAdmin",
    "HouseholdAdmin",
    "HouseholdImportForm",
    "ImportJobAdmin",
    "LinkedInline",
    "MemberInline",
    "PlotAdmin",
    "PlotInline",
    "PossibleDuplicateAdmin",
    "ScopedAdminMixin",
    "StageChangeAdmin",
    "StageChangeInline",
    "SupportAdmin",
    "SupportInline",
    "SweepRangeInline",
    "SweepRunAdmin",
    "VerificationAdmin",
    "VerificationInline",
    "VisitCorrectionAdmin",
    "coca_allowed",
    "dashboard_allowed",
    "dashboard_view",
]
