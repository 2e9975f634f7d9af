"""Routes of the titles API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .views import TitleApplicationViewSet

router = SimpleRouter()
router.register("title-applications", TitleApplicationViewSet, basename="title-application")

urlpatterns = router.urls
