"""Service levels in a real browser, as an IT lead works them.

1. The real, public ServiceNow event log (``../shared/data/uci-incident-event-log``) goes
   through the import wizard into a new engagement: upload, format detected, the preview
   read in the background, confirm, then a policy version typed into the form, an SLA run
   started with "Run now", and the dashboard it fills.
2. The Riverside demo: its dashboard, internal-vs-vendor parity, breaches and credits, with
   the numbers of the demo's story (Northwind slips in January and July 2026; one credit
   of 4,440.00 USD stays due).

Both walk real background tasks (the worker beside the server, see conftest.py). Screenshots
go to build/screenshots/ (docs/screenshots/ with TANDEM_SCREENSHOTS=docs).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .conftest import REAL_LOG, NetworkGuard, TandemServer
from .test_tour import expect, log_in

pytestmark = pytest.mark.browser

REAL_INCIDENTS = "24,918"
# Work takes a while on a loaded 2-core machine: the import and the run of 24,918 incidents.
TASK_MS = 240_000

UCI_POLICY = """\
# Resolution targets around the clock; the log's times carry no zone: read as UTC.
[calendars.always]
timezone = "UTC"
weekly = "24x7"

[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "4h"
pause_on_hold = true
goal = 0.9

[[targets]]
priority = "P2"
metric = "resolution"
calendar = "always"
within = "8h"
pause_on_hold = true
goal = 0.9

[[targets]]
priority = "P3"
metric = "resolution"
calendar = "always"
within = "120h"
pause_on_hold = true
goal = 0.9

[[targets]]
priority = "P4"
metric = "resolution"
calendar = "always"
within = "240h"
pause_on_hold = true
goal = 0.85
"""


def _plotted(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Plotly has drawn at least one chart (its SVG), from the local asset."""
    page.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached", timeout=30_000)


@pytest.mark.skipif(not REAL_LOG.exists(), reason=f"the real event log is not at {REAL_LOG}")
def test_real_event_log_through_the_wizard_to_the_dashboard(
    page, tandem_server: TandemServer, network_guard: NetworkGuard, screenshots_dir
) -> None:
    log_in(page, "itlead@riverside.example")

    # A new engagement for the public log, in UTC (its timestamps carry no zone).
    page.goto(reverse("core:engagement_add"))
    page.get_by_label("Name").fill("Public ServiceNow event log (real data)")
    page.get_by_label("Client").select_option(label="Riverside Health")
    page.get_by_label("Kind").select_option("blended")
    page.get_by_label("Phase").select_option("operate")
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/engagements/\d+/$"))
    pk = int(re.search(r"/engagements/(\d+)/$", page.url).group(1))  # type: ignore[union-attr]

    # The wizard: upload the zip as it is; the format is detected.
    page.goto(reverse("service:import_upload", args=[pk]))
    page.locator("input[type=file][name=file]").set_input_files(str(REAL_LOG))
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Upload and preview").click()
    # The upload answers at once with the preview page; a worker reads the file meanwhile
    # (its card polls) and the page reloads with the preview when it is kept.
    page.wait_for_url(re.compile(r"/imports/staged/[0-9a-f-]+/$"))
    reading = page.locator("#import-progress")
    if reading.count():  # not when the worker was quicker than the page
        page.screenshot(path=str(screenshots_dir / "import-preview-reading.png"), full_page=True)
    confirm = page.get_by_role("button", name=re.compile(r"Import [\d,]+ tickets"))
    confirm.wait_for(timeout=TASK_MS)
    assert REAL_INCIDENTS.replace(",", "") in confirm.inner_text().replace(",", "")
    expect(page.locator("body"), "the detected format").to_contain_text("event log")
    page.screenshot(path=str(screenshots_dir / "import-preview-real-log.png"), full_page=True)

    confirm.click()
    opened = page.get_by_role("link", name="Open the import")
    opened.wait_for(timeout=TASK_MS)
    expect(page.locator("body"), "the imported count").to_contain_text(REAL_INCIDENTS)
    page.screenshot(path=str(screenshots_dir / "import-done-real-log.png"), full_page=True)
    opened.click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))

    # A policy version, typed as TOML (the editor's form has its own test).
    page.goto(reverse("service:slapolicy_add_toml", args=[pk]))
    page.get_by_label("Name").fill("Resolution around the clock")
    page.get_by_label("Effective from").fill("2016-01-01")
    page.get_by_label("Policy (TOML)").fill(UCI_POLICY)
    page.get_by_role("button", name="Create version").click()
    page.wait_for_url(re.compile(r"/sla-policies/\d+/$"))

    # Run now: a background task with a progress bar, then the run's page.
    page.goto(reverse("service:slarun_list", args=[pk]))
    page.get_by_role("button", name="Run now").click()
    page.wait_for_url(re.compile(r"/sla-runs/\d+/$"))
    finished = page.locator(".badge-status-done").first
    expect(finished, "the run finished (the page follows its progress)").to_be_visible(
        timeout=TASK_MS
    )

    page.goto(reverse("service:sla_dashboard", args=[pk]))
    _plotted(page)
    body = page.locator("body")
    expect(body, "the dashboard's priorities").to_contain_text("P3")
    expect(body, "resolution attainment").to_contain_text("esolution")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots_dir / "sla-dashboard-real-log.png"), full_page=True)
    assert network_guard.blocked == [], f"requests left 127.0.0.1: {network_guard.blocked}"
    assert network_guard.broken_assets == [], network_guard.broken_assets


def test_riverside_service_levels_parity_and_credits(
    page, tandem_server: TandemServer, network_guard: NetworkGuard, screenshots_dir
) -> None:
    pk = tandem_server.facts["riverside_pk"]
    log_in(page, "itlead@riverside.example")

    page.goto(reverse("service:sla_dashboard", args=[pk]))
    _plotted(page)
    expect(page.locator("body"), "the run's months").to_contain_text("2026")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots_dir / "sla-dashboard.png"), full_page=True)

    page.goto(reverse("service:sla_parity", args=[pk]))
    _plotted(page)
    body = page.locator("body")
    expect(body, "the vendor side").to_contain_text("Vendor")
    expect(body, "a significance verdict").to_contain_text(re.compile("significant", re.I))
    page.screenshot(path=str(screenshots_dir / "sla-parity.png"), full_page=True)

    page.goto(reverse("service:sla_breaches", args=[pk]))
    expect(page.locator("table").first, "the breach list").to_be_visible()
    page.screenshot(path=str(screenshots_dir / "sla-breaches.png"), full_page=True)

    page.goto(reverse("service:sla_credits", args=[pk]))
    body = page.locator("body")
    expect(body, "the credit still due after earn-back").to_contain_text("4,440.00")
    expect(body, "the slip months").to_contain_text(re.compile("Jan(uary)? 2026"))
    page.screenshot(path=str(screenshots_dir / "sla-credits.png"), full_page=True)
    assert network_guard.blocked == [], f"requests left 127.0.0.1: {network_guard.blocked}"
    assert network_guard.broken_assets == [], network_guard.broken_assets
