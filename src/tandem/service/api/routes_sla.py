"""API routes of SLA policies and runs, on the service app's router."""

from rest_framework.routers import DefaultRouter

from tandem.service.api.sla import SlaPolicyViewSet, SlaRunViewSet


def register(router: DefaultRouter) -> None:
    """Add this module's viewsets to the service router."""
    router.register("sla-policies", SlaPolicyViewSet, basename="slapolicy")
    router.register("sla-runs", SlaRunViewSet, basename="slarun")
