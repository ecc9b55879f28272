"""A real Tandem server and Debian's Chromium for the browser tests.

The server runs in a subprocess on a private SQLite database under a temporary
``TANDEM_DATA_DIR``: ``tandem demo --no-serve`` loads the demo, then ``tandem runserver``
serves it on a free port of 127.0.0.1, with one ``tandem db_worker`` for background tasks
(imports, SLA runs). Chromium is Debian's (/usr/bin/chromium), driven by Playwright for
Python; no browser is ever downloaded. Every request that is not for
127.0.0.1 is aborted and recorded, so the tests never reach the internet and can prove it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PASSWORD = "tandem-demo"
RIVERSIDE = "Riverside × Northwind managed services"
ROOT = Path(__file__).resolve().parents[2]
#: The real public service-desk log (UCI incident event log), beside the project in shared/.
REAL_LOG = ROOT.parent / "shared" / "data" / "uci-incident-event-log" / "incident_event_log.zip"
#: Where the screenshots go: ``build/screenshots/`` (ignored by git) unless
#: ``TANDEM_SCREENSHOTS=docs`` asks for the README's own, ``docs/screenshots/``.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("TANDEM_SCREENSHOTS") == "docs"
    else ROOT / "build" / "screenshots"
)
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 30_000
SERVER_START_SECONDS = 120

# Facts the tests need from the server's own database, read with `tandem shell`.
FACTS_SCRIPT = f"""
import json
from tandem.core.models import Engagement
engagement = Engagement.objects.get(name={RIVERSIDE!r})
print("FACTS " + json.dumps({{
    "riverside_pk": engagement.pk,
    "riverside_phase": str(engagement.get_phase_display()),
}}))
"""


@dataclass
class TandemServer:
    base_url: str
    data_dir: Path
    log_path: Path
    facts: dict

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@dataclass
class NetworkGuard:
    """Aborts and records every request that would leave 127.0.0.1."""

    blocked: list[str] = field(default_factory=list)
    broken_assets: list[str] = field(default_factory=list)

    def on_response(self, response) -> None:  # type: ignore[no-untyped-def]
        if "/static/" in response.url and response.status >= 400:
            self.broken_assets.append(f"{response.status} {response.url}")

    def handle(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {"TANDEM_DATA_DIR": str(data_dir), "TANDEM_DEBUG": "1", "PYTHONUNBUFFERED": "1"}
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def tandem_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TandemServer]:
    root = tmp_path_factory.mktemp("tandem-browser")
    data_dir = root / "data"
    env = _server_env(data_dir)
    tandem = [sys.executable, "-m", "tandem"]

    demo = subprocess.run(
        [*tandem, "demo", "--no-serve"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if demo.returncode != 0:
        pytest.fail(
            f"`tandem demo --no-serve` failed (exit {demo.returncode}):\n"
            f"{demo.stdout[-3000:]}\n{demo.stderr[-3000:]}",
            pytrace=False,
        )

    shell = subprocess.run(
        [*tandem, "shell", "-c", FACTS_SCRIPT],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"^FACTS (.*)$", shell.stdout, re.MULTILINE)
    if shell.returncode != 0 or not match:
        pytest.fail(
            f"could not read the demo's Riverside engagement:\n{shell.stdout}\n{shell.stderr}",
            pytrace=False,
        )
    facts = json.loads(match.group(1))

    port = _free_port()
    log_path = root / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*tandem, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # Imports and SLA runs are background tasks: one worker, as `tandem demo` runs.
        worker = subprocess.Popen(
            [*tandem, "db_worker", "--no-reload", "--interval", "1"],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = TandemServer(f"http://127.0.0.1:{port}", data_dir, log_path, facts)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(server.url("/accounts/login/")):
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{server.log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server did not answer within {SERVER_START_SECONDS}s:\n"
                    f"{server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield server
    finally:
        for child in (process, worker):
            child.terminate()
        for child in (process, worker):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's Chromium at /usr/bin/chromium "
            "(`apt-get install chromium`; `make test` installs it when run as root)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def network_guard() -> NetworkGuard:
    return NetworkGuard()


@pytest.fixture
def page(browser, network_guard: NetworkGuard, tandem_server: TandemServer) -> Iterator[object]:
    context = browser.new_context(viewport=VIEWPORT, base_url=tandem_server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route("**/*", network_guard.handle)
    page = context.new_page()
    page.on("response", network_guard.on_response)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
