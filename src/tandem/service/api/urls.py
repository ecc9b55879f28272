"""API routes of the service app: /api/v1/service/<kebab-plural>/ (one router per app)."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from tandem.core.api.views import not_found
from tandem.service.api import routes_results, routes_sla, views

app_name = "service-api"

router = DefaultRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("ticket-holds", views.TicketHoldViewSet, basename="tickethold")
router.register("import-batches", views.ImportBatchViewSet, basename="importbatch")
router.register(
    "assignment-group-sides", views.AssignmentGroupSideViewSet, basename="assignmentgroupside"
)
routes_sla.register(router)
routes_results.register(router)

urlpatterns = [
    *router.urls,
    # Last: anything else under /api/v1/service/ is a JSON 404, not an HTML page.
    re_path(r"^(?P<path>.*)$", not_found),
]
