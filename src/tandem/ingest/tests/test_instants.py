"""Timestamps: the sliced fast path for ISO values reads exactly what the regex path reads."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tandem.ingest._common.base import ROW
from tandem.ingest._common.instants import ISO, ISO_8601, DateFormat, parse_instants
from tandem.ingest.errors import Problems

#: The ISO format under another regex string: the same language, read only by the regex path.
REGEX_ONLY = DateFormat(ISO_8601.label, ISO.regex.replace("^", "^(?:)", 1))
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]

EDGES = [
    "2025-03-01T09:00:00Z", "2025-03-01 09:00:00", "2025-03-01T09:00:00+02:00",
    "2025-03-01T09:00:00-05:30", "2025-03-01T09:00:00-00:00", "2025-03-01T09:00:00+99:99",
    "0000-01-01T00:00:00Z", "0000-02-29T00:00:00", "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z", "2100-02-29 12:00:00", "2024-02-29T23:59:59Z",
    "9999-12-31T23:59:59+14:00", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z",
    "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-01T24:00:00Z",
    "2025-01-01T23:60:00Z", "2025-01-01T23:59:60Z", "2025-01-01t09:00:00Z",
    "2025-01-01T09:00:00z", "2025-01-01T09:00:00UTC", "2025-01-01T09:00:00 Z",
    "2025-01-01T09:00:00+0200", "2025-01-01T09:00:00+02", "2025-01-01T09:00:00+2:00",
    "2025-01-01T09:00Z", "2025-01-01T09:00:00.5Z", "2025-1-1T9:00:00Z", " 2025-01-01T09:00:00Z",
    "2025-01-01T09:00:00Z ", "2025-01-01  09:00:00", "٢٠٢٥-01-01T09:00:00Z",
    "2025-01-01T09:00:00+٠٢:00", "2025/01/01T09:00:00Z", "yesterday", "", None,
    # clocks springing forward and falling back, naive and with an offset
    "2024-03-31T02:30:00", "2024-10-27T02:30:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00",
    "2024-04-07T01:45:00", "2024-10-06T02:15:00", "2024-03-31T02:30:00Z",
]  # fmt: skip


def read(values: Sequence[str | None], fmt: DateFormat, timezone: str) -> tuple[object, ...]:
    df = pl.DataFrame(
        {ROW: range(2, len(values) + 2), "at": list(values), "other": list(values)[::-1]},
        schema={ROW: pl.Int64, "at": pl.String, "other": pl.String},
    )
    problems = Problems("t.csv")
    warnings: list[str] = []
    out = parse_instants(df, ["at", "other"], fmt, timezone, problems, warnings, {"at": "At"})
    return out, problems.items, problems.truncated, warnings


def assert_same(values: Sequence[str | None], timezone: str) -> None:
    fast, slow = read(values, ISO_8601, timezone), read(values, REGEX_ONLY, timezone)
    assert_frame_equal(fast[0], slow[0])  # type: ignore[arg-type]
    assert fast[1:] == slow[1:]


@pytest.mark.parametrize("timezone", ZONES)
def test_the_fast_path_reads_the_edges_as_the_regex_does(timezone: str) -> None:
    assert_same(EDGES, timezone)


def test_the_fast_path_reads_every_hour_around_the_clock_changes() -> None:
    values = [
        f"{day}{sep}{hour:02d}:{minute}:00{tz}"
        for day, sep, hour, minute, tz in itertools.product(
            ["2024-03-31", "2024-10-27", "2024-03-10", "2024-11-03"],
            "T ",
            range(24),
            ["00", "30", "59"],
            ["", "Z", "+01:00"],
        )
    ]
    for timezone in ZONES:
        assert_same(values, timezone)


def test_the_problems_are_the_regex_paths_when_they_overflow() -> None:
    assert_same([*["2025-02-30T00:00:00Z"] * 600, *["nope"] * 600, *EDGES], "Europe/Berlin")


digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
iso_like = st.builds(
    lambda y, mo, d, sep, h, mi, s, tz: f"{y:04d}-{mo}-{d}{sep}{h}:{mi}:{s}{tz}",
    st.integers(0, 9999),
    digits,
    digits,
    st.sampled_from(["T", " "]),
    digits,
    digits,
    digits,
    st.one_of(
        st.sampled_from(["", "Z", "z", "UTC"]),
        st.builds(lambda sign, hh, mm: f"{sign}{hh}:{mm}", st.sampled_from("+-"), digits, digits),
    ),
)
plausible = st.builds(
    lambda y, mo, d, h, mi, s, tz: f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{tz}",
    st.integers(1990, 2040),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["", "Z", "+05:30", "-08:00"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(iso_like, plausible, st.none(), st.text(max_size=25)), max_size=40),
    st.sampled_from(ZONES),
)
def test_the_fast_path_agrees_with_the_regex_path(values: list[str | None], zone: str) -> None:
    assert_same(values, zone)
