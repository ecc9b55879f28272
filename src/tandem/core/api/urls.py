"""API routes of the core app: /api/v1/core/<kebab-plural>/."""

from rest_framework.routers import DefaultRouter

app_name = "core-api"

router = DefaultRouter()
urlpatterns = router.urls
