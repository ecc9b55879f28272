from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Organizations, engagements, people and roles, scoped access and the audit trail."""

    name = "tandem.core"
    label = "core"
    verbose_name = "Tandem core"

    def ready(self) -> None:
        from tandem.core import audit, mfa  # noqa: F401  (mfa: its signal receiver)

        audit.connect_signals()
