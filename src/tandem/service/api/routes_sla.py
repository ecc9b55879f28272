"""API routes of SLA policies and runs, on the service app's router."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Add this module's viewsets to the service router."""
