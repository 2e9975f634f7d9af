"""Routes of the registry kernel under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .alerts import AlertViewSet
from .exports import ExportJobViewSet
from .views import (
    DistrictViewSet,
    FundingAgreementViewSet,
    OrganizationViewSet,
    ProgramViewSet,
)
from .webhooks import WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("districts", DistrictViewSet, basename="district")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("programs", ProgramViewSet, basename="program")
router.register("funding-agreements", FundingAgreementViewSet, basename="funding-agreement")
router.register("alerts", AlertViewSet, basename="alert")
router.register("exports", ExportJobViewSet, basename="export")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = router.urls
