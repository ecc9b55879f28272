"""The policy editor in a real browser: the IT lead makes a new SLA policy version of the demo's
Riverside engagement with the form alone (no TOML typed): changes a goal, adds a closed date,
replaces a target row, sees a bad goal named by row and field with nothing saved, then saves; the
version's page shows the result and its TOML. Screenshots at 1440, 1024 and 390 pixels; the page
is never wider than the screen (the targets table scrolls inside its card)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .conftest import NetworkGuard, TandemServer
from .test_tour import expect, log_in

pytestmark = pytest.mark.browser

WIDTHS = (1440, 1024, 390)


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_policy_version_made_with_the_form(
    page, tandem_server: TandemServer, network_guard: NetworkGuard, screenshots_dir
) -> None:
    pk = tandem_server.facts["riverside_pk"]
    log_in(page, "itlead@riverside.example")
    page.goto(reverse("service:slapolicy_list", args=[pk]))
    page.goto(reverse("service:slapolicy_add", args=[pk]))
    body = page.locator("body")
    expect(body, "prefilled from the latest version").to_contain_text("Prefilled from v2")
    expect(page.get_by_role("link", name="Edit as TOML"), "the TOML tab").to_be_visible()

    page.get_by_label("Name", exact=True).fill("MSA schedule B, amendment 2: faster P3")
    page.get_by_label("Effective from").fill("2031-01-01")
    page.get_by_label("Other closed dates").first.fill("2031-12-24\n2031-12-31")
    page.get_by_label("Goal (%), row 5", exact=True).fill("92")
    # Replace the last target: remove row 8, add a row, fill it in.
    page.get_by_label("Remove target 8").check()
    page.get_by_role("button", name="Add a target").click()
    page.get_by_label("Priority, row 9", exact=True).wait_for()
    expect(page.get_by_label("Remove target 8"), "the removal survives").to_be_checked()
    expect(body, "adding a row saves nothing and blames nothing").not_to_contain_text(
        "Nothing was saved"
    )
    page.get_by_label("Priority, row 9", exact=True).select_option("P4")
    page.get_by_label("Metric, row 9", exact=True).select_option("resolution")
    page.get_by_label("Calendar, row 9", exact=True).select_option("business")
    page.get_by_label("Within, row 9", exact=True).fill("48")
    page.get_by_label("Unit, row 9", exact=True).select_option("h")
    page.get_by_label("Pause on hold, row 9").check()
    page.get_by_label("Goal (%), row 9", exact=True).fill("85")
    page.get_by_label("Credit allocation (%), row 9", exact=True).fill("5")

    # A goal above 100 is named by row and field, and nothing is saved.
    page.get_by_label("Goal (%), row 1", exact=True).fill("150")
    page.get_by_role("button", name="Create version").click()
    alert = page.get_by_role("alert")
    expect(alert, "the error names row and field").to_contain_text(
        "Targets, row 1, goal: must be between 0 and 100"
    )
    page.screenshot(path=str(screenshots_dir / "policy-editor-error.png"), full_page=True)
    page.get_by_label("Goal (%), row 1", exact=True).fill("95")

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots_dir / f"policy-editor-{width}.png"), full_page=True)
        assert _fits(page), f"the editor is wider than a {width}-pixel screen"
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Create version").click()
    page.wait_for_url(re.compile(r"/sla-policies/\d+/$"))
    expect(body, "the version saved").to_contain_text("amendment 2: faster P3")
    expect(body, "the new goal").to_contain_text("92 %")
    expect(body, "the replaced target").to_contain_text("48 h")
    toml = page.locator("pre.toml")
    expect(toml, "the TOML written").to_contain_text('holidays = ["2031-12-24", "2031-12-31"]')
    expect(toml, "the TOML written").to_contain_text('within = "48h"')
    page.screenshot(path=str(screenshots_dir / "policy-editor-saved.png"), full_page=True)
    assert network_guard.blocked == [], f"requests left 127.0.0.1: {network_guard.blocked}"
    assert network_guard.broken_assets == [], network_guard.broken_assets
