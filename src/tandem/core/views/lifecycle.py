"""What each life-cycle phase involves (DESIGN.md, "The life of an engagement").

The engagement home shows the phase stepper and "what comes next" from this table; the
engagement navigation lists the phases. Later capabilities plug their pages into a phase
with ``add_phase_link``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from tandem.core.choices import Phase


@dataclass(frozen=True)
class PhaseLink:
    label: str
    url_name: str  # reversed with the engagement's pk as its one argument


@dataclass
class PhaseGuide:
    summary: str
    involves: tuple[str, ...]
    links: list[PhaseLink] = field(default_factory=list)


GUIDE: dict[str, PhaseGuide] = {
    Phase.EXPLORE: PhaseGuide(
        "Understand today's support before deciding how to source it.",
        (
            "Current-state support matrix: applications and systems by staff, skills, "
            "allocation and backups",
            "Support gaps and burnout",
            "Asset end-of-life and version lag",
            "Sourcing options and their total cost of ownership",
        ),
    ),
    Phase.SELECT: PhaseGuide(
        "Vet vendors on evidence and compare bidders side by side.",
        (
            "Due-diligence questionnaires: capabilities, financial stability, track record, "
            "healthcare experience, HIPAA safeguards, references, cultural fit",
            "Evidence and weighted scoring",
            "Bidders side by side",
        ),
    ),
    Phase.CONTRACT: PhaseGuide(
        "Write down what is delivered, how well, and what happens when it is not.",
        (
            "Scope: the service catalog",
            "Service levels: metric, calendar, target, pause rules, service credits",
            "Security and compliance obligations, business associate agreement",
            "Escalation matrix and dispute resolution; later, scope-change requests",
        ),
    ),
    Phase.TRANSITION: PhaseGuide(
        "Move knowledge and work to the vendor without losing either.",
        (
            "Knowledge acquisition: interviews, documents and findings",
            "Knowledge transfer and training records",
            "Staff concerns and trust",
            "A short-term action plan the client approves before significant change",
            "Day One readiness gates and the expected duration",
        ),
    ),
    Phase.OPERATE: PhaseGuide(
        "Measure the service from real tickets and govern the partnership.",
        (
            "Service levels measured from service-desk tickets; breaches, credits, escalations",
            "Internal vs vendor parity",
            "Change control, check-ins and their actions, risks",
            "Benefits realized and continuous improvement",
        ),
    ),
    Phase.EXIT: PhaseGuide(
        "Renew or leave without any knowledge leaving with a person or a vendor.",
        (
            "The master IT document: infrastructure, credentials, disaster-recovery plan",
            "The exit strategy",
        ),
    ),
    Phase.STRATEGY: PhaseGuide(
        "Decide why the organizations come together and what IT must deliver.",
        ("Integration goals and guiding principles", "The IT integration management office"),
    ),
    Phase.DUE_DILIGENCE: PhaseGuide(
        "Learn what the other side runs, owns and owes.",
        ("Application and infrastructure inventories", "Contracts, risks and liabilities"),
    ),
    Phase.DEFINITIVE_AGREEMENT: PhaseGuide(
        "Commit to the deal and what IT must have ready.",
        ("IT terms of the agreement", "Transition services and their costs"),
    ),
    Phase.INTEGRATION_PLANNING: PhaseGuide(
        "Plan the integration, fixed and adaptable standards alike.",
        (
            "Integration plans, workstreams and milestones",
            "IT IMO rolled up into the enterprise IMO",
        ),
    ),
    Phase.DAY_ONE: PhaseGuide(
        "Be ready for the first day as one organization.",
        ("Day One readiness gates", "Command-center staffing and go-live support"),
    ),
    Phase.POST_CLOSE: PhaseGuide(
        "Execute the integration and realize its benefits.",
        ("Integration execution and tracking", "Benefits realized"),
    ),
}


def add_phase_link(phase: str, label: str, url_name: str) -> None:
    """Plug a capability's page into a phase of the engagement navigation."""
    link = PhaseLink(label, url_name)
    if link not in GUIDE[phase].links:  # ready() may run twice (tests, reloads)
        GUIDE[phase].links.append(link)


def phase_steps(engagement: object) -> list[dict[str, object]]:
    """The engagement's phases in order, each marked done, current or upcoming."""
    current = getattr(engagement, "phase", "")
    phases = engagement.phases  # type: ignore[attr-defined]
    index = next((i for i, p in enumerate(phases) if p == current), -1)
    steps = []
    for position, phase in enumerate(phases):
        state = "done" if position < index else "current" if position == index else "upcoming"
        links = []
        for link in GUIDE[phase].links:
            try:
                links.append((link.label, reverse(link.url_name, args=[engagement.pk])))  # type: ignore[attr-defined]
            except NoReverseMatch:
                continue
        steps.append(
            {
                "value": str(phase),
                "label": phase.label,
                "number": position + 1,
                "state": state,
                "guide": GUIDE[phase],
                "links": links,
            }
        )
    return steps
