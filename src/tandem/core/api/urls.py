"""API routes of the core app: /api/v1/core/<kebab-plural>/ (one router per app)."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from tandem.core.api import views
from tandem.core.api.notifications import NotificationViewSet

app_name = "core-api"

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("engagement-parties", views.EngagementPartyViewSet, basename="engagementparty")
router.register("role-assignments", views.RoleAssignmentViewSet, basename="roleassignment")
router.register("users", views.UserViewSet, basename="user")
router.register("audit", views.ChangeLogViewSet, basename="changelog")
router.register("tokens", views.ApiTokenViewSet, basename="apitoken")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("token/", views.TokenView.as_view(), name="token"),
    *router.urls,
    # Last: anything else under /api/v1/core/ is a JSON 404, not an HTML page.
    re_path(r"^(?P<path>.*)$", views.not_found),
]
