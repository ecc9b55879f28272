"""Production deployment as the README documents it.

``tandem check --deploy`` is clean with the documented production variables, and a real
gunicorn serves pages and hashed static files from installed packages behind a TLS proxy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
HOST = "tandem.example.org"
SECRET = "k3Yt0p-Secret_for-tests-only_6x1QbF0c9RrZ2mWq7Lp4Hs8Nd5Vj3Tg1Ue0Af"
MFA_KEY = "tK4n8cQm1vR6yZ0bW3eH7jL2pS5uX9aD4fG8iK1mN0o="  # TANDEM_MFA_KEY (a Fernet key)


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The production environment from README.md ("Production deployment"), on SQLite."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "TANDEM_DEBUG": "0",
        "TANDEM_SECRET_KEY": SECRET,
        "TANDEM_MFA_KEY": MFA_KEY,
        "TANDEM_ALLOWED_HOSTS": HOST,
        "TANDEM_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "TANDEM_DATA_DIR": str(data_dir),
        "TANDEM_LOG_LEVEL": "WARNING",
    }
    env |= extra
    return env


def tandem(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tandem", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    result = tandem(
        ["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path), tmp_path
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`tandem check --deploy` is not clean:\n{output}"
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output, output


def test_check_deploy_with_secret_file_is_clean(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRET + "\n")
    env = production_env(tmp_path, TANDEM_SECRET_KEY_FILE=str(secret_file))
    del env["TANDEM_SECRET_KEY"]
    result = tandem(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_a_weak_secret(tmp_path: Path) -> None:
    env = production_env(tmp_path, TANDEM_SECRET_KEY="short")
    result = tandem(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_check_deploy_fails_without_secret(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["TANDEM_SECRET_KEY"]
    result = tandem(["check", "--deploy"], env, tmp_path)
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def gunicorn_server(tmp_path: Path):
    """Migrate, collect static files and start gunicorn with two workers, as documented."""
    env = production_env(tmp_path / "data")
    for step in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        result = tandem(step, env, tmp_path)
        assert result.returncode == 0, f"tandem {' '.join(step)} failed:\n{result.stderr}"
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "tandem.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{(tmp_path / 'gunicorn.log').read_text()}")
        try:
            fetch(f"{base}/accounts/login/", {"Host": HOST})
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn never answered:\n{(tmp_path / 'gunicorn.log').read_text()}")
            time.sleep(0.25)
    yield base, tmp_path / "data"
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_gunicorn_serves_behind_tls_proxy(gunicorn_server) -> None:
    base, data_dir = gunicorn_server
    proxied = {"Host": HOST, "X-Forwarded-Proto": "https"}

    status, headers, _ = fetch(f"{base}/accounts/login/", {"Host": HOST})
    assert status == 301, "plain http must redirect to https"
    assert headers["Location"].startswith(f"https://{HOST}/")

    status, headers, body = fetch(f"{base}/accounts/login/", proxied)
    assert status == 200, body[:2000]
    assert "max-age=" in headers.get("Strict-Transport-Security", "")
    assert headers.get("X-Frame-Options") == "DENY"
    assert b'name="password"' in body

    status, _, _ = fetch(f"{base}/accounts/login/", {"Host": "evil.example.com"})
    assert status == 400, "a Host outside TANDEM_ALLOWED_HOSTS is refused"

    manifest = json.loads((data_dir / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"]
    status, headers, body = fetch(f"{base}/static/{hashed}", proxied)
    assert status == 200 and len(body) > 100_000
    assert "immutable" in headers.get("Cache-Control", ""), headers
