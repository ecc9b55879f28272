from django.apps import AppConfig


class ServiceConfig(AppConfig):
    """Service delivery measured from real tickets: imports, tickets, holds, group sides."""

    name = "tandem.service"
    label = "service"
    verbose_name = "Service levels"
