"""What each life-cycle phase involves (DESIGN.md, "The life of an engagement"), and which of
it Tandem has pages for.

The engagement home shows the phase stepper and "what comes next" from this table; the
engagement navigation lists the phases. A phase's capabilities are what DESIGN.md promises;
a capability is available once a page for it is plugged in with ``add_phase_link`` (naming the
capability), and until then every view says "not yet available". Nothing is ticked as done
that Tandem has no page for: a past phase is ticked only when it has pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

from tandem.core.choices import Phase

NOT_YET_AVAILABLE = "not yet available"


@dataclass(frozen=True)
class PhaseLink:
    label: str
    url_name: str  # reversed with the engagement's pk as its one argument
    capability: str = ""  # the key of the capability this page provides ("": none in particular)


@dataclass(frozen=True)
class Capability:
    """One thing a phase involves; ``key`` is how a page says it provides it."""

    key: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class PhaseGuide:
    summary: str
    involves: tuple[Capability, ...]
    links: list[PhaseLink] = field(default_factory=list)


def _involves(*items: tuple[str, str]) -> tuple[Capability, ...]:
    return tuple(Capability(key, text) for key, text in items)


GUIDE: dict[str, PhaseGuide] = {
    Phase.EXPLORE: PhaseGuide(
        "Understand today's support before deciding how to source it.",
        _involves(
            (
                "support_matrix",
                "Current-state support matrix: applications and systems by staff, skills, "
                "allocation and backups",
            ),
            ("support_gaps", "Support gaps and burnout"),
            ("asset_lifecycle", "Asset end-of-life and version lag"),
            ("sourcing_options", "Sourcing options and their total cost of ownership"),
        ),
    ),
    Phase.SELECT: PhaseGuide(
        "Vet vendors on evidence and compare bidders side by side.",
        _involves(
            (
                "due_diligence",
                "Due-diligence questionnaires: capabilities, financial stability, track "
                "record, healthcare experience, HIPAA safeguards, references, cultural fit",
            ),
            ("scoring", "Evidence and weighted scoring"),
            ("bidders", "Bidders side by side"),
        ),
    ),
    Phase.CONTRACT: PhaseGuide(
        "Write down what is delivered, how well, and what happens when it is not.",
        _involves(
            (
                "contracts",
                "Contracts and their documents: master agreement, statement of work, business "
                "associate agreement, amendments",
            ),
            ("service_catalog", "Scope: the service catalog"),
            (
                "service_level_terms",
                "Service levels: metric, calendar, target, pause rules, service credits",
            ),
            (
                "compliance",
                "Security and compliance obligations, business associate agreement",
            ),
            (
                "escalation_matrix",
                "Escalation matrix and dispute resolution; later, scope-change requests",
            ),
        ),
    ),
    Phase.TRANSITION: PhaseGuide(
        "Move knowledge and work to the vendor without losing either.",
        _involves(
            ("knowledge_acquisition", "Knowledge acquisition: interviews, documents and findings"),
            ("knowledge_transfer", "Knowledge transfer and training records"),
            ("staff_concerns", "Staff concerns and trust"),
            (
                "action_plan",
                "A short-term action plan the client approves before significant change",
            ),
            ("day_one_gates", "Day One readiness gates and the expected duration"),
        ),
    ),
    Phase.OPERATE: PhaseGuide(
        "Measure the service from real tickets and govern the partnership.",
        _involves(
            ("service_levels", "Service levels measured from service-desk tickets, and breaches"),
            ("service_credits", "Service credits"),
            ("escalations", "Escalations"),
            ("parity", "Internal vs vendor parity"),
            ("governance", "Change control, check-ins and their actions, risks"),
            ("benefits", "Benefits realized and continuous improvement"),
        ),
    ),
    Phase.EXIT: PhaseGuide(
        "Renew or leave without any knowledge leaving with a person or a vendor.",
        _involves(
            (
                "master_document",
                "The master IT document: infrastructure, credentials, disaster-recovery plan",
            ),
            ("exit_strategy", "The exit strategy"),
        ),
    ),
    Phase.STRATEGY: PhaseGuide(
        "Decide why the organizations come together and what IT must deliver.",
        _involves(
            ("integration_goals", "Integration goals and guiding principles"),
            ("imo", "The IT integration management office"),
        ),
    ),
    Phase.DUE_DILIGENCE: PhaseGuide(
        "Learn what the other side runs, owns and owes.",
        _involves(
            ("inventories", "Application and infrastructure inventories"),
            ("liabilities", "Contracts, risks and liabilities"),
        ),
    ),
    Phase.DEFINITIVE_AGREEMENT: PhaseGuide(
        "Commit to the deal and what IT must have ready.",
        _involves(
            ("it_terms", "IT terms of the agreement"),
            ("transition_services", "Transition services and their costs"),
        ),
    ),
    Phase.INTEGRATION_PLANNING: PhaseGuide(
        "Plan the integration, fixed and adaptable standards alike.",
        _involves(
            ("integration_plans", "Integration plans, workstreams and milestones"),
            ("imo_rollup", "IT IMO rolled up into the enterprise IMO"),
        ),
    ),
    Phase.DAY_ONE: PhaseGuide(
        "Be ready for the first day as one organization.",
        _involves(
            ("day_one_gates", "Day One readiness gates"),
            ("command_center", "Command-center staffing and go-live support"),
        ),
    ),
    Phase.POST_CLOSE: PhaseGuide(
        "Execute the integration and realize its benefits.",
        _involves(
            ("integration_tracking", "Integration execution and tracking"),
            ("benefits", "Benefits realized"),
        ),
    ),
}


def add_phase_link(phase: str, label: str, url_name: str, *, capability: str = "") -> None:
    """Plug a capability's page into a phase: the engagement navigation links it, and the
    capability (a key of the phase's ``involves``) stops saying "not yet available"."""
    guide = GUIDE[phase]
    if capability and capability not in {item.key for item in guide.involves}:
        raise ValueError(f"{phase!r} involves no capability {capability!r}")
    link = PhaseLink(label, url_name, capability)
    if link not in guide.links:  # ready() may run twice (tests, reloads)
        guide.links.append(link)


def _links(guide: PhaseGuide, pk: Any) -> list[tuple[PhaseLink, str]]:
    """The phase's pages that exist, with their URLs for this engagement."""
    found = []
    for link in guide.links:
        try:
            found.append((link, reverse(link.url_name, args=[pk])))
        except NoReverseMatch:
            continue
    return found


def _capabilities(guide: PhaseGuide, links: list[tuple[PhaseLink, str]]) -> list[dict[str, Any]]:
    """Each capability of the phase with its pages; none means "not yet available"."""
    return [
        {
            "key": item.key,
            "text": item.text,
            "links": [(link.label, url) for link, url in links if link.capability == item.key],
            "available": any(link.capability == item.key for link, _ in links),
        }
        for item in guide.involves
    ]


def phase_steps(engagement: object) -> list[dict[str, object]]:
    """The engagement's phases in order.

    ``state`` is ``current``, ``upcoming``, ``done`` (a past phase with pages in Tandem: ticked)
    or ``past`` (a past phase Tandem has no page for: never ticked). ``available`` says whether
    the phase has any page; ``capabilities`` lists what it involves, each with its pages or as
    not yet available; ``is_next`` marks the phase after the current one.
    """
    current = getattr(engagement, "phase", "")
    phases = engagement.phases  # type: ignore[attr-defined]
    index = next((i for i, p in enumerate(phases) if p == current), -1)
    steps = []
    for position, phase in enumerate(phases):
        guide = GUIDE[phase]
        links = _links(guide, engagement.pk)  # type: ignore[attr-defined]
        available = bool(links)
        if position < index:
            state = "done" if available else "past"
        else:
            state = "current" if position == index else "upcoming"
        steps.append(
            {
                "value": str(phase),
                "label": phase.label,
                "number": position + 1,
                "state": state,
                "is_next": index >= 0 and position == index + 1,
                "available": available,
                "guide": guide,
                "links": [(link.label, url) for link, url in links],
                "capabilities": _capabilities(guide, links),
            }
        )
    return steps
