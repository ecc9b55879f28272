"""Headers and small things: the Content-Security-Policy (and no inline script to need an
exception), Permissions-Policy, ``no-store`` on private responses and downloads, one-line 403
logs, no server path in a message, and a JSON 404 for every unknown API path and method."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tandem.core import tokens
from tandem.core.errors import OneLineClientErrors, redact_paths
from tandem.core.models import Progress
from tandem.core.security import CSP_HEADER, PERMISSIONS_HEADER

SRC = Path(__file__).resolve().parents[2]  # src/tandem
FIXTURES = SRC / "ingest" / "tests" / "fixtures"


def _directives(response) -> dict[str, list[str]]:
    header = response[CSP_HEADER]
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


# --- the policy ---------------------------------------------------------------------------------


def test_the_policy_forbids_inline_script_and_foreign_origins() -> None:
    policy = django_settings.TANDEM_CONTENT_SECURITY_POLICY
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    for sources in policy.values():
        assert not any(source.startswith(("http", "*", "'unsafe-eval'")) for source in sources)


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_headers(world, client_for) -> None:
    signed_in = client_for(world.it_lead)
    anonymous = Client()
    responses = {
        "sign-in page": anonymous.get(reverse("account_login")),
        "redirect to sign in": anonymous.get("/engagements/"),
        "page": signed_in.get("/engagements/"),
        "404 page": signed_in.get("/no-such-page/"),
        "API": signed_in.get("/api/v1/core/engagements/"),
        "API 404": signed_in.get("/api/v2/nothing/"),
        "API docs": signed_in.get("/api/docs/"),
        "plotly.js": signed_in.get(reverse("service:plotly_js")),
    }
    for what, response in responses.items():
        assert _directives(response)["script-src"] == ["'self'"], what
        assert _directives(response)["frame-ancestors"] == ["'none'"], what
        features = response[PERMISSIONS_HEADER]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in features, what


@pytest.mark.django_db
def test_a_view_may_set_its_own_policy(world, rf) -> None:
    from django.http import HttpResponse

    from tandem.core.security import SecurityHeadersMiddleware

    def view(request):
        response = HttpResponse("x")
        response[CSP_HEADER] = "default-src 'none'"
        return response

    request = rf.get("/")
    assert SecurityHeadersMiddleware(view)(request)[CSP_HEADER] == "default-src 'none'"


# --- no inline script: in the templates, and in the pages as served ---------------------------

INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=|\shx-on[:\-]|javascript:""", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _inline_scripts(html: str) -> list[str]:
    found = []
    for match in SCRIPT_TAG.finditer(html):
        attributes = match.group(1)
        if re.search(r"\ssrc\s*=", attributes):
            continue
        if re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attributes):
            continue  # data (json_script), never run
        found.append(match.group(0))
    return found


def test_no_template_has_inline_script_or_event_handlers() -> None:
    templates = sorted(SRC.glob("**/templates/**/*.html"))
    assert len(templates) > 20
    offenders = []
    for template in templates:
        text = template.read_text()
        offenders += [f"{template.relative_to(SRC)}: {tag}" for tag in _inline_scripts(text)]
        offenders += [
            f"{template.relative_to(SRC)}: {m.group(0)!r}" for m in INLINE_HANDLER.finditer(text)
        ]
    assert offenders == []


