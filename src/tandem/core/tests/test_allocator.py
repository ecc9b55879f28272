"""The C allocator's settings (``tandem/allocator.py``)."""

from __future__ import annotations

import platform
import sys

import pytest

from tandem import allocator


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the settings are glibc's",
)
def test_glibc_takes_the_settings_and_again():
    assert allocator.tune() is True
    assert allocator.tune() is True  # every command calls it; twice changes nothing


def test_elsewhere_it_does_nothing(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.tune() is False
