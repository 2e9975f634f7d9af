"""Routes of the markets API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .views import (
    BuyerViewSet,
    ContractViewSet,
    DeliveryViewSet,
    MembershipViewSet,
    OfferViewSet,
    ProducerOrganizationViewSet,
)

router = SimpleRouter()
router.register("buyers", BuyerViewSet, basename="buyer")
router.register("offers", OfferViewSet, basename="offer")
router.register(
    "producer-organizations", ProducerOrganizationViewSet, basename="producer-organization"
)
router.register("producer-memberships", MembershipViewSet, basename="producer-membership")
router.register("contracts", ContractViewSet, basename="contract")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
