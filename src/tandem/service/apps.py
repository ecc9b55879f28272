from django.apps import AppConfig


class ServiceConfig(AppConfig):
    """Service delivery measured from real tickets: imports, tickets, holds, group sides, SLA
    policies, runs and what they found."""

    name = "tandem.service"
    label = "service"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from tandem.core.choices import Phase
        from tandem.core.views.lifecycle import add_phase_link

        # Operate: service levels measured from the tickets, and what they cost the vendor.
        add_phase_link(
            Phase.OPERATE, "Service levels", "service:sla_dashboard", capability="service_levels"
        )
        add_phase_link(Phase.OPERATE, "Parity", "service:sla_parity", capability="parity")
        add_phase_link(
            Phase.OPERATE, "Credits", "service:sla_credits", capability="service_credits"
        )

        # The engagement home and the home page headline attainment, breaches, credits due.
        from tandem.core.headlines import register_headlines
        from tandem.service import headlines

        register_headlines(
            "service", engagement=headlines.engagement_card, home=headlines.home_card
        )
