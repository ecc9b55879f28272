"""Every page fits the screen: a wide monitor (1440), a laptop (1024) and a phone (390).

The pages are found in the URL resolver, not listed by hand, so a new page is covered the day
its route is written: each named route of the UI (the ``core``, ``service`` and ``progress``
namespaces) is reversed with the demo's Riverside engagement and, for a ``pk``, the first
object of the route's model the IT lead may see (the model comes from the view's queryset, or
from the route's name, ``<model>_<action>``). Background work and a staged upload are made
for the pages that show them. A few signed-out pages and the platform administrator's pages
before two-factor set-up are added by name.

For each page and width the test asserts that the page is no wider than the window
(``document.documentElement.scrollWidth <= window.innerWidth``: tables scroll inside their
card, filter bars and forms wrap, the navigation collapses) and saves a full-page screenshot
to ``test-results/screenshots/<width>/<page>.png``. With ``TANDEM_SCREENSHOTS=docs`` the
README's pages are written to ``docs/screenshots/`` too, at 1440.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import PASSWORD, RIVERSIDE, ROOT, TandemServer, _server_env
from .test_tour import log_in

pytestmark = pytest.mark.browser

WIDTHS = (1440, 1024, 390)
HEIGHT = 900
SHOTS = ROOT / "test-results" / "screenshots"
UPLOAD = ROOT / "src" / "tandem" / "ingest" / "tests" / "fixtures" / "generic_tickets.csv"
IT_LEAD = "itlead@riverside.example"
PRACTICE_ADMIN = "admin@lakeside.example"
PLATFORM_ADMIN = "admin@tandem.example"

#: The namespaces of the UI whose routes are pages: every Tandem app's, and background work's.
NAMESPACES = (
    *(config.label for config in apps.get_app_configs() if config.name.startswith("tandem.")),
    "progress",
)
#: Routes that are not pages: files, JSON, scripts, and actions a form posts to (a new
#: action answers GET with 405 and is skipped with that reason).
NOT_PAGES = {
    "progress:json": "JSON for the progress bar",
    "progress:download": "a file",
    "progress:retry": "an action (POST)",
    "progress:export_audit": "an action (POST)",
    "core:apitoken_revoke": "an action (POST)",
    "core:notification_open": "a redirect (marks the notification read, follows its link)",
    "core:notification_read_all": "an action (POST)",
    "core:calendar_feed": "a file (text/calendar, at a secret address)",
    "service:import_confirm": "an action (POST)",
    "service:import_discard": "an action (POST)",
    "service:slarun_start": "an action (POST)",
    "service:slapolicy_download": "a file (the policy's TOML)",
    "service:plotly_js": "a script",
    "service:sla_report_pdf": "a file (the SLA report as PDF)",
    "contracts:contractdocument_download": "a file (the document, as an attachment)",
}
#: Routes that show background work, with the kind of work their page shows.
PROGRESS_PAGES = {"progress:detail": "export_audit", "service:import_progress": "import_tickets"}
#: Pages outside the namespaces, by URL name, for whom.
EXTRA_PAGES = {
    "account_login": None,
    "account_reset_password": None,
    "account_change_password": IT_LEAD,
    "mfa_index": IT_LEAD,
}
#: The README's screenshots that this test refreshes (TANDEM_SCREENSHOTS=docs), at 1440.
DOCS_SHOTS = {
    "account_login": "login",
    "core:engagement_detail": "engagement-home",
    "core:roleassignment_list": "people-and-roles",
    "core:engagement_audit": "audit-trail",
    "service:sla_dashboard": "sla-dashboard",
    "service:sla_parity": "sla-parity",
    "service:sla_credits": "sla-credits",
    "service:sla_breaches": "sla-breaches",
}


def _routes() -> Iterator[tuple[str, URLPattern]]:
    """Every named route of the UI namespaces, as ``namespace:name``."""
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace in NAMESPACES:
            yield from _walk(entry, entry.namespace)


def _walk(resolver: URLResolver, namespace: str) -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, namespace)
        elif entry.name:
            yield f"{namespace}:{entry.name}", entry


def _model_label(name: str, pattern: URLPattern) -> str | None:
    """The model whose object a route's ``pk`` names: the view's queryset's, else the model
    the route is named for (``service:slarun_progress`` is an SLA run's)."""
    view_class = getattr(pattern.callback, "view_class", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model._meta.label_lower
    namespace, _, route = name.partition(":")
    prefix = route.split("_")[0]
    try:
        return apps.get_model(namespace, prefix)._meta.label_lower
    except (LookupError, ValueError):
        return None


def _pages() -> list[tuple[str, dict[str, str]]]:
    """(URL name, {argument: what it names}) for every page of the UI."""
    pages = []
    for name, pattern in _routes():
        if name in NOT_PAGES:
            continue
        arguments = {}
        for argument, converter in pattern.pattern.converters.items():
            if argument == "engagement_pk":
                arguments[argument] = "engagement"
            elif name in PROGRESS_PAGES:
                arguments[argument] = "progress:" + PROGRESS_PAGES[name]
            elif argument == "staged_id":
                arguments[argument] = "staged"
            elif argument == "pk":
                arguments[argument] = f"model:{_model_label(name, pattern)}"
            else:
                arguments[argument] = f"unknown:{type(converter).__name__}"
        pages.append((name, arguments))
    return pages


PAGES = _pages()

# Run inside the server's own database (`tandem shell`): the demo's objects the pages need (one
# made by the model's access-test maker where the demo has none), and the background work the
# progress pages show, owned by the IT lead.
OBJECTS_SCRIPT = """
import json
from django.apps import apps
from tandem.core.choices import Action
from tandem.core.models import Engagement, Progress, User
from tandem.core.testing.registry import load_all_makers

makers = {{model._meta.label_lower: make for model, make in load_all_makers().items()}}
models = json.loads({models!r})
riverside = Engagement.objects.get(name={riverside!r})
it_lead = User.objects.get(email={it_lead!r})
found = {{"engagement": riverside.pk}}
for label in models:
    if "." not in label:
        continue
    model = apps.get_model(label)
    if model is Engagement:
        found["model:" + label] = riverside.pk
        continue
    if model is User:
        found["model:" + label] = it_lead.pk
        continue
    queryset = model._default_manager.all()
    if hasattr(queryset, "restrict"):
        queryset = queryset.restrict(it_lead, Action.VIEW)
    if label == "core.organization":
        queryset = queryset.filter(pk=riverside.client_id)
    elif "engagement" in {{field.name for field in model._meta.get_fields()}}:
        queryset = queryset.filter(engagement=riverside)
    first = queryset.order_by("pk").first()
    if first is None and label in makers:
        # Not in the demo yet (a capability whose demo data comes later): one row made as the
        # access tests make it, in Riverside, so its pages are looked at too.
        first = makers[label](riverside, riverside.client)
    if first is not None:
        found["model:" + label] = first.pk
for kind, label, result in (
    ("export_audit", "Audit trail of Riverside as CSV", {{"rows": 36}}),
    ("import_tickets", "Import of tickets.csv", {{"summary": "1,204 tickets imported"}}),
):
    work = Progress.objects.create(
        kind=kind, label=label, owner=it_lead, engagement=riverside, state="succeeded",
        percent=100, message="Done", result=result,
    )
    found["progress:" + kind] = str(work.pk)
print("OBJECTS " + json.dumps(found))
"""


@pytest.fixture(scope="module")
def objects(tandem_server: TandemServer) -> dict[str, Any]:
    """What each kind of argument stands for, in the server's database."""
    stands_for = {value for _, arguments in PAGES for value in arguments.values()}
    models = sorted(value.removeprefix("model:") for value in stands_for if value[:6] == "model:")
    script = OBJECTS_SCRIPT.format(models=json.dumps(models), riverside=RIVERSIDE, it_lead=IT_LEAD)
    shell = subprocess.run(
        [sys.executable, "-m", "tandem", "shell", "-c", script],
        env=_server_env(tandem_server.data_dir),
        cwd=tandem_server.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"^OBJECTS (.*)$", shell.stdout, re.MULTILINE)
    if shell.returncode != 0 or not match:
        pytest.fail(f"could not read the demo's objects:\n{shell.stdout}\n{shell.stderr}")
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def signed_in(browser, tandem_server: TandemServer) -> Callable[[str], Any]:
    """A person's signed-in browser state (cookies), signing in once per person."""
    states: dict[str, Any] = {}

    def state(email: str) -> Any:
        if email not in states:
            context = browser.new_context(base_url=tandem_server.base_url)
            page = context.new_page()
            log_in(page, email)
            states[email] = context.storage_state()
            context.close()
        return states[email]

    return state


@pytest.fixture(scope="module")
def staged_preview(browser, tandem_server: TandemServer, signed_in) -> str:
    """The import wizard's preview page of a small upload (staged: nothing is imported)."""
    context = browser.new_context(base_url=tandem_server.base_url, storage_state=signed_in(IT_LEAD))
    page = context.new_page()
    page.goto(reverse("service:import_upload", args=[tandem_server.facts["riverside_pk"]]))
    page.locator("input[type=file][name=file]").set_input_files(str(UPLOAD))
    page.get_by_role("button", name=re.compile("Upload")).click()
    page.wait_for_url(re.compile(r"/imports/staged/[0-9a-f-]+/$"))
    path = page.url.removeprefix(tandem_server.base_url)
    context.close()
    return path


def _path(name: str, arguments: dict[str, str], objects: dict[str, Any], staged: Any) -> str:
    if "staged" in arguments.values():
        return staged()
    kwargs = {}
    for argument, stands_for in arguments.items():
        if stands_for not in objects:
            pytest.fail(
                f"{name}: no value for its argument {argument!r} ({stands_for}): add a demo "
                "object, or teach test_layout.py what the argument names",
                pytrace=False,
            )
        kwargs[argument] = objects[stands_for]
    return reverse(name, kwargs=kwargs)


# What sticks out past the window's right edge, to say why a page is too wide.
OVERFLOW_SCRIPT = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 1) continue;
    let inside = false;  // clipped by a scrolling ancestor: fine
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) { inside = true; break; }
    }
    if (inside) continue;
    const id = el.id ? '#' + el.id : '';
    const names = typeof el.className === 'string' ? el.className.trim() : '';
    const cls = names ? '.' + names.split(/\\s+/).join('.') : '';
    out.push(el.tagName.toLowerCase() + id + cls + ' → ' + Math.round(box.right) + 'px');
    if (out.length >= 8) break;
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, out};
}"""


def _slug(name: str) -> str:
    return name.replace(":", "-").replace("_", "-")


def _check(page, name: str, width: int, screenshots_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # Charts and htmx regions settle; polling pages never go idle, which is fine.
    with contextlib.suppress(Exception):  # playwright's TimeoutError
        page.wait_for_load_state("networkidle", timeout=10_000)
    measured = page.evaluate(OVERFLOW_SCRIPT)
    folder = SHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{_slug(name)}.png"), full_page=True)
    if width == 1440 and name in DOCS_SHOTS and os.environ.get("TANDEM_SCREENSHOTS") == "docs":
        page.screenshot(path=str(screenshots_dir / f"{DOCS_SHOTS[name]}.png"), full_page=True)
    assert measured["scroll"] <= measured["inner"], (
        f"{name} at {width} px is {measured['scroll']} px wide; sticking out: {measured['out']}"
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "arguments"), PAGES, ids=[name for name, _ in PAGES])
def test_page_fits(
    browser,
    tandem_server: TandemServer,
    signed_in,
    objects,
    request,
    screenshots_dir,
    name: str,
    arguments: dict[str, str],
    width: int,
) -> None:
    path = _path(name, arguments, objects, lambda: request.getfixturevalue("staged_preview"))
    context = browser.new_context(
        base_url=tandem_server.base_url,
        viewport={"width": width, "height": HEIGHT},
        storage_state=signed_in(IT_LEAD),
    )
    try:
        page = context.new_page()
        response = page.goto(path)
        assert response is not None, f"{name}: no answer for {path}"
        if response.status == 405:
            pytest.skip(f"{name} ({path}) is not a page: it answers GET with 405")
        assert response.status not in (404, 500), f"{name}: {path} answered {response.status}"
        if "text/html" not in (response.headers.get("content-type") or ""):
            pytest.skip(f"{name} ({path}) is not a page: {response.headers.get('content-type')}")
        _check(page, name, width, screenshots_dir)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "who"), list(EXTRA_PAGES.items()))
def test_account_page_fits(
    browser, tandem_server: TandemServer, signed_in, screenshots_dir, name: str, who, width: int
) -> None:
    context = browser.new_context(
        base_url=tandem_server.base_url,
        viewport={"width": width, "height": HEIGHT},
        storage_state=signed_in(who) if who else None,
    )
    try:
        page = context.new_page()
        response = page.goto(reverse(name))
        assert response is not None and response.status == 200, f"{name}: {response}"
        _check(page, name, width, screenshots_dir)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_platform_administrator_before_two_factor_fits(
    browser, tandem_server: TandemServer, screenshots_dir, width: int
) -> None:
    """A platform administrator without two-factor authentication sees only its set-up: the
    password again, then the authenticator page; both fit."""
    context = browser.new_context(
        base_url=tandem_server.base_url, viewport={"width": width, "height": HEIGHT}
    )
    try:
        page = context.new_page()
        log_in(page, PLATFORM_ADMIN)
        if "/reauthenticate/" in page.url:
            _check(page, "admin_reauthenticate", width, screenshots_dir)
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("input[name=password]").press("Enter")
            page.wait_for_url(re.compile(r"/2fa/"))
        assert "/2fa/" in page.url, f"the administrator was not sent to two-factor: {page.url}"
        _check(page, "admin_totp_activate", width, screenshots_dir)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_practice_administrator_pages_fit(
    browser, tandem_server: TandemServer, signed_in, screenshots_dir, width: int
) -> None:
    """The Lakeside practice's administrator (sponsor and IT lead at once): home and their
    engagement's home."""
    context = browser.new_context(
        base_url=tandem_server.base_url,
        viewport={"width": width, "height": HEIGHT},
        storage_state=signed_in(PRACTICE_ADMIN),
    )
    try:
        page = context.new_page()
        page.goto("/")
        _check(page, "practice_admin_home", width, screenshots_dir)
        page.locator("main").get_by_role("link", name=re.compile("Lakeside")).first.click()
        page.wait_for_url(re.compile(r"/engagements/\d+/$"))
        _check(page, "practice_admin_engagement", width, screenshots_dir)
    finally:
        context.close()


def test_every_page_is_covered() -> None:
    """The resolver found the pages the IT lead walks through (a guard on the discovery)."""
    names = {name for name, _ in PAGES}
    for expected in (
        "core:home",
        "core:engagement_list",
        "core:engagement_detail",
        "core:engagementparty_list",
        "core:roleassignment_list",
        "core:engagement_audit",
        "core:apitoken_list",
        "core:user_detail",
        "service:importbatch_list",
        "service:import_upload",
        "service:import_preview",
        "service:ticket_list",
        "service:ticket_detail",
        "service:slapolicy_list",
        "service:slapolicy_detail",
        "service:slapolicy_edit",
        "service:slarun_list",
        "service:sla_dashboard",
        "service:sla_breaches",
        "service:sla_credits",
        "service:sla_parity",
        "service:sla_at_risk",
        "progress:detail",
    ):
        assert expected in names, f"{expected} is not among the pages test_layout.py visits"
    unknown = [(name, a) for name, a in PAGES if any(v.startswith("unknown:") for v in a.values())]
    assert unknown == [], f"routes whose arguments test_layout.py cannot fill: {unknown}"
