"""Life-cycle honesty: the stepper, the side navigation and "what comes next" tick nothing as
done that Tandem has no page for, and call every capability without a page "not yet
available"; Operate's service-level pages are links."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tandem.core.choices import AFFILIATION_PHASES, OUTSOURCING_PHASES, Phase
from tandem.core.views import lifecycle
from tandem.core.views.lifecycle import GUIDE, NOT_YET_AVAILABLE, add_phase_link, phase_steps

BEFORE_OPERATE = ("Explore", "Select", "Contract", "Transition-in")
#: The phases before Operate that no page serves yet (Contract has its contracts and catalog).
WITHOUT_PAGES = ("Explore", "Select", "Transition-in")


def operating(pk: int = 7) -> SimpleNamespace:
    """An outsourcing engagement in its Operate phase (what phase_steps reads of one)."""
    return SimpleNamespace(pk=pk, phase=Phase.OPERATE, phases=OUTSOURCING_PHASES)


def by_label(steps: list[dict]) -> dict[str, dict]:
    return {step["label"]: step for step in steps}


@pytest.fixture
def guide_links(monkeypatch):
    """Each phase's registered pages, restored after the test."""
    for guide in GUIDE.values():
        monkeypatch.setattr(guide, "links", list(guide.links))
    return GUIDE


# The table --------------------------------------------------------------------------------------


def test_phases_before_operate_have_no_page_and_are_not_ticked() -> None:
    steps = by_label(phase_steps(operating()))
    for label in WITHOUT_PAGES:
        step = steps[label]
        assert step["state"] == "past", label  # before the current phase, yet not "done"
        assert step["available"] is False and step["links"] == [], label
        assert step["capabilities"], label
        assert all(item["available"] is False for item in step["capabilities"]), label
        assert all(item["links"] == [] for item in step["capabilities"]), label
    assert [s["label"] for s in steps.values() if s["state"] == "done"] == [
        label for label in BEFORE_OPERATE if label not in WITHOUT_PAGES
    ]


def test_the_contract_phase_links_its_pages_and_nothing_else() -> None:
    contract = by_label(phase_steps(operating(pk=7)))["Contract"]
    capabilities = {item["key"]: item for item in contract["capabilities"]}
    assert capabilities["contracts"]["links"] == [
        ("Contracts", reverse("contracts:contract_list", args=[7]))
    ]
    assert capabilities["service_catalog"]["links"] == [
        ("Service catalog", reverse("contracts:scopeitem_list", args=[7]))
    ]
    for key in ("service_level_terms", "compliance", "escalation_matrix"):
        assert capabilities[key]["available"] is False and capabilities[key]["links"] == [], key


def test_operate_service_level_pages_are_links() -> None:
    operate = by_label(phase_steps(operating(pk=7)))["Operate"]
    assert operate["state"] == "current" and operate["available"] is True
    assert ("Service levels", reverse("service:sla_dashboard", args=[7])) in operate["links"]
    assert ("Parity", reverse("service:sla_parity", args=[7])) in operate["links"]
    assert ("Credits", reverse("service:sla_credits", args=[7])) in operate["links"]
    capabilities = {item["text"]: item for item in operate["capabilities"]}
    service_levels = next(v for k, v in capabilities.items() if k.startswith("Service levels"))
    assert service_levels["links"] == [
        ("Service levels", reverse("service:sla_dashboard", args=[7]))
    ]
    assert capabilities["Internal vs vendor parity"]["available"] is True
    assert capabilities["Service credits"]["links"] == [
        ("Credits", reverse("service:sla_credits", args=[7]))
    ]
    # What Operate involves and has no page yet says so.
    for text in ("Escalations", "Change control, check-ins and their actions, risks"):
        assert capabilities[text]["available"] is False and capabilities[text]["links"] == []


def test_the_next_phase_is_marked_and_has_no_page_yet() -> None:
    steps = phase_steps(operating())
    nexts = [step for step in steps if step["is_next"]]
    assert [step["label"] for step in nexts] == ["Exit or renew"]
    assert nexts[0]["state"] == "upcoming" and nexts[0]["available"] is False


def test_an_affiliation_has_no_page_in_any_phase() -> None:
    engagement = SimpleNamespace(pk=3, phase=Phase.DAY_ONE, phases=AFFILIATION_PHASES)
    steps = phase_steps(engagement)
    assert [step["state"] for step in steps] == ["past"] * 4 + ["current", "upcoming"]
    assert not any(step["available"] for step in steps)


def test_a_past_phase_with_a_page_is_ticked(guide_links) -> None:
    add_phase_link(Phase.SELECT, "Scoring", "core:engagement_audit", capability="scoring")
    steps = by_label(phase_steps(operating(pk=5)))
    select = steps["Select"]
    assert select["state"] == "done" and select["available"] is True
    scoring = {item["key"]: item for item in select["capabilities"]}["scoring"]
    assert scoring["available"] is True
    assert scoring["links"] == [("Scoring", reverse("core:engagement_audit", args=[5]))]
    # Its other capabilities still have no page, and the other phases are unchanged.
    others = [item["available"] for item in select["capabilities"] if item["key"] != "scoring"]
    assert others == [False, False]
    assert steps["Explore"]["state"] == "past"


def test_a_link_to_a_route_that_does_not_exist_is_no_page(guide_links) -> None:
    add_phase_link(Phase.SELECT, "Scoring", "nowhere:scoring", capability="scoring")
    select = by_label(phase_steps(operating()))["Select"]
    assert select["state"] == "past" and select["available"] is False
    assert all(item["available"] is False for item in select["capabilities"])


