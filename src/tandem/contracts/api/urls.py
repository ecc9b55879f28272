"""API routes of the contracts app: /api/v1/contracts/<kebab-plural>/ (one router per app)."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from tandem.contracts.api import views
from tandem.core.api.views import not_found

app_name = "contracts-api"

router = DefaultRouter()
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("documents", views.ContractDocumentViewSet, basename="contractdocument")
router.register("scope-items", views.ScopeItemViewSet, basename="scopeitem")

urlpatterns = [
    *router.urls,
    # Last: anything else under /api/v1/contracts/ is a JSON 404, not an HTML page.
    re_path(r"^(?P<path>.*)$", not_found),
]