class _Attributes(HTMLParser):
    """Every tag's attributes and every inline script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[str] = []
        self.inline_scripts = 0
        self._script_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name: value or "" for name, value in attrs}
        self.handlers += [n for n in names if n.startswith("on") or n.startswith("hx-on")]
        self.handlers += [f"{n}={v}" for n, v in names.items() if "javascript:" in v.lower()]
        self._script_inline = (
            tag == "script" and "src" not in names and "json" not in names.get("type", "")
        )

    def handle_data(self, data: str) -> None:
        if self._script_inline and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._script_inline = False


def _assert_no_inline_code(response, what: str) -> None:
    assert response.status_code == 200, what
    parser = _Attributes()
    parser.feed(response.content.decode())
    assert parser.inline_scripts == 0, what
    assert parser.handlers == [], what


@pytest.mark.django_db
def test_the_pages_as_served_have_no_inline_code(world, client_for, settings, tmp_path) -> None:
    from tandem.service.tests.results_data import build_sla

    settings.MEDIA_ROOT = tmp_path
    build_sla(world.e1)
    client = client_for(world.it_lead)
    e1 = world.e1.pk
    pages = {
        "dashboard": reverse("service:sla_dashboard", args=[e1]),
        "parity": reverse("service:sla_parity", args=[e1]),
        "credits": reverse("service:sla_credits", args=[e1]),
        "import wizard": reverse("service:import_upload", args=[e1]),
        "engagements": "/engagements/",
        "engagement": world.e1.get_absolute_url(),
        "two-factor": reverse("mfa_index"),
        "API docs": "/api/docs/",
    }
    for what, url in pages.items():
        _assert_no_inline_code(client.get(url), what)
    _assert_no_inline_code(Client().get(reverse("account_login")), "sign-in")
    # The dashboard's chart data travels as JSON for results.js; plotly.js is the package's.
    page = client.get(pages["dashboard"]).content.decode()
    assert 'type="application/json"' in page
    assert reverse("service:plotly_js") in page


@pytest.mark.django_db
def test_the_api_docs_start_from_a_script_file(world, client_for) -> None:
    client = client_for(world.it_lead)
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert any("swagger-ui-bundle" in src for src in sources)
    start = [src for src in sources if "script" in src and "swagger" not in src]
    assert start, sources
    script = client.get(start[0].replace("&amp;", "&"))
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


# --- Cache-Control ------------------------------------------------------------------------------


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_signed_in_pages_and_api_answers_are_not_stored(world, client_for) -> None:
    client = client_for(world.it_lead)
    assert _no_store(client.get("/engagements/"))
    assert _no_store(client.get(world.e1.get_absolute_url()))
    assert _no_store(client.get("/api/v1/core/engagements/"))
    _, key = tokens.issue_token(world.it_lead, name="headers test")
    by_token = Client().get("/api/v1/core/engagements/", HTTP_AUTHORIZATION=f"Token {key}")
    assert by_token.status_code == 200
    assert _no_store(by_token)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_download_is_not_stored(world, client_for, fmt) -> None:
    response = client_for(world.it_lead).get(f"/engagements/?export={fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert _no_store(response)


@pytest.mark.django_db
def test_shared_files_stay_cacheable(world, client_for) -> None:
    client = client_for(world.it_lead)
    plotly = client.get(reverse("service:plotly_js"))
    assert "public" in plotly["Cache-Control"] and not _no_store(plotly)
    css = client.get(django_settings.STATIC_URL + "tandem/tandem.css")
    if css.status_code == 200:  # served by WhiteNoise when the finders are on
        assert not _no_store(css)


# --- 403 in the log: one line -------------------------------------------------------------------


@pytest.fixture
def console():
    """What the configured console handler writes, while the test runs."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, OneLineClientErrors) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_a_forbidden_page_is_one_warning_line_without_traceback(world, client_for, console):
    url = reverse("core:engagement_edit", args=[world.e1.pk])
    response = client_for(world.observer).get(url)
    assert response.status_code == 403
    log = console.getvalue()
    assert f"Forbidden (Permission denied): {url}" in log
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if line.strip()]) == 1


def test_server_errors_keep_their_traceback(console) -> None:
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        logger.error("Internal Server Error: /x", exc_info=exc, extra={"status_code": 500})
        logger.warning("Forbidden: /y", exc_info=exc, extra={"status_code": 403})
    log = console.getvalue()
    assert log.count("Traceback") == 1
    assert "Forbidden: /y" in log