def test_add_phase_link_names_a_capability_of_the_phase(guide_links) -> None:
    with pytest.raises(ValueError, match="parity"):
        add_phase_link(Phase.EXPLORE, "Parity", "service:sla_parity", capability="parity")
    add_phase_link(Phase.OPERATE, "Parity", "service:sla_parity", capability="parity")
    assert len([link for link in GUIDE[Phase.OPERATE].links if link.label == "Parity"]) == 1


def test_every_phase_names_its_capabilities_once() -> None:
    for phase, guide in GUIDE.items():
        keys = [item.key for item in guide.involves]
        assert keys and len(keys) == len(set(keys)), phase
        for link in guide.links:
            assert link.capability in keys, (phase, link)
    assert lifecycle.NOT_YET_AVAILABLE == "not yet available"


# The pages --------------------------------------------------------------------------------------


def stepper_items(html: str) -> dict[str, str]:
    """Each stepper step's label and its whole <li>, from the first stepper of a page."""
    stepper = re.search(r'<ol class="stepper[^"]*"[^>]*>(.*?)</ol>', html, re.S)
    assert stepper, "no stepper on the page"
    items = re.findall(r"(<li class=\"step .*?</li>)", stepper.group(1), re.S)
    return {re.search(r'step-label">([^<]+)', item).group(1): item for item in items}


@pytest.mark.django_db
def test_engagement_home_ticks_nothing_without_a_page(world, client_for) -> None:
    html = client_for(world.it_lead).get(world.e1.get_absolute_url()).content.decode()
    steps = stepper_items(html)
    for label in WITHOUT_PAGES:
        assert "✓" not in steps[label] and "step-done" not in steps[label], label
        assert "step-unavailable" in steps[label] and NOT_YET_AVAILABLE in steps[label], label
    assert "step-done" in steps["Contract"]  # passed, and its contracts have pages
    assert NOT_YET_AVAILABLE not in steps["Operate"]
    assert NOT_YET_AVAILABLE in steps["Exit or renew"]


@pytest.mark.django_db
def test_what_comes_next_says_which_capabilities_have_pages(world, client_for) -> None:
    pk = world.e1.pk
    html = client_for(world.it_lead).get(world.e1.get_absolute_url()).content.decode()
    card = re.search(r'<section class="card what-next">(.*?)</section>', html, re.S)
    assert card, "no 'What comes next' card"
    body = card.group(1)
    available = re.findall(r'<li class="capability-available">(.*?)</li>', body, re.S)
    unavailable = re.findall(r'<li class="capability-unavailable">(.*?)</li>', body, re.S)
    # Exit or renew (next): nothing yet; Operate (now): its pages are links.
    assert any("The exit strategy" in item for item in unavailable)
    assert all(NOT_YET_AVAILABLE in item and "href" not in item for item in unavailable)
    assert any(f'href="{reverse("service:sla_dashboard", args=[pk])}"' in i for i in available)
    assert any(f'href="{reverse("service:sla_parity", args=[pk])}"' in i for i in available)
    assert any(f'href="{reverse("service:sla_credits", args=[pk])}"' in i for i in available)
    assert all(NOT_YET_AVAILABLE not in item for item in available)
    assert any("Escalations" in item for item in unavailable)


@pytest.mark.django_db
def test_side_navigation_phases_without_pages_say_so(world, client_for) -> None:
    pk = world.e1.pk
    html = client_for(world.it_lead).get(world.e1.get_absolute_url()).content.decode()
    phases = re.search(r'<ol class="sidenav-phases">(.*?)</ol>', html, re.S)
    assert phases, "no life cycle in the side navigation"
    items = re.findall(r'<li class="phase-.*?(?=<li class="phase-|\Z)', phases.group(1), re.S)
    assert len(items) == len(OUTSOURCING_PHASES)
    for item, label in zip(items, [p.label for p in OUTSOURCING_PHASES], strict=True):
        assert label in item
        if label == "Operate":
            assert f'href="{reverse("service:sla_dashboard", args=[pk])}"' in item
            assert NOT_YET_AVAILABLE not in item
        elif label == "Contract":
            assert f'href="{reverse("contracts:contract_list", args=[pk])}"' in item
        else:
            assert NOT_YET_AVAILABLE in item and "✓" not in item, label


@pytest.mark.django_db
def test_home_page_cards_tick_nothing_without_a_page(world, client_for) -> None:
    html = client_for(world.it_lead).get(reverse("core:home")).content.decode()
    steppers = re.findall(r'<ol class="stepper compact[^"]*"[^>]*>(.*?)</ol>', html, re.S)
    assert steppers, "no life cycle on the home page's engagement cards"
    for stepper in steppers:
        done = re.findall(r'<li class="step step-done".*?</li>', stepper, re.S)
        assert len(done) == 1 and "Contract" in done[0]  # the only past phase with pages
        assert "step-unavailable" in stepper and NOT_YET_AVAILABLE in stepper


def test_the_import_wizard_still_ticks_its_own_finished_steps() -> None:
    steps = [
        {"number": 1, "label": "Upload", "state": "done"},
        {"number": 2, "label": "Preview", "state": "current"},
        {"number": 3, "label": "Import", "state": "todo"},
    ]
    html = render_to_string("core/_stepper.html", {"steps": steps})
    assert html.count("✓") == 1 and NOT_YET_AVAILABLE not in html
