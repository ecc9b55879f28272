"""The Content-Security-Policy in a real browser: the pages that run the most script (the SLA
dashboard with Plotly, the import wizard with htmx polling a background preview, the Swagger
UI) work under it, and Chromium reports no violation and no policy-header error.

Violations are caught twice: the ``securitypolicyviolation`` events the page fires (recorded
by a script Playwright adds before any of the page's own) and Chromium's console messages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from .conftest import NetworkGuard, TandemServer
from .test_tour import expect, log_in

pytestmark = pytest.mark.browser

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "tandem"
    / "ingest"
    / "tests"
    / "fixtures"
    / "generic_tickets.csv"
)
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.sourceFile}`
  );
});
"""
#: Console text that means a policy refused something or a policy header is wrong.
POLICY_TROUBLE = re.compile(
    r"Content[ -]Security[ -]Policy|Refused to|Permissions[ -]Policy|Unrecognized feature",
    re.IGNORECASE,
)


class Watch:
    """What the browser said about the policies while the test ran."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:  # type: ignore[no-untyped-def]
        if POLICY_TROUBLE.search(message.text):
            self.console.append(f"{message.type}: {message.text}")

    def assert_clean(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], f"{where}: {violations}"
        assert self.console == [], f"{where}: {self.console}"


def test_pages_run_under_the_policy(
    page, tandem_server: TandemServer, network_guard: NetworkGuard
) -> None:
    watch = Watch(page)
    pk = tandem_server.facts["riverside_pk"]
    log_in(page, "itlead@riverside.example")
    watch.assert_clean("sign-in")

    # The dashboard: plotly.js from the package draws its charts from the JSON blocks.
    response = page.goto(reverse("service:sla_dashboard", args=[pk]))
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    page.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.evaluate("typeof Plotly") == "object"
    watch.assert_clean("dashboard")

    # Parity and credits: more charts and the auto-submitting filter bar.
    for name in ("service:sla_parity", "service:sla_credits"):
        page.goto(reverse(name, args=[pk]))
        page.wait_for_load_state("load")
        watch.assert_clean(name)

    # The import wizard: upload, the preview computed in the background, polled by htmx.
    page.goto(reverse("service:import_upload", args=[pk]))
    page.locator("input[type=file][name=file]").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Upload and preview").click()
    confirm = page.get_by_role("button", name=re.compile(r"Import [\d,]+ tickets"))
    confirm.wait_for(timeout=120_000)
    expect(page.locator("body"), "the previewed file").to_contain_text("generic_tickets.csv")
    assert page.evaluate("typeof htmx") == "object"
    watch.assert_clean("import wizard")

    # The Swagger UI: its start-up script is a file, so it renders the schema.
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
    expect(page.locator(".swagger-ui .info .title"), "the API title").to_contain_text("Tandem API")
    page.locator(".opblock-tag").first.wait_for(timeout=30_000)
    watch.assert_clean("Swagger UI")

    assert network_guard.blocked == []
    assert network_guard.broken_assets == []
