"""API routes of SLA measurements, aggregates and credits, on the service app's router."""

from rest_framework.routers import DefaultRouter

from tandem.service.api import results


def register(router: DefaultRouter) -> None:
    """Add this module's viewsets to the service router."""
    router.register("sla-measurements", results.SlaMeasurementViewSet, basename="slameasurement")
    router.register("sla-aggregates", results.SlaAggregateViewSet, basename="slaaggregate")
    router.register("service-credits", results.ServiceCreditViewSet, basename="servicecredit")
    router.register("sla-parity", results.SlaParityViewSet, basename="slaparity")
