"""The ``tandem`` command line: the console script and ``python -m tandem``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TANDEM = Path(sys.executable).with_name("tandem")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without Tandem's variables, with a private data directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["TANDEM_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_console_script_is_installed() -> None:
    assert TANDEM.exists(), f"console script missing at {TANDEM}: is the project installed?"


def test_help_lists_django_and_tandem_commands(tmp_path: Path) -> None:
    result = run([str(TANDEM), "--help"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("migrate", "runserver", "check", "db_worker", "createsuperuser"):
        assert command in result.stdout, f"`tandem --help` does not list {command!r}"


def test_python_dash_m_tandem_check(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "tandem", "check"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_unknown_command_fails(tmp_path: Path) -> None:
    result = run([str(TANDEM), "no_such_command"], clean_env(tmp_path), tmp_path)
    assert result.returncode != 0
    assert "Unknown command" in result.stderr


@pytest.mark.parametrize("command", ["migrate", "runserver", "db_worker", "collectstatic"])
def test_subcommand_help(tmp_path: Path, command: str) -> None:
    result = run([str(TANDEM), "help", command], clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
