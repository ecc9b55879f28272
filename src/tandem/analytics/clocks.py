"""SLA clocks: business seconds between two instants, minus holds, for whole arrays at once.

Everything is int64 UTC epoch seconds and exact. The trick is a cumulative count: with a
calendar's open intervals sorted, ``position(t)`` (open seconds before ``t``) is one
``np.searchsorted``, two gathers and a minimum, so the business seconds of ``[a, b)`` are
``position(b) - position(a)`` for any number of tickets without a Python loop per ticket.

Holds use the same positions. A ticket's holds, sorted by start, are clipped to the measured
span; each hold then adds only the part beyond the furthest end of the ticket's earlier holds
(a running maximum), so overlapping holds count once. Because the part is measured in
positions, only its open seconds are subtracted: time outside the calendar is never taken off
twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.calendar import OpenIntervals

Seconds = NDArray[np.int64]


def position(intervals: OpenIntervals, instants: Seconds) -> Seconds:
    """Open seconds in ``[covers_from, t)`` for each instant ``t``."""
    _check_covered(intervals, instants)
    # k: the last interval starting at or before t (the sentinel guarantees one).
    k = np.searchsorted(intervals.starts, instants, side="right") - 1
    result: Seconds = intervals.offsets[k] + np.minimum(instants, intervals.ends[k])
    return result


def business_seconds(intervals: OpenIntervals, start: Seconds, end: Seconds) -> Seconds:
    """Open seconds in ``[start, end)``, element-wise; a span with ``end < start`` counts 0."""
    end = np.maximum(start, end)
    result: Seconds = position(intervals, end) - position(intervals, start)
    return result


@dataclass(frozen=True, eq=False)
class Holds:
    """Hold intervals grouped by ticket: sorted by ``ticket`` (an index into the measured
    arrays), then ``start``. ``end`` is already filled where the hold is still running
    (:data:`STILL_ON_HOLD` when nothing bounds it: the measured span clips it).
    """

    ticket: NDArray[np.int64]
    start: Seconds
    end: Seconds

    @classmethod
    def group(cls, ticket: NDArray[np.int64], start: Seconds, end: Seconds) -> Holds:
        if len(ticket) == 0:
            return cls(ticket, start, end)
        # One int64 key sorts several times faster than np.lexsort, and Polars' arg_sort
        # (multi-threaded) about twice as fast again as np.argsort; lexsort when it won't fit.
        # Ties (same ticket and start) may come in any order: merging holds does not care.
        low = int(np.min(start))
        width = int(np.max(start)) - low + 1
        if (int(np.max(ticket)) + 1) * width < np.iinfo(np.int64).max // 2:
            order = pl.Series(ticket * width + (start - low)).arg_sort().to_numpy()
        else:
            order = np.lexsort((start, ticket))
        return cls(ticket[order], start[order], end[order])


#: Fill for a hold without an end: far in the future, clipped away by the measured span.
STILL_ON_HOLD = np.iinfo(np.int64).max // 4


def held_seconds(
    intervals: OpenIntervals,
    holds: Holds,
    span_start: Seconds,
    span_end: Seconds,
) -> Seconds:
    """Open seconds of each ticket's held time inside ``[span_start, span_end)``.

    ``span_start``/``span_end`` are per ticket (index = ``holds.ticket``). Holds are clipped
    to the span (a hold outside it counts nothing) and merged (overlaps count once).
    """
    result = np.zeros(len(span_start), dtype=np.int64)
    if len(holds.ticket) == 0:
        return result
    low = span_start[holds.ticket]
    high = np.maximum(low, span_end[holds.ticket])
    start = np.clip(holds.start, low, high)
    end = np.clip(holds.end, start, high)  # also empties a hold that ends before it starts

    # Running maximum of the ends of the ticket's earlier holds. Offsetting each ticket's
    # values by rank * width keeps the maximum inside the ticket: every earlier ticket's
    # values are smaller than any of this one's.
    new_ticket = np.empty(len(end), dtype=bool)
    new_ticket[0] = True
    np.not_equal(holds.ticket[1:], holds.ticket[:-1], out=new_ticket[1:])
    rank = np.cumsum(new_ticket) - 1
    base = int(np.min(low))
    width = int(np.max(high)) - base + 1
    if (int(rank[-1]) + 1) * width >= np.iinfo(np.int64).max // 2:
        raise OverflowError("holds span too many tickets over too long a time to merge")
    offset = rank * width - base
    running = np.maximum.accumulate(end + offset) - offset
    earlier = np.empty_like(running)
    earlier[0] = 0
    earlier[1:] = running[:-1]
    earlier = np.where(new_ticket, low, earlier)  # nothing earlier: the span's start

    # Each hold adds [max(start, earlier), max(end, earlier)): the part not yet counted.
    part = position(intervals, np.maximum(end, earlier)) - position(
        intervals, np.maximum(start, earlier)
    )
    firsts = np.flatnonzero(new_ticket)
    result[holds.ticket[firsts]] = np.add.reduceat(part, firsts)
    return result


def elapsed_seconds(
    intervals: OpenIntervals,
    start: Seconds,
    end: Seconds,
    holds: Holds | None = None,
) -> Seconds:
    """Business seconds in ``[start, end)`` minus the held business seconds, per ticket."""
    elapsed = business_seconds(intervals, start, end)
    if holds is not None:
        elapsed -= held_seconds(intervals, holds, start, end)
    return elapsed


def _check_covered(intervals: OpenIntervals, instants: Seconds) -> None:
    if len(instants) == 0:
        return
    lowest, highest = int(np.min(instants)), int(np.max(instants))
    if lowest < intervals.covers_from or highest > intervals.covers_to:
        raise ValueError(
            f"instants {lowest}..{highest} fall outside the calendar's built span "
            f"{intervals.covers_from}..{intervals.covers_to}"
        )
