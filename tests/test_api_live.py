"""schemathesis over the whole OpenAPI schema against a real server: 0 server errors, 0 lies.

A gunicorn process (two workers, production settings behind a TLS proxy, as the deployment
docs run it) serves a temporary data directory with the demo loaded. The committed
``openapi.json`` is what it serves at ``/api/schema/`` (checked first; ``test_schema.py``
checks it against a fresh generation), and every operation in it is called with generated
data, and the links between operations are
followed by schemathesis' state machine, as three people: Riverside's observer (reads only),
Northwind's vendor lead, then Riverside's IT lead (who may write, and whose writes run last).
Each signs in through the login form and takes a token from ``POST /api/v1/core/token/``
with that session, as a person does; a token that the fuzzing revokes (it may call
``DELETE`` on the caller's own tokens) is replaced by a new one.

Every check runs (no server error, status codes, content types, headers and bodies as the
schema declares them, invalid data refused, methods not in the schema refused with 405…)
except ``positive_data_acceptance``: a payload valid for the schema may still name an id
that does not exist or a policy whose TOML does not parse, and the API must refuse it (400).

Budget: a few examples per operation (the coverage phase adds each parameter's edges) and
a few short link sequences per person: about three minutes on a quiet two-core machine.
``make test`` runs this file as its own step (``scripts/test``). Marker ``live``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.live

BIN = Path(sys.executable).parent
SECRET = "live-api-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyzABCD"
# A fixed test key for the encryption of two-factor secrets at rest (production refuses to
# start without one); a Fernet key is 32 url-safe base64-encoded bytes.
MFA_KEY = "dGFuZGVtLWxpdmUtYXBpLXRlc3Qta2V5LTMyLWJ5dGU="
PASSWORD = "tandem-demo"
PROXY = {"X-Forwarded-Proto": "https"}
PEOPLE = {
    "observer": "auditor@riverside.example",
    "vendor_lead": "lead@northwind.example",
    "it_lead": "itlead@riverside.example",
}
EXCLUDED = [positive_data_acceptance]
EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn on a free port over a fresh data directory with the demo (100 tickets)."""
    root = tmp_path_factory.mktemp("live-api")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    port = free_port()
    env |= {
        "TANDEM_DEBUG": "0",
        "TANDEM_SECRET_KEY": SECRET,
        "TANDEM_MFA_KEY": MFA_KEY,
        "TANDEM_ALLOWED_HOSTS": "127.0.0.1",
        "TANDEM_DATA_DIR": str(root / "data"),
        "TANDEM_LOG_LEVEL": "WARNING",
        # The test speaks plain HTTP to gunicorn: cookies marked Secure would never return.
        "TANDEM_SECURE_COOKIES": "0",
    }
    for step in (
        ["demo", "--no-serve", "--tickets", "100"],
        ["collectstatic", "--noinput", "-v", "0"],
    ):
        result = subprocess.run(
            [str(BIN / "tandem"), *step], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"tandem {' '.join(step)}:\n{result.stderr[-3000:]}"
    log = root / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "tandem.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                requests.get(f"{url}/accounts/login/", headers=PROXY, timeout=30)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn never answered:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
        yield Server(url, env, log)
    finally:  # whatever happened, no server is left behind
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Caller:
    """One person: a signed-in browser session and the API token it issued."""

    server: Server
    email: str
    session: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    tokens_issued: int = 0

    def sign_in(self) -> None:
        login = f"{self.server.url}/accounts/login/"
        page = self.session.get(login, headers=PROXY, timeout=30)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert page.status_code == 200 and match, page.status_code
        answer = self.session.post(
            login,
            data={"csrfmiddlewaretoken": match[1], "login": self.email, "password": PASSWORD},
            headers={**PROXY, "Referer": login.replace("http:", "https:")},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, f"signing in as {self.email}: {answer.status_code}"
        self.renew()

    def renew(self) -> None:
        """A new token, issued by the signed-in session (the old one may have been revoked)."""
        self.tokens_issued += 1
        answer = self.session.post(
            f"{self.server.url}/api/v1/core/token/",
            json={"name": f"live API test {self.tokens_issued}"},
            headers={
                **PROXY,
                "X-CSRFToken": self.session.cookies["csrftoken"],
                "Referer": f"{self.server.url.replace('http:', 'https:')}/",
            },
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text[:500]
        body = answer.json()
        self.token = body.get("key") or body["token"]

    @property
    def headers(self) -> dict[str, str]:
        return {**PROXY, "Authorization": f"Token {self.token}"}

    def after(self, response: requests.Response) -> None:
        if response.status_code == 401:
            self.renew()


@pytest.fixture(scope="module", params=list(PEOPLE))
def caller(request: pytest.FixtureRequest, server: Server) -> Caller:
    person = Caller(server, PEOPLE[request.param])
    person.sign_in()
    return person


OPENAPI_JSON = Path(__file__).resolve().parents[1] / "openapi.json"
# Loaded from the file rather than from the server: schemathesis' lazy loader from a fixture
# does not run under this pytest. The first test proves the server serves this very schema.
schema = schemathesis.openapi.from_path(OPENAPI_JSON)


def test_the_server_serves_the_committed_schema(server: Server) -> None:
    served = requests.get(f"{server.url}/api/schema/?format=json", headers=PROXY, timeout=60)
    assert served.status_code == 200
    assert served.json() == schema.raw_schema, "openapi.json is stale: see test_schema.py"


def test_starting_an_sla_run_answers_202_with_its_location(server: Server) -> None:
    """Under gunicorn the Location header was a DRF Hyperlink, not a str: a 500 after the run
    was queued. Riverside's IT lead starts a run (the demo's only run is finished)."""
    it_lead = Caller(server, PEOPLE["it_lead"])
    it_lead.sign_in()
    api = f"{server.url}/api/v1"
    engagements = requests.get(f"{api}/core/engagements/", headers=it_lead.headers, timeout=60)
    riverside = next(e["id"] for e in engagements.json()["results"] if "Riverside" in e["name"])
    answer = requests.post(
        f"{api}/service/sla-runs/",
        json={"engagement": riverside},
        headers=it_lead.headers,
        timeout=60,
    )
    assert answer.status_code == 202, answer.text[:500]
    assert answer.headers["Location"] == answer.json()["url"]
    assert answer.headers["Location"].startswith("https://127.0.0.1:")


@schema.parametrize()
@EXAMPLES
def test_every_operation_keeps_to_the_schema(case, caller: Caller) -> None:
    response = case.call_and_validate(
        base_url=caller.server.url, headers=caller.headers, excluded_checks=EXCLUDED
    )
    caller.after(response)


def test_following_the_links_keeps_to_the_schema(caller: Caller) -> None:
    """Create, then read, change and delete what was created (the schema's links).

    Failures are collected rather than raised inside the state machine: hypothesis would
    replay a failing sequence to shrink it, and against a server whose data the first run
    changed the replay draws differently ("flaky"), hiding the failure itself."""
    failures: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            return {"base_url": caller.server.url, "headers": caller.headers}

        def after_call(self, response, case):  # type: ignore[no-untyped-def]
            caller.after(response)

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            try:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=EXCLUDED,
                    transport_kwargs=kwargs,
                )
            except Exception as failure:  # a FailureGroup of the checks that failed
                failures.append(f"{case.method} {case.formatted_path}: {failure}")

    Workflow.run(
        settings=settings(
            max_examples=6,
            stateful_step_count=5,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
    )
    assert not failures, "\n\n".join(failures[:5])


def test_the_server_logged_no_error(server: Server, caller: Caller) -> None:
    """No traceback behind any answer (a 500 page could hide one behind a declared code)."""
    log = server.log.read_text()
    assert "Traceback" not in log, log[-5000:]
