"""Routes of the farmers API under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from farmers.reporting.annual_api import AnnualReportView
from farmers.reporting.api import IndicatorView
from farmers.reporting.iati_api import IatiReportView

from .crops import CropInstallationViewSet
from .decisions import AppealViewSet, CorrectionViewSet, ExclusionProposalViewSet
from .imports import ImportJobViewSet
from .stage_reviews import StageReviewViewSet
from .training import PracticeAdoptionViewSet, SupportViewSet, TrainingEventViewSet
from .views import (
    AgreementViewSet,
    EradicationViewSet,
    HouseholdViewSet,
    PlotViewSet,
    StageChangeViewSet,
    VerificationViewSet,
)

router = SimpleRouter()
router.register("households", HouseholdViewSet, basename="household")
router.register("plots", PlotViewSet, basename="plot")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("verifications", VerificationViewSet, basename="verification")
router.register("eradications", EradicationViewSet, basename="eradication")
router.register("crop-installations", CropInstallationViewSet, basename="crop-installation")
router.register("appeals", AppealViewSet, basename="appeal")
router.register("exclusion-proposals", ExclusionProposalViewSet, basename="exclusion-proposal")
router.register("stage-reviews", StageReviewViewSet, basename="stage-review")
router.register("visit-corrections", CorrectionViewSet, basename="visit-correction")
router.register("trainings", TrainingEventViewSet, basename="training")
router.register("practices", PracticeAdoptionViewSet, basename="practice")
router.register("support", SupportViewSet, basename="support")
router.register("imports", ImportJobViewSet, basename="import")
router.register("transition-events", StageChangeViewSet, basename="transition-event")

urlpatterns = [
    *router.urls,
    path("indicators/", IndicatorView.as_view(), name="indicators"),
    path("reports/annual/", AnnualReportView.as_view(), name="annual-report"),
    path("reports/iati/", IatiReportView.as_view(), name="reports-iati"),
]
