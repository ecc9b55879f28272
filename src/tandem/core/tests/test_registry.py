"""What apps plug into core (tandem.core.registry): the engagement menu, demo loaders, next
steps."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tandem.core import registry
from tandem.core.access import roles_allowed
from tandem.core.choices import Role
from tandem.core.registry import (
    MENU,
    MenuEntry,
    NextStep,
    engagement_menu,
    load_app_demos,
    next_steps,
    register_demo_loader,
    register_menu_entry,
    register_next_steps,
)

pytestmark = pytest.mark.django_db

# The engagement navigation as it was written by hand in the template before the registry;
# later apps add their pages between (in the order they register).
LABELS = [
    "Home",
    "Parties",
    "People & roles",
    "Tickets",
    "Imports",
    "Service levels",
    "Parity",
    "Breaches & at risk",
    "Credits",
    "SLA policy",
    "SLA runs",
    "Assignment groups",
    "Audit trail",
]
ROLES = ("sponsor", "it_lead", "it_staff", "vendor_lead", "vendor_staff", "observer")


def in_order(expected: list[str], labels: list[str]) -> bool:
    """Whether ``labels`` holds every one of ``expected``, in that order."""
    rest = iter(labels)
    return all(label in rest for label in expected)


def every_role_entries() -> dict[str, MenuEntry]:
    """The registered entries that every role may see (they cost no query)."""
    return {
        key: entry
        for key, entry in MENU.items()
        if set(roles_allowed(entry.area, entry.action)) == {str(role) for role in Role}
    }


def side_navigation(page: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of each link of the page's engagement side navigation."""
    nav = re.search(r'<aside class="sidenav".*?<nav>(.*?)</nav>', page, re.S)
    assert nav, "no engagement side navigation"
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(1))
    return [(label.replace("&amp;", "&"), href, bool(current)) for href, current, label in links]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_registered_pages_in_order(world, client_for, role) -> None:
    page = client_for(getattr(world, role)).get(world.e1.get_absolute_url()).content.decode()
    links = side_navigation(page)
    labels = [label for label, _, _ in links]
    registered = [entry["label"] for entry in engagement_menu(getattr(world, role), world.e1)]
    assert labels == registered
    assert in_order(LABELS, labels), labels
    assert links[labels.index("Tickets")][1] == reverse("service:ticket_list", args=[world.e1.pk])
    assert [label for label, _, current in links if current] == ["Home"]
    # The phone Menu lists the same pages.
    assert page.count(reverse("service:slarun_list", args=[world.e1.pk]) + '"') == 2


@pytest.mark.parametrize(
    ("url_name", "current"),
    [
        ("core:engagement_history", "Home"),
        ("core:roleassignment_list", "People & roles"),
        ("core:engagement_audit", "Audit trail"),
        ("service:import_upload", "Imports"),
        ("service:tickethold_list", "Tickets"),
        ("service:sla_at_risk", "Breaches & at risk"),
        ("service:servicecredit_list", "Credits"),
        ("service:slaaggregate_list", "SLA runs"),
        ("service:assignmentgroupside_list", "Assignment groups"),
    ],
)
def test_the_current_page_is_marked(world, client_for, url_name, current) -> None:
    response = client_for(world.it_lead).get(reverse(url_name, args=[world.e1.pk]))
    assert response.status_code == 200
    links = side_navigation(response.content.decode())
    assert [label for label, _, is_current in links if is_current] == [current]


def test_an_entry_needing_a_permission_is_shown_only_to_those_who_have_it(
    world, client_for, monkeypatch
) -> None:
    monkeypatch.setattr(registry, "MENU", dict(MENU))
    register_menu_entry(
        "Map assignment groups",
        "service:assignmentgroup_map",
        area="terms",
        action="change",
        order=185,
    )
    url = world.e1.get_absolute_url()
    for role in ("sponsor", "it_lead"):
        labels = [
            link[0]
            for link in side_navigation(client_for(getattr(world, role)).get(url).content.decode())
        ]
        assert in_order(["Assignment groups", "Map assignment groups", "Audit trail"], labels)
    for role in ("it_staff", "vendor_lead", "vendor_staff", "observer"):
        labels = [
            link[0]
            for link in side_navigation(client_for(getattr(world, role)).get(url).content.decode())
        ]
        assert in_order(LABELS, labels) and "Map assignment groups" not in labels, role
    # A platform administrator (whose pages need two-factor sign-in) sees every entry.
    labels = [entry["label"] for entry in engagement_menu(world.admin, world.e1)]
    assert in_order([*LABELS[:12], "Map assignment groups", "Audit trail"], labels)


