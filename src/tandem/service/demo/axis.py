"""Business time and instants for the demo generator: a calendar's open time as one axis.

``Axis.position`` counts the open seconds before an instant and ``Axis.instant`` inverts it,
so a duration in business seconds becomes an instant: "8 business hours after Friday
16:00" is Monday 12:00 (Monday to Friday 07:00-19:00). Only the calendar's open intervals
come from the engine (``analytics.calendar``); the arithmetic is this module's own, so the
engine's tests compare against an independent construction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tandem.analytics.calendar import BusinessCalendar, open_intervals_covering

Ints = NDArray[np.int64]


class Axis:
    """A calendar's open time from ``first`` to ``last`` (UTC epoch seconds, with a year of
    margin each side): ``position`` and its inverse ``instant``."""

    def __init__(self, calendar: BusinessCalendar, first: int, last: int) -> None:
        intervals = open_intervals_covering(calendar, first, last)
        self.starts = np.asarray(intervals.starts, dtype=np.int64)
        self.lengths = np.asarray(intervals.ends, dtype=np.int64) - self.starts
        self.before = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def position(self, instants: Ints) -> Ints:
        k = np.searchsorted(self.starts, instants, side="right") - 1
        result: Ints = self.before[k] + np.clip(instants - self.starts[k], 0, self.lengths[k])
        return result

    def instant(self, positions: Ints) -> Ints:
        """The first instant with ``positions`` open seconds before it."""
        k = np.searchsorted(self.before, positions, side="right") - 1
        return self.starts[k] + (positions - self.before[k])


def timeline(
    axis: Axis,
    opened: Ints,
    response: Ints,
    resolution: Ints,
    cuts: Ints,
    hold_count: Ints,
    hold_length: Ints,
) -> tuple[Ints, Ints, Ints, Ints]:
    """Responded and resolved instants, hold starts and ends ((3, n); unused slots arbitrary):
    working stretches of business time with the holds between them."""
    responded = axis.instant(axis.position(opened) + response)
    cursor, done = opened.copy(), np.zeros(len(opened), dtype=np.int64)
    starts = np.zeros((3, len(opened)), dtype=np.int64)
    ends = np.zeros((3, len(opened)), dtype=np.int64)
    for slot in range(3):
        active = hold_count > slot
        start = axis.instant(axis.position(cursor) + cuts[slot] - done)
        starts[slot], ends[slot] = start, start + hold_length[slot]
        cursor = np.where(active, ends[slot], cursor)
        done = np.where(active, cuts[slot], done)
    resolved = axis.instant(axis.position(cursor) + resolution - done)
    return responded, resolved, starts, ends
