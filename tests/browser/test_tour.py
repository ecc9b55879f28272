"""The tour a new user takes, in a real browser, and the screenshots the README shows.

Playwright drives Debian's Chromium against a real server loaded with the demo (see
conftest.py). Screenshots are written at 1280 pixels wide to build/screenshots/, or with
TANDEM_SCREENSHOTS=docs to docs/screenshots/ (the README's).
"""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse

from .conftest import PASSWORD, RIVERSIDE, NetworkGuard, TandemServer

pytestmark = pytest.mark.browser


def expect(page, what: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(page, message=what) if what else playwright_expect(page)


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url, timeout=30_000)


def engagement_page_url(name: str, pk: int) -> str:
    """The URL of an engagement's page named ``name``, however its route takes the engagement."""
    for kwargs in ({"pk": pk}, {"engagement_pk": pk}, {"engagement": pk}, {"engagement_id": pk}):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    try:
        return reverse(name) + f"?engagement={pk}"
    except NoReverseMatch:
        pytest.fail(f"no URL named {name!r} (the UI does not route it yet)", pytrace=False)


def test_login_page(page, network_guard: NetworkGuard, screenshots_dir) -> None:
    response = page.goto("/accounts/login/")
    assert response is not None and response.status == 200, "the login page does not answer 200"
    expect(page.locator("input[name=login]"), "login field").to_be_visible()
    expect(page.locator("input[name=password]"), "password field").to_be_visible()
    page.screenshot(path=str(screenshots_dir / "login.png"), full_page=True)
    assert network_guard.broken_assets == [], (
        f"stylesheets or scripts failed to load: {network_guard.broken_assets}"
    )


def test_it_lead_opens_the_riverside_engagement(
    page, tandem_server: TandemServer, network_guard: NetworkGuard, screenshots_dir
) -> None:
    log_in(page, "itlead@riverside.example")
    assert page.url.rstrip("/") == tandem_server.base_url, f"not sent home after login: {page.url}"

    link = page.get_by_role("link", name=RIVERSIDE).first
    expect(link, f"a link named {RIVERSIDE!r} on the home page").to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r"/engagements/\d+/$"))
    pk = tandem_server.facts["riverside_pk"]
    assert page.url.endswith(f"/engagements/{pk}/"), page.url

    main = page.locator("body")
    expect(page.locator("h1").first, "the engagement name as the page heading").to_contain_text(
        RIVERSIDE
    )
    expect(main, "the engagement's phase").to_contain_text(tandem_server.facts["riverside_phase"])
    expect(main, "the client party").to_contain_text("Riverside Health")
    expect(main, "the vendor party").to_contain_text("Northwind Health IT")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots_dir / "engagement-home.png"), full_page=True)
    assert network_guard.broken_assets == [], (
        f"stylesheets or scripts failed to load: {network_guard.broken_assets}"
    )
    assert network_guard.blocked == [], f"requests outside 127.0.0.1: {network_guard.blocked}"


def test_people_and_roles_page(page, tandem_server: TandemServer, screenshots_dir) -> None:
    log_in(page, "itlead@riverside.example")
    pk = tandem_server.facts["riverside_pk"]
    response = page.goto(engagement_page_url("core:roleassignment_list", pk))
    assert response is not None and response.status == 200, f"people & roles: {response}"
    table = page.locator("table").first
    expect(table, "a table of the engagement's people").to_be_visible()
    for text in ("IT lead", "Vendor lead", "Riverside Health", "Northwind Health IT"):
        expect(table, f"{text!r} on the people & roles page").to_contain_text(text)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots_dir / "people-and-roles.png"), full_page=True)


def test_audit_trail_page(page, tandem_server: TandemServer, screenshots_dir) -> None:
    log_in(page, "itlead@riverside.example")
    pk = tandem_server.facts["riverside_pk"]
    response = page.goto(engagement_page_url("core:engagement_audit", pk))
    assert response is not None and response.status == 200, f"audit trail: {response}"
    expect(page.locator("table").first, "a table of audit records").to_be_visible()
    expect(page.locator("body"), "the engagement's name on its audit page").to_contain_text(
        RIVERSIDE
    )
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots_dir / "audit-trail.png"), full_page=True)


def test_other_vendor_gets_404_for_riverside(page, tandem_server: TandemServer) -> None:
    log_in(page, "lead@harbor.example")
    pk = tandem_server.facts["riverside_pk"]
    response = page.goto(f"/engagements/{pk}/")
    assert response is not None
    assert response.status == 404, (
        f"Harbor's vendor lead must get 404 for the Riverside engagement, got {response.status}"
    )
    expect(page.locator("body"), "no Riverside data on the 404 page").not_to_contain_text(
        "Northwind Health IT"
    )


def test_api_docs_render_offline(page, network_guard: NetworkGuard) -> None:
    log_in(page, "itlead@riverside.example")
    response = page.goto("/api/docs/")
    assert response is not None and response.status == 200, f"/api/docs/: {response}"
    expect(page.locator(".swagger-ui .info .title"), "Swagger UI's title").to_contain_text(
        "Tandem API", timeout=60_000
    )
    expect(page.locator(".swagger-ui .opblock").first, "at least one operation").to_be_visible(
        timeout=60_000
    )
    page.wait_for_load_state("networkidle")
    assert network_guard.blocked == [], (
        f"/api/docs/ tried to reach outside 127.0.0.1: {network_guard.blocked}"
    )
