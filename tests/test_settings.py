"""Settings from environment variables: safe embedded defaults, loud failures.

Each case runs a fresh interpreter, since settings are read once at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "k3Yt0p-Secret_for-tests-only_6x1QbF0c9RrZ2mWq7Lp4Hs8Nd5Vj3Tg1Ue0Af"
# A Fernet key for the two-factor secrets (TANDEM_MFA_KEY), required with debug off too.
MFA_KEY = "tK4n8cQm1vR6yZ0bW3eH7jL2pS5uX9aD4fG8iK1mN0o="

READ_SETTINGS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "ENGINE": db["ENGINE"],
    "DB_NAME": str(db["NAME"]),
    "DB_HOST": db.get("HOST", ""),
    "SESSION_COOKIE_AGE": settings.SESSION_COOKIE_AGE,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "TANDEM_REQUIRE_ADMIN_MFA": settings.TANDEM_REQUIRE_ADMIN_MFA,
    "LOG_LEVEL": settings.LOGGING["root"]["level"],
    "TASKS_BACKEND": settings.TASKS["default"]["BACKEND"],
    "MFA_KEYS": settings.TANDEM_MFA_KEYS,
}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["TANDEM_DATA_DIR"] = str(tmp_path / "data")
    env["TANDEM_MFA_KEY"] = MFA_KEY  # a case about the MFA key passes its own (or "")
    env.update(extra)
    return env


def read_settings(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        env=clean_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_for(tmp_path: Path, **extra: str) -> dict:
    result = read_settings(tmp_path, **extra)
    assert result.returncode == 0, f"settings failed to load:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def tandem_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tandem", "check"],
        env=clean_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_embedded_defaults(tmp_path: Path) -> None:
    values = settings_for(tmp_path)
    assert values["DEBUG"] is True
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DB_NAME"] == str((tmp_path / "data" / "tandem.sqlite3").resolve())
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]
    assert values["TANDEM_REQUIRE_ADMIN_MFA"] is True
    assert values["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"


def test_data_dir_defaults_to_dot_tandem(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    del env["TANDEM_DATA_DIR"]
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DB_NAME"] == str((tmp_path / ".tandem" / "tandem.sqlite3").resolve())


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    values = settings_for(tmp_path, DATABASE_URL="postgres://tandem:pw@db.internal:5432/tandem")
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["DB_NAME"] == "tandem"
    assert values["DB_HOST"] == "db.internal"


def test_debug_off_without_secret_refuses_to_start(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_DEBUG="0")
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


def test_debug_off_with_empty_secret_refuses_to_start(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_DEBUG="false", TANDEM_SECRET_KEY="")
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


def test_debug_off_without_mfa_key_refuses_to_start(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_DEBUG="0", TANDEM_SECRET_KEY=SECRET, TANDEM_MFA_KEY="")
    assert result.returncode != 0
    assert "TANDEM_MFA_KEY is not set" in result.stderr
    assert not (tmp_path / "data" / "mfa.key").exists(), "no key is made outside debug mode"


def test_a_bad_mfa_key_is_a_clear_error(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_MFA_KEY=MFA_KEY + ",not-a-key")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "TANDEM_MFA_KEY: key 2 is not a Fernet key" in last_line, result.stderr


def test_debug_mode_makes_its_own_mfa_key_once(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_MFA_KEY="")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "data" / "mfa.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "Generated the key that encrypts two-factor secrets" in result.stderr
    key = key_file.read_text()
    again = tandem_check(tmp_path, TANDEM_MFA_KEY="")
    assert again.returncode == 0 and "Generated" not in again.stderr
    assert key_file.read_text() == key, "the key is kept, not replaced"


def test_mfa_key_file_holds_several_keys(tmp_path: Path) -> None:
    newer = "pAIEW0GoIM2KjCEEKgL4H5hnKfVcIMu3F4JfFTPqCRI="
    key_file = tmp_path / "mfa_keys"
    key_file.write_text(f"{newer}\n{MFA_KEY}\n")
    values = settings_for(
        tmp_path,
        TANDEM_MFA_KEY="",
        TANDEM_MFA_KEY_FILE=str(key_file),
        TANDEM_DEBUG="0",
        TANDEM_SECRET_KEY=SECRET,
    )
    assert values["MFA_KEYS"] == [newer, MFA_KEY], "newest first, as the file lists them"


def test_secret_key_from_environment(tmp_path: Path) -> None:
    values = settings_for(tmp_path, TANDEM_DEBUG="0", TANDEM_SECRET_KEY=SECRET)
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == SECRET


def test_secret_key_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRET + "\n")
    values = settings_for(tmp_path, TANDEM_DEBUG="0", TANDEM_SECRET_KEY_FILE=str(secret_file))
    assert values["SECRET_KEY"] == SECRET, "the file's contents, stripped, are the secret"


def test_secret_key_file_wins_over_variable(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRET)
    values = settings_for(
        tmp_path,
        TANDEM_DEBUG="0",
        TANDEM_SECRET_KEY="from-the-variable",
        TANDEM_SECRET_KEY_FILE=str(secret_file),
    )
    assert values["SECRET_KEY"] == SECRET


def test_unreadable_secret_key_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    result = tandem_check(tmp_path, TANDEM_DEBUG="0", TANDEM_SECRET_KEY_FILE=str(missing))
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY_FILE" in result.stderr
    assert str(missing) in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TANDEM_DEBUG", "maybe"),
        ("TANDEM_SECURE_COOKIES", "sometimes"),
        ("TANDEM_REQUIRE_ADMIN_MFA", "2"),
    ],
)
def test_bad_boolean_is_a_clear_error(tmp_path: Path, name: str, value: str) -> None:
    extra = {name: value}
    if name != "TANDEM_DEBUG":
        extra |= {"TANDEM_DEBUG": "0", "TANDEM_SECRET_KEY": SECRET}
    result = tandem_check(tmp_path, **extra)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert name in last_line and repr(value) in last_line and "not a boolean" in last_line, (
        f"unclear error for {name}={value!r}:\n{result.stderr}"
    )


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_boolean_spellings_true(tmp_path: Path, value: str) -> None:
    assert settings_for(tmp_path, TANDEM_DEBUG=value)["DEBUG"] is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_boolean_spellings_false(tmp_path: Path, value: str) -> None:
    values = settings_for(tmp_path, TANDEM_DEBUG=value, TANDEM_SECRET_KEY=SECRET)
    assert values["DEBUG"] is False


def test_bad_integer_is_a_clear_error(tmp_path: Path) -> None:
    result = tandem_check(tmp_path, TANDEM_SESSION_SECONDS="eight hours")
    assert result.returncode != 0
    assert "TANDEM_SESSION_SECONDS" in result.stderr.strip().splitlines()[-1]


def test_production_variables(tmp_path: Path) -> None:
    values = settings_for(
        tmp_path,
        TANDEM_DEBUG="0",
        TANDEM_SECRET_KEY=SECRET,
        TANDEM_ALLOWED_HOSTS="tandem.example.org, tandem-internal.example.org",
        TANDEM_CSRF_TRUSTED_ORIGINS="https://tandem.example.org",
        TANDEM_SESSION_SECONDS="3600",
        TANDEM_HSTS_SECONDS="600",
        TANDEM_LOG_LEVEL="WARNING",
    )
    assert values["ALLOWED_HOSTS"] == ["tandem.example.org", "tandem-internal.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://tandem.example.org"]
    assert values["SESSION_COOKIE_AGE"] == 3600
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["LOG_LEVEL"] == "WARNING"


def test_behind_a_plain_http_lab_proxy(tmp_path: Path) -> None:
    values = settings_for(
        tmp_path,
        TANDEM_DEBUG="0",
        TANDEM_SECRET_KEY=SECRET,
        TANDEM_SECURE_COOKIES="0",
        TANDEM_SSL_REDIRECT="0",
    )
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
