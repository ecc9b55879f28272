from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Organizations, engagements, people and roles, scoped access and the audit trail."""

    name = "tandem.core"
    label = "core"
    verbose_name = "Tandem core"

    def ready(self) -> None:
        from tandem.core import audit, mfa  # noqa: F401  (mfa: its signal receiver)

        audit.connect_signals()

        # The engagement navigation starts with core's pages and ends with its audit trail;
        # the apps' pages go between (orders 100-899, tandem.core.registry).
        from tandem.core.registry import register_menu_entry

        home = ("core:engagement_detail", "core:engagement_history", "core:engagement_edit")
        register_menu_entry(
            "Home", "core:engagement_detail", area="engagement", order=0, current=home
        )
        register_menu_entry(
            "Parties",
            "core:engagementparty_list",
            area="people",
            order=10,
            current=("core:engagementparty",),
        )
        register_menu_entry(
            "People & roles",
            "core:roleassignment_list",
            area="people",
            order=20,
            current=("core:roleassignment",),
        )
        register_menu_entry("Audit trail", "core:engagement_audit", area="audit", order=900)
