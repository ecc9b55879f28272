"""Mapping the real service-desk log's assignment groups in bulk, in a real browser.

The real, public ServiceNow event log (``../shared/data/uci-incident-event-log``: 24,918
incidents in 70 assignment groups, "Group 70" the busiest) is unzipped and imported into a new
engagement with ``tandem import-tickets`` (the wizard has its own test in
test_service_levels.py); the
IT lead then opens the bulk mapping page, filters the groups by name, ticks every group
shown, previews the effect and saves them to the vendor side, then ticks every group still
not set and saves them to the client team. Screenshots at 1440, 1024 and 390 pixels wide
(page no wider than the window) go to build/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from .conftest import REAL_LOG, NetworkGuard, TandemServer, _server_env
from .test_tour import expect, log_in

pytestmark = pytest.mark.browser

IT_LEAD = "itlead@riverside.example"
REAL_GROUPS = 70
WIDTHS = (1440, 1024, 390)
IMPORT_SECONDS = 900  # 141,712 events on a loaded 2-core machine


def _fits(page, what: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    assert width <= window, f"{what}: the page is {width}px wide in a {window}px window"


def _shoot(page, screenshots_dir: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at each width (full page), no wider than the window; back to 1440 after."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _fits(page, f"{name} at {width}px")
        page.screenshot(path=str(screenshots_dir / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.mark.skipif(not REAL_LOG.exists(), reason=f"the real event log is not at {REAL_LOG}")
def test_real_log_groups_mapped_in_bulk(
    page, tandem_server: TandemServer, network_guard: NetworkGuard, screenshots_dir, tmp_path
) -> None:
    log_in(page, IT_LEAD)
    page.goto(reverse("core:engagement_add"))
    page.get_by_label("Name").fill("Real event log, groups mapped in bulk")
    page.get_by_label("Client").select_option(label="Riverside Health")
    page.get_by_label("Kind").select_option("blended")
    page.get_by_label("Phase").select_option("operate")
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/engagements/\d+/$"))
    pk = int(re.search(r"/engagements/(\d+)/$", page.url).group(1))  # type: ignore[union-attr]

    with zipfile.ZipFile(REAL_LOG) as archive:  # the command reads CSV or XLSX, not a zip
        (member,) = archive.namelist()
        log = Path(archive.extract(member, tmp_path))
    imported = subprocess.run(
        [sys.executable, "-m", "tandem", "import-tickets", str(log)]
        + ["--engagement", str(pk), "--as", IT_LEAD, "--timezone", "UTC"],
        env=_server_env(tandem_server.data_dir),
        cwd=tandem_server.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=IMPORT_SECONDS,
        check=False,
    )
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]

    # The list of groups links to the mapping page.
    page.goto(reverse("service:assignmentgroupside_list", args=[pk]))
    page.get_by_role("link", name="Map groups in bulk").click()
    map_url = reverse("service:assignmentgroup_map", args=[pk])
    page.wait_for_url(re.compile(re.escape(map_url) + "$"))

    rows = page.locator("#group-map tbody tr")
    expect(rows, "every group of the log").to_have_count(REAL_GROUPS)
    expect(rows.first, "the busiest group first").to_contain_text("Group 70")
    counts = [
        int(text.replace(",", ""))
        for text in page.locator("#group-map tbody td.num").all_inner_texts()
    ]
    assert counts == sorted(counts, reverse=True), "groups by ticket count, most first"
    assert sum(counts) > 20_000
    expect(page.locator("body"), "tickets with no group").to_contain_text("no assignment group")
    _shoot(page, screenshots_dir, "group-mapping")

    # Filter by name, tick every group shown, vendor side: the preview, then save.
    page.get_by_label("Filter by name").fill("Group 2")
    shown = page.locator("#group-map tbody tr:visible")
    expect(shown.first, "the filter keeps Group 2x").to_contain_text("Group 2")
    vendor_groups = shown.count()
    assert 1 < vendor_groups < REAL_GROUPS
    page.get_by_label("Tick every group shown").check()
    expect(page.locator("#selected-count"), "the ticked count").to_contain_text(
        f"{vendor_groups} of {REAL_GROUPS}"
    )
    page.get_by_label("Set their side to").select_option("vendor")
    _shoot(page, screenshots_dir, "group-mapping-ticked")
    page.get_by_role("button", name="Preview the effect").first.click()
    save = page.get_by_role("button", name=f"Save {vendor_groups} groups")
    expect(save, "the preview's save button").to_be_visible()
    preview = page.locator(".map-preview")
    expect(preview, "groups that change side").to_contain_text(f"{vendor_groups} groups and")
    expect(preview, "no run yet").to_contain_text("no finished SLA run yet")
    _shoot(page, screenshots_dir, "group-mapping-preview")
    save.click()
    page.wait_for_url(re.compile(re.escape(map_url) + "$"))
    expect(page.locator(".messages"), "what was saved and what to do next").to_contain_text(
        f"Mapped {vendor_groups} assignment groups ({vendor_groups} new, 0 changed)"
    )
    expect(page.locator(".messages"), "how to update parity").to_contain_text(
        "Measure the tickets to see parity"
    )

    # Every group still not set goes to the client team.
    page.get_by_role("button", name="Tick the groups not set").click()
    client_groups = REAL_GROUPS - vendor_groups
    expect(page.locator("#selected-count"), "the groups not set, ticked").to_contain_text(
        f"{client_groups} of {REAL_GROUPS}"
    )
    page.get_by_label("Set their side to").select_option("client")
    page.get_by_role("button", name="Preview the effect").first.click()
    page.get_by_role("button", name=f"Save {client_groups} groups").click()
    page.wait_for_url(re.compile(re.escape(map_url) + "$"))
    expect(page.locator(".map-total-unmapped"), "nothing left unmapped").to_contain_text("0 groups")
    expect(page.locator("#group-map tbody td", has_text="not set"), "every side set").to_have_count(
        0
    )
    _shoot(page, screenshots_dir, "group-mapping-done")
    assert network_guard.blocked == [], f"requests left 127.0.0.1: {network_guard.blocked}"
    assert network_guard.broken_assets == [], network_guard.broken_assets
