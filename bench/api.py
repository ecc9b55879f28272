"""Benchmark the API's ticket list against the SLA dashboard page (issue 11, point 11).

    .venv/bin/python bench/api.py [--data-dir DIR] [--tickets 150000] [--workers 4]
                                  [--connections 8] [--duration 20] [--client auto|wrk|python]

Starts gunicorn as the deployment docs do (``gunicorn tandem.wsgi -w 4``, production settings:
``TANDEM_DEBUG=0``, behind a proxy that sets ``X-Forwarded-Proto: https``) on a free loopback
port, over a data directory holding the demo (``tandem demo --no-serve``: Riverside with its
150,000 tickets and its SLA run; a temporary directory unless ``--data-dir`` names one to
reuse) and its static files (``tandem collectstatic``). It signs in as Riverside's IT lead
through the login form (a session cookie for the page) and takes an API token from
``POST /api/v1/core/token/`` with that session, then loads, one after the other, for
``--duration`` seconds each with ``--connections`` connections:

* ``dashboard``: ``GET /engagements/<Riverside>/service-levels/`` (the whole SLA dashboard:
  attainment table, charts, breaches);
* ``api``: ``GET /api/v1/service/tickets/`` with ``Authorization: Token …`` (a page of 50
  tickets, the newest first).

The load comes from wrk when it is installed (``apt-get install -y wrk``; a Lua script reports
p50 and p95), else from a bounded Python client (threads with one ``http.client`` connection
each). Prints p50 and p95 of both, the ratio of the p95s and PASS / FAIL against the goal
"API p95 <= 3x dashboard p95". Both run in the same run on the same server, so the ratio holds
on whatever machine runs it (check ``uptime``: other processes slow both). A benchmark, never
a timed test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
PROXY = {"X-Forwarded-Proto": "https"}
EMAIL, PASSWORD = "itlead@riverside.example", "tandem-demo"
GOAL = 3.0

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH {\\"p50\\": %f, \\"p95\\": %f, \\"requests\\": %d, "
    .. "\\"errors\\": %d}\\n", latency:percentile(50) / 1e6, latency:percentile(95) / 1e6,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def environment(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return env | {
        "TANDEM_DEBUG": "0",
        "TANDEM_SECRET_KEY": SECRET,
        "TANDEM_ALLOWED_HOSTS": "127.0.0.1",
        "TANDEM_DATA_DIR": str(data_dir),
        "TANDEM_LOG_LEVEL": "WARNING",
        # A fixed key for two-factor secrets at rest, which production requires.
        "TANDEM_MFA_KEY": "YmVuY2gtYXBpLW9ubHkta2V5LTAxMjM0NTY3ODlhYmM=",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "tandem.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    sys.exit(f"gunicorn exited:\n{log.read_text()}")
                try:
                    request(port, "GET", "/accounts/login/")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        sys.exit(f"gunicorn never answered:\n{log.read_text()}")
                    time.sleep(0.25)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body or None, headers={**PROXY, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def cookies_of(headers: http.client.HTTPMessage, jar: dict[str, str]) -> dict[str, str]:
    for line in headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(port: int) -> tuple[str, str]:
    """The IT lead's session cookie (through the login form) and an API token (through the
    token endpoint, with that session): what a person and their script would use."""
    status, headers, body = request(port, "GET", "/accounts/login/")
    jar = cookies_of(headers, {})
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or match is None:
        sys.exit(f"no login form: {status}")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "login": EMAIL, "password": PASSWORD}
    )
    status, headers, _ = request(
        port,
        "POST",
        "/accounts/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(jar),
            "Referer": f"https://127.0.0.1:{port}/accounts/login/",
        },
    )
    cookies_of(headers, jar)
    if status != 302 or "sessionid" not in jar:
        sys.exit(f"signing in as {EMAIL} failed: {status}")
    status, _, body = request(
        port,
        "POST",
        "/api/v1/core/token/",
        json.dumps({"name": "bench/api.py"}),
        {
            "Content-Type": "application/json",
            "Cookie": cookie_header(jar),
            "X-CSRFToken": jar["csrftoken"],
            "Referer": f"https://127.0.0.1:{port}/",
        },
    )
    answer = json.loads(body)
    key = answer.get("key") or answer.get("token")
    if status not in (200, 201) or not key:
        sys.exit(f"no API token: {status} {body[:300]!r}")
    return f"sessionid={jar['sessionid']}", key


def riverside(port: int, token: str) -> int:
    status, _, body = request(
        port,
        "GET",
        "/api/v1/core/engagements/?limit=1000",
        headers={"Authorization": f"Token {token}"},
    )
    if status != 200:
        sys.exit(f"engagements: {status}")
    return next(e["id"] for e in json.loads(body)["results"] if e["name"].startswith("Riverside"))


def load_python(
    port: int, path: str, headers: dict[str, str], connections: int, duration: float
) -> dict[str, float]:
    """``connections`` threads, each with one keep-alive connection, for ``duration`` seconds."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop = time.monotonic() + duration

    def run(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={**PROXY, **headers})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            latencies[slot].append(time.perf_counter() - started)
            if response.status != 200:
                errors[slot] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(x for slot in latencies for x in slot)
    if len(every) < 20:
        sys.exit(f"{path}: only {len(every)} answers in {duration} s")
    cuts = statistics.quantiles(every, n=100)
    return {"p50": cuts[49], "p95": cuts[94], "requests": len(every), "errors": sum(errors)}


