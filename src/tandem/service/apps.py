from collections.abc import Callable

from django.apps import AppConfig


class ServiceConfig(AppConfig):
    """Service delivery measured from real tickets: imports, tickets, holds, group sides, SLA
    policies, runs and what they found."""

    name = "tandem.service"
    label = "service"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from tandem.core.choices import Phase
        from tandem.core.registry import (
            add_phase_link,
            register_demo_loader,
            register_headlines,
            register_menu_entry,
            register_next_steps,
        )
        from tandem.service import headlines, next_steps

        # Operate: service levels measured from the tickets, and what they cost the vendor.
        add_phase_link(
            Phase.OPERATE, "Service levels", "service:sla_dashboard", capability="service_levels"
        )
        add_phase_link(Phase.OPERATE, "Parity", "service:sla_parity", capability="parity")
        add_phase_link(
            Phase.OPERATE, "Credits", "service:sla_credits", capability="service_credits"
        )

        # The engagement home and the home page headline attainment, breaches, credits due.
        register_headlines(
            "service", engagement=headlines.engagement_card, home=headlines.home_card
        )

        # The engagement navigation: tickets and imports, then service levels and their terms.
        for order, label, url_name, area, current in (
            (100, "Tickets", "service:ticket_list", "records", ("service:ticket",)),
            (
                110,
                "Imports",
                "service:importbatch_list",
                "records",
                ("service:importbatch", "service:import_"),
            ),
            (120, "Service levels", "service:sla_dashboard", "records", ()),
            (130, "Parity", "service:sla_parity", "records", ()),
            (
                140,
                "Breaches & at risk",
                "service:sla_breaches",
                "records",
                ("service:sla_breaches", "service:sla_at_risk", "service:slameasurement"),
            ),
            (
                150,
                "Credits",
                "service:sla_credits",
                "records",
                ("service:sla_credits", "service:servicecredit"),
            ),
            (160, "SLA policy", "service:slapolicy_list", "terms", ("service:slapolicy",)),
            (
                170,
                "SLA runs",
                "service:slarun_list",
                "records",
                ("service:slarun", "service:slaaggregate"),
            ),
            (
                180,
                "Assignment groups",
                "service:assignmentgroupside_list",
                "terms",
                ("service:assignmentgroupside",),
            ),
        ):
            register_menu_entry(label, url_name, area=area, order=order, current=current)

        # "What comes next" on the engagement home: import, write the policy, run the engine.
        register_next_steps("service", next_steps.engagement_next_steps)

        # tandem demo: Riverside's tickets, policy and SLA run, after core's people are in.
        register_demo_loader("service", _load_demo, order=100)


def _load_demo(*, tickets: int | None = None, write: Callable[[str], None] | None = None) -> int:
    """``tandem demo``'s service part (imported only when the demo loads)."""
    from tandem.service.demo.load import load_service_demo

    return load_service_demo(tickets=tickets, write=write)