def test_the_menu_costs_a_query_only_for_entries_not_every_role_sees(
    world, monkeypatch, django_assert_num_queries
) -> None:
    monkeypatch.setattr(registry, "MENU", every_role_entries())
    with django_assert_num_queries(0):
        labels = [entry["label"] for entry in engagement_menu(world.observer, world.e1)]
    assert in_order(LABELS, labels)
    register_menu_entry("Approve", "core:engagement_edit", area="approvals", action="approve")
    register_menu_entry("Delete", "core:engagement_delete", area="terms", action="delete")
    with django_assert_num_queries(1):
        labels = [entry["label"] for entry in engagement_menu(world.it_lead, world.e1)]
    assert (
        "Delete" in labels and "Approve" not in labels
    )  # it_lead: vacd in terms, vac in approvals


def test_a_menu_entry_must_name_a_known_area_and_action() -> None:
    with pytest.raises(ValueError, match="unknown permission area 'contract'"):
        register_menu_entry("Contracts", "core:engagement_detail", area="contract")
    with pytest.raises(ValueError, match="unknown action 'read'"):
        register_menu_entry("Contracts", "core:engagement_detail", action="read")


def test_an_entry_whose_page_is_missing_is_left_out(world, monkeypatch) -> None:
    monkeypatch.setattr(registry, "MENU", dict(MENU))
    register_menu_entry("Gone", "nowhere:page")
    assert "Gone" not in [entry["label"] for entry in engagement_menu(world.admin, world.e1)]


def test_a_current_prefix_is_the_url_name_by_default() -> None:
    entry = MenuEntry("Parity", "service:sla_parity")
    assert entry.is_current("service:sla_parity")
    assert not entry.is_current("service:sla_credits")
    assert not entry.is_current("")


def test_demo_loaders_run_in_order_with_the_keywords_they_take(monkeypatch) -> None:
    monkeypatch.setattr(registry, "DEMO_LOADERS", {})
    calls: list[tuple[str, dict[str, object]]] = []

    def everything(*, tickets: int | None = None, write=None) -> int:
        calls.append(("everything", {"tickets": tickets, "write": write}))
        return 2

    def quiet(**options: object) -> int:
        calls.append(("quiet", options))
        return 3

    def bare() -> int:
        calls.append(("bare", {}))
        return 0

    register_demo_loader("b", everything, order=20)
    register_demo_loader("a", quiet, order=20)
    register_demo_loader("c", bare, order=10)
    register_demo_loader("a", quiet, order=30)  # ready() twice: replaced, not doubled
    assert load_app_demos(tickets=500, write=print) == 5
    assert calls == [
        ("bare", {}),
        ("everything", {"tickets": 500, "write": print}),
        ("quiet", {"tickets": 500, "write": print}),
    ]


def test_the_service_app_registers_its_demo_loader() -> None:
    assert [loader.key for loader in registry.demo_loaders()][:1] == ["service"]


def test_next_steps_come_in_order_and_a_failing_app_is_left_out(world, monkeypatch, caplog) -> None:
    monkeypatch.setattr(registry, "NEXT_STEPS", {})

    def broken(user, engagement):
        raise RuntimeError("boom")

    register_next_steps("late", lambda user, engagement: [NextStep("Later", "/b/", order=200)])
    register_next_steps("broken", broken)
    register_next_steps("early", lambda user, engagement: [NextStep("First", "/a/", order=10)])
    assert [step.text for step in next_steps(world.it_lead, world.e1)] == ["First", "Later"]
    assert "Next steps 'broken' failed" in caplog.text