def load_wrk(
    port: int, path: str, headers: dict[str, str], connections: int, duration: float
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s"]
        command += ["-s", script.name, "--timeout", "60s"]
        for name, value in {**PROXY, **headers}.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line.removeprefix("BENCH "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="reuse (or create) the demo here")
    parser.add_argument("--tickets", type=int, default=150_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per URL")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if client == "wrk" else load_python

    with tempfile.TemporaryDirectory(prefix="tandem-bench-api-") as temporary:
        data_dir = args.data_dir or Path(temporary) / "data"
        env = environment(data_dir)
        started = time.monotonic()
        for command in (
            ["demo", "--no-serve", "--tickets", str(args.tickets)],
            ["collectstatic", "--noinput", "-v", "0"],
        ):
            subprocess.run(
                [str(BIN / "tandem"), *command], env=env, check=True, stdout=subprocess.DEVNULL
            )
        print(f"demo in {data_dir} ready in {time.monotonic() - started:.0f} s")
        with gunicorn(env, args.workers, Path(temporary) / "gunicorn.log") as port:
            session, token = sign_in(port)
            engagement = riverside(port, token)
            targets = {
                "dashboard": (f"/engagements/{engagement}/service-levels/", {"Cookie": session}),
                "api": ("/api/v1/service/tickets/", {"Authorization": f"Token {token}"}),
            }
            print(
                f"gunicorn -w {args.workers}, {args.connections} connections, "
                f"{args.duration:g} s per URL, client: {client}"
            )
            results = {}
            for name, (path, headers) in targets.items():
                status, _, _ = request(port, "GET", path, headers=headers)
                if status != 200:
                    sys.exit(f"{name}: {path} answers {status}")
                load(port, path, headers, args.connections, 2.0)  # warm every worker up
                results[name] = load(port, path, headers, args.connections, args.duration)
                r = results[name]
                print(
                    f"  {name:<9} {path:<40} p50 {r['p50'] * 1000:7.1f} ms  "
                    f"p95 {r['p95'] * 1000:7.1f} ms  {r['requests']:>6} requests  "
                    f"{r['errors']} errors"
                )
    ratio = results["api"]["p95"] / results["dashboard"]["p95"]
    verdict = "PASS" if ratio <= GOAL else "FAIL"
    print(f"API p95 / dashboard p95 = {ratio:.2f} (goal <= {GOAL:g}): {verdict}")


if __name__ == "__main__":
    main()
