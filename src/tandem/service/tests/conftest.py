"""Fixtures shared by the service app's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.ingest.testing.hostile import HOSTILE_FILES


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """``hostile(name)``: that file of the corpus, written once per module (some take seconds)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = HOSTILE_FILES[name](tmp_path_factory.mktemp(name))
        return made[name]

    yield get
    for path in made.values():
        path.unlink(missing_ok=True)
