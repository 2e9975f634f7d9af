"""Households and what the registry knows about them: members, consent, plots, agreements,
verification visits, support given, crop installations, training events, and deduplication keys.

A package by sub-domain (``households``, ``records``, ``crops``, ``transition``,
``decisions``, ``rights``); every model is imported here, so ``from farmers.models import X``
keeps working and Django finds them all."""

from __future__ import annotations

from ..choices import ConsentPurpose, SweepStatus
from .crops import CropInstallation
from .decisions import Appeal, DecidedModel, ExclusionProposal, VisitCorrection
from .households import HA, MEMBER_FIELDS, Consent, DedupKey, Household, Member, PossibleDuplicate
from .imports import ImportIssue, ImportJob, ImportPhase, ImportStage
from .records import Agreement, Eradication, Plot, PlotOverlap, Support, Verification
from .rights import DataSubjectRequest
from .summaries import (
    AnnualReportRows,
    DashboardHouseholds,
    DashboardReach,
    DashboardRelapses,
    DashboardSpend,
    DashboardStageMonth,
)
from .training import PracticeAdoption, TrainingAttendance, TrainingEvent
from .transition import StageChange, StageChangeQuerySet, SweepRange, SweepRun

__all__ = [
    "HA",
    "MEMBER_FIELDS",
    "Agreement",
    "AnnualReportRows",
    "Appeal",
    "Consent",
    "ConsentPurpose",
    "CropInstallation",
    "DashboardHouseholds",
    "DashboardReach",
    "DashboardRelapses",
    "DashboardSpend",
    "DashboardStageMonth",
    "DataSubjectRequest",
    "DecidedModel",
    "DedupKey",
    "Eradication",
    "ExclusionProposal",
    "Household",
    "ImportIssue",
    "ImportJob",
    "ImportPhase",
    "ImportStage",
    "Member",
    "Plot",
    "PlotOverlap",
    "PossibleDuplicate",
    "PracticeAdoption",
    "StageChange",
    "StageChangeQuerySet",
    "Support",
    "SweepRange",
    "SweepRun",
    "SweepStatus",
    "TrainingAttendance",
    "TrainingEvent",
    "Verification",
    "VisitCorrection",
]
