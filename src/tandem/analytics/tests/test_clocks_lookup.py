"""The fast lookups equal the plain binary search they replace.

``position()`` answers from a bucket table when the calendar allows one, and ``measure()``
lays several calendars on one axis; both must give the binary search's answer to the second.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.calendar import BusinessCalendar, open_intervals_covering
from tandem.analytics.clocks import _searched, buckets, laid_end_to_end, position
from tandem.analytics.tests.helpers import at
from tandem.analytics.tests.strategies import calendars

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIRST, LAST = at("2025-01-01T00:00Z"), at("2026-12-31T00:00Z")


@given(calendars(), st.lists(st.integers(FIRST, LAST), min_size=1, max_size=50))
def test_the_bucket_table_equals_the_binary_search(
    calendar: BusinessCalendar, instants: list[int]
) -> None:
    intervals = open_intervals_covering(calendar, FIRST, LAST)
    edges = np.concatenate((intervals.starts, intervals.ends))
    # The instants drawn, every window edge and its neighbours, and the span's two ends.
    near = np.concatenate((edges - 1, edges, edges + 1, [intervals.covers_from]))
    near = near[(near >= intervals.covers_from) & (near <= intervals.covers_to)]
    values = np.concatenate((np.array(instants, dtype=np.int64), near, [intervals.covers_to]))
    table = buckets(intervals)
    if table is not None:
        assert table.position(values).tolist() == _searched(intervals, values).tolist()
    assert position(intervals, values).tolist() == _searched(intervals, values).tolist()


@given(
    st.lists(calendars(), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(FIRST, LAST), st.integers(0, 40 * 86_400)), min_size=1),
)
def test_calendars_laid_end_to_end_keep_each_calendars_business_seconds(
    chosen: list[BusinessCalendar], spans: list[tuple[int, int]]
) -> None:
    start = np.array([a for a, _ in spans], dtype=np.int64)
    end = np.minimum(start + np.array([d for _, d in spans], dtype=np.int64), LAST)
    lowest, highest = int(np.min(start)), int(np.max(end))
    parts = tuple(open_intervals_covering(c, lowest, highest) for c in chosen)
    axis, shifts = laid_end_to_end(parts, lowest, highest)
    for part, shift in zip(parts, shifts, strict=True):
        expected = _searched(part, end) - _searched(part, start)
        got = position(axis, end + shift) - position(axis, start + shift)
        assert got.tolist() == expected.tolist()


def test_a_24x7_calendar_is_one_bucket_and_a_split_shift_needs_small_ones() -> None:
    always = BusinessCalendar.build("America/Chicago", "24x7")
    split = BusinessCalendar.build(
        "Europe/London", {"mon": ["07:00-12:00", "13:00-19:00"], "tue": ["07:00-12:00"]}
    )
    whole = buckets(open_intervals_covering(always, FIRST, LAST))
    assert whole is not None and len(whole.start) == 1  # merged: one open interval
    shifts = buckets(open_intervals_covering(split, FIRST, LAST))
    assert shifts is not None and 2**shifts.k <= 3600 < 2 ** (shifts.k + 2)