# --- no server path in a message ----------------------------------------------------------------


def test_redact_paths_keeps_only_the_file_name(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path
    message = f"[Errno 2] No such file or directory: '{tmp_path}/media/imports/ab/export.csv'"
    assert redact_paths(message) == "[Errno 2] No such file or directory: 'export.csv'"
    # Paths that are not the server's (URLs, API paths, a column "a/b") stay as they are.
    for text in ("Not found: /api/v1/x/", "https://example.org/a/b", "column 'in/out'"):
        assert redact_paths(text) == text


def _upload(client, engagement, name: str, content: bytes):
    url = reverse("service:import_upload", args=[engagement.pk])
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(url, {"file": upload, "time_zone": engagement.time_zone})


@pytest.mark.django_db
def test_a_vanished_staged_file_is_reported_without_its_path(world, client_for, settings, tmp_path):
    from tandem.service import imports

    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(world.it_lead)
    response = _upload(
        client, world.e1, "desk export.csv", (FIXTURES / "generic_tickets.csv").read_bytes()
    )
    assert response.status_code == 302
    key = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    client.get(reverse("service:import_preview", args=[key]))
    imports.Staged.load(key).path.unlink()  # removed under the wizard (a clean-up, a disk)
    done = client.post(reverse("service:import_confirm", args=[key]))
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    progress = Progress.objects.filter(kind="import_tickets").first()
    shown = " ".join(filter(None, [page, progress.error if progress else ""]))
    assert str(tmp_path) not in shown
    assert f"imports/{key}" not in shown
    assert progress is not None and progress.error  # it failed, and says so
    assert "export.csv" in progress.error or "desk export.csv" in progress.error


@pytest.mark.django_db
def test_a_damaged_archive_is_refused_by_name_without_a_path(world, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = "".join(f"T-{n},P{n % 4 + 1},2025-03-0{n % 9 + 1}T08:00:00Z\n" for n in range(4000))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tickets.csv", "ticket_id,priority,opened_at\n" + rows)
    data = bytearray(archive.getvalue())
    for i in range(80, 600):  # corrupt the compressed data, not the directory
        data[i] ^= 0x5A
    client = client_for(world.it_lead)
    response = _upload(client, world.e1, "mailed.zip", bytes(data))
    # Refused at once (422), or staged and refused by its preview: either way by name.
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code in {200, 422}, response.status_code
    page = response.content.decode()
    assert "damaged" in page and ("mailed.zip" in page or "tickets.csv" in page)
    assert str(tmp_path) not in page


# --- unknown API paths: JSON 404, whatever the method and credentials --------------------------

UNKNOWN = ["/api/v1/nope/", "/api/v1/core/nope/", "/api/v1/service/nope/", "/api/v2/x/", "/api/x"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_are_json_404_with_a_token(world, method) -> None:
    _, key = tokens.issue_token(world.it_lead, name="headers test")
    client = Client(enforce_csrf_checks=True)
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    for path in UNKNOWN:
        response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Token {key}", **body)
        assert response.status_code == 404, (method, path, response.content[:200])
        assert response["Content-Type"] == "application/json", (method, path)
        assert response.json()["detail"].startswith("Not found"), (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_paths_are_json_404_with_a_session(world, method) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.it_lead)
    for path in UNKNOWN:
        response = getattr(client, method)(path, data="{}", content_type="application/json")
        assert response.status_code == 404, (method, path, response.content[:200])
        assert response["Content-Type"] == "application/json", (method, path)


@pytest.mark.django_db
def test_the_slash_hint_names_only_real_routes(world, client_for) -> None:
    client = client_for(world.it_lead)
    missing_slash = client.get("/api/v1/core/engagements")
    assert missing_slash.json()["detail"].endswith("/api/v1/core/engagements/")
    for path in ("/api/v1/core/nope", "/api/v2/x", "/api/x"):
        assert client.get(path).json() == {"detail": "Not found."}, path
