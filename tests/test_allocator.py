"""The allocators' settings (``tandem/allocator.py``), each checked in a fresh interpreter:
they only take effect before Polars loads."""

from __future__ import annotations

import os
import subprocess
import sys

from tandem.allocator import JEMALLOC_CONF, JEMALLOC_VARIABLE

SHOW = (
    "from tandem.allocator import tune; tuned = tune(); import os, polars; "
    f"print(tuned); print(os.environ[{JEMALLOC_VARIABLE!r}])"
)


def run(code: str, **env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k != JEMALLOC_VARIABLE}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def test_polars_jemalloc_gets_the_longer_decay_after_its_own_settings() -> None:
    tuned, conf = run(SHOW)
    assert tuned == ("True" if sys.platform.startswith("linux") else "False")
    # jemalloc reads the options left to right: the last word on each is ours.
    options = dict(option.split(":") for option in conf.split(","))
    assert options == dict(option.split(":") for option in JEMALLOC_CONF.split(","))
    assert conf.endswith(JEMALLOC_CONF)


def test_an_operators_own_jemalloc_settings_are_kept() -> None:
    _, conf = run(SHOW, **{JEMALLOC_VARIABLE: "dirty_decay_ms:0"})
    assert conf.endswith(",dirty_decay_ms:0")
    assert JEMALLOC_CONF not in conf


def test_the_tandem_command_tunes_before_anything_loads_polars() -> None:
    code = (
        "import sys; import tandem.__main__ as m; "
        "assert 'polars' not in sys.modules and 'numpy' not in sys.modules; print('ok')"
    )
    assert run(code) == ["ok"]
