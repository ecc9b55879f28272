"""SLA clocks: business seconds between two instants, minus holds, for whole arrays at once.

Everything is int64 UTC epoch seconds and exact. The trick is a cumulative count: with a
calendar's open intervals sorted, ``position(t)`` (open seconds before ``t``) is a lookup, so
the business seconds of ``[a, b)`` are ``position(b) - position(a)`` for any number of
tickets without a Python loop per ticket.

The lookup is a bucket table when the calendar allows one (:class:`Buckets`): time is cut into
buckets of ``2**k`` seconds, ``k`` as large as possible while no bucket meets two separate
open intervals, and each bucket stores the open seconds before it and its one open segment.
``position(t)`` is then a shift, three gathers from a small table, a maximum and a minimum:
several times faster than the binary search (``np.searchsorted``) it replaces, which remains
the fallback for calendars too finely cut for a table of reasonable size.

Holds use the same positions. A ticket's holds, sorted by start, are clipped to the measured
span; each hold then adds only the part beyond the furthest end of the ticket's earlier holds
(a running maximum), so overlapping holds count once. Because the part is measured in
positions, only its open seconds are subtracted: time outside the calendar is never taken off
twice.

Several calendars can share one axis (:func:`laid_end_to_end`): each is shifted to its own
stretch of a virtual time line, so one lookup serves tickets of every calendar at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.calendar import OpenIntervals

Seconds = NDArray[np.int64]

#: The largest bucket table built (entries; three int64 arrays each): beyond it, bisect.
MAX_BUCKETS = 1 << 19
#: Closed time between two calendars laid end to end (2**21 s, about 24 days): wider than
#: any bucket a table uses there, so the calendars never share one.
GAP = 1 << 21


@dataclass(frozen=True, eq=False)
class Buckets:
    """``position()`` as a table: bucket ``b = (t - base) >> k`` covers
    ``[base + b * 2**k, base + (b + 1) * 2**k)`` and meets at most one open interval, in the
    segment ``[start[b], end[b])`` (empty when ``start == end``). Then
    ``position(t) = before[b] + min(max(t, start[b]), end[b])``, ``before[b]`` being the
    open seconds before the bucket minus ``start[b]``.
    """

    base: int
    k: int
    before: Seconds
    start: Seconds
    end: Seconds

    def position(self, instants: Seconds) -> Seconds:
        bucket = instants - self.base
        bucket >>= self.k
        result: Seconds = self.start.take(bucket)
        np.maximum(instants, result, out=result)
        np.minimum(result, self.end.take(bucket), out=result)
        result += self.before.take(bucket)
        return result


@functools.lru_cache(maxsize=8)
def buckets(intervals: OpenIntervals) -> Buckets | None:
    """The bucket table of ``intervals`` (cached per intervals object), or None when the
    table would need more than :data:`MAX_BUCKETS` entries."""
    starts, ends = _merged(intervals)
    base = intervals.covers_from
    span = intervals.covers_to - base
    # Feasibility only grows with k shrinking (a smaller bucket lies inside a larger one), so
    # walk down from one bucket for the whole span to the first k where no bucket holds the
    # end of one interval and the start of the next.
    k = max(span.bit_length(), 1)
    while k >= 0:
        if (span >> k) + 1 > MAX_BUCKETS:
            return None
        last = (ends[:-1] - 1 - base) >> k
        first = (starts[1:] - base) >> k
        if bool(np.all(last < first)):
            break
        k -= 1
    count = (span >> k) + 1
    lows = base + (np.arange(count, dtype=np.int64) << k)
    highs = lows + (1 << k)
    # The one interval that can meet a bucket: the last one starting before its end.
    j = np.searchsorted(starts, highs, side="left") - 1
    some = j >= 0
    jj = np.maximum(j, 0)
    start = np.where(some, np.clip(starts[jj], lows, highs), lows)
    end = np.where(some, np.clip(ends[jj], start, highs), lows)
    before = _searched(intervals, lows) - start
    for array in (before, start, end):
        array.setflags(write=False)
    return Buckets(base, k, before, start, end)


def _merged(intervals: OpenIntervals) -> tuple[Seconds, Seconds]:
    """The open intervals without empty ones, touching ones merged (a 24x7 week is one)."""
    keep = intervals.ends > intervals.starts
    starts, ends = intervals.starts[keep], intervals.ends[keep]
    if len(starts) == 0:  # always closed: one empty interval keeps the table's arithmetic
        return intervals.starts[:1], intervals.starts[:1]
    apart = starts[1:] != ends[:-1]
    return (
        starts[np.concatenate(([True], apart))],
        ends[np.concatenate((apart, [True]))],
    )


def position(intervals: OpenIntervals, instants: Seconds) -> Seconds:
    """Open seconds in ``[covers_from, t)`` for each instant ``t``."""
    _check_covered(intervals, instants)
    return _position(intervals, instants)


def _position(intervals: OpenIntervals, instants: Seconds) -> Seconds:
    table = buckets(intervals)
    if table is None:
        return _searched(intervals, instants)
    return table.position(instants)


def _searched(intervals: OpenIntervals, instants: Seconds) -> Seconds:
    # k: the last interval starting at or before t (the sentinel guarantees one).
    k = np.searchsorted(intervals.starts, instants, side="right") - 1
    result: Seconds = intervals.offsets[k] + np.minimum(instants, intervals.ends[k])
    return result


def business_seconds(intervals: OpenIntervals, start: Seconds, end: Seconds) -> Seconds:
    """Open seconds in ``[start, end)``, element-wise; a span with ``end < start`` counts 0."""
    end = np.maximum(start, end)
    result: Seconds = position(intervals, end) - position(intervals, start)
    return result


@functools.lru_cache(maxsize=16)
def laid_end_to_end(
    parts: tuple[OpenIntervals, ...], first: int, last: int
) -> tuple[OpenIntervals, tuple[int, ...]]:
    """Several calendars' open intervals between the instants ``first`` and ``last`` (which
    each must cover) on one axis, and the shift of each: calendar ``i``'s instant ``t`` is the
    axis' ``t + shifts[i]``, and positions on the axis differ exactly as positions in calendar
    ``i`` do between two of its instants in ``[first, last]`` (never compare two calendars).

    Calendar ``i + 1`` starts :data:`GAP` seconds after calendar ``i`` ends. Keeping only
    ``[first, last]`` keeps the axis' bucket table small. Cached per arguments (the calendar
    builder caches the intervals objects in turn).
    """
    check_covered(parts, first, last)
    kept = [_between(part, first, last) for part in parts]
    shifts = [0]
    for _ in kept[1:]:
        shifts.append(shifts[-1] + (last - first) + GAP)
    starts = np.concatenate([p[0] + s for p, s in zip(kept, shifts, strict=True)])
    ends = np.concatenate([p[1] + s for p, s in zip(kept, shifts, strict=True)])
    opened = np.zeros(len(starts), dtype=np.int64)
    np.cumsum((ends - starts)[:-1], out=opened[1:])
    offsets = opened - starts
    for array in (starts, ends, offsets):
        array.setflags(write=False)
    return OpenIntervals(starts, ends, offsets, first, last + shifts[-1]), tuple(shifts)


def _between(intervals: OpenIntervals, first: int, last: int) -> tuple[Seconds, Seconds]:
    """The open intervals clipped to ``[first, last]``, after an empty sentinel at ``first``."""
    keep = (intervals.ends > first) & (intervals.starts < last)
    starts = np.clip(intervals.starts[keep], first, last)
    ends = np.clip(intervals.ends[keep], first, last)
    sentinel = np.array([first], dtype=np.int64)
    return np.concatenate((sentinel, starts)), np.concatenate((sentinel, ends))


@dataclass(frozen=True, eq=False)
class Holds:
    """Hold intervals grouped by ticket: each ticket's holds (``ticket`` is an index into the
    measured arrays) are adjacent and sorted by ``start``; :meth:`group` also sorts the
    tickets. ``end`` is already filled where the hold is still running
    (:data:`STILL_ON_HOLD` when nothing bounds it: the measured span clips it).
    """

    ticket: NDArray[np.int64]
    start: Seconds
    end: Seconds

    @classmethod
    def group(cls, ticket: NDArray[np.int64], start: Seconds, end: Seconds) -> Holds:
        if len(ticket) == 0:
            return cls(ticket, start, end)
        order = by_ticket_and_start(ticket, start)
        return cls(ticket[order], start[order], end[order])


def by_ticket_and_start(
    ticket: NDArray[np.int64], start: Seconds, *, grouped: bool = False
) -> NDArray[np.int64]:
    """The order that sorts holds by ``ticket`` (any non-negative int), then ``start``.

    One int64 key sorts several times faster than np.lexsort; lexsort when the key won't fit.
    In any order, Polars' arg_sort (multi-threaded) sorts the key fastest. ``grouped``: the
    tickets never decrease already (only each ticket's few holds may be out of order), so the
    key is a chain of sorted runs, which numpy's stable sort (a timsort) orders in about one
    pass, twice as fast again. Ties (same ticket and start) may come in any order: merging
    holds does not care.
    """
    low = int(np.min(start))
    width = int(np.max(start)) - low + 1
    if (int(np.max(ticket)) + 1) * width < np.iinfo(np.int64).max // 2:
        key = ticket * width
        key += start
        key -= low
        if grouped:
            return np.argsort(key, kind="stable").astype(np.int64, copy=False)
        order: NDArray[np.int64] = pl.Series(key).arg_sort().to_numpy().astype(np.int64)
        return order
    return np.lexsort((start, ticket)).astype(np.int64)


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
    low = span_start[holds.ticket]
    high = np.maximum(low, span_end[holds.ticket])
    return held_within(intervals, holds, low, high, len(span_start))


def held_within(
    intervals: OpenIntervals, holds: Holds, low: Seconds, high: Seconds, tickets: int
) -> Seconds:
    """:func:`held_seconds` with each hold's span given (``low <= high``, covered by
    ``intervals``): the held open seconds of each of ``tickets`` tickets."""
    result = np.zeros(tickets, dtype=np.int64)
    which, seconds = held_per_ticket(intervals, holds, low, high)
    result[which] = seconds
    return result


def held_per_ticket(
    intervals: OpenIntervals, holds: Holds, low: Seconds, high: Seconds
) -> tuple[NDArray[np.int64], Seconds]:
    """:func:`held_within` for the tickets that have holds only: ``(ticket, seconds)``, one
    entry per ticket of ``holds``, in their order."""
    if len(holds.ticket) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = np.clip(holds.start, low, high)
    end = np.clip(holds.end, start, high)  # also empties a hold that ends before it starts

    # Running maximum of the ends of the ticket's earlier holds. Offsetting each ticket's
    # values by rank * width keeps the maximum inside the ticket: every earlier ticket's
    # values are smaller than any of this one's.
    new_ticket = np.empty(len(end), dtype=bool)
    new_ticket[0] = True
    np.not_equal(holds.ticket[1:], holds.ticket[:-1], out=new_ticket[1:])
    firsts = np.flatnonzero(new_ticket)
    rank = np.cumsum(new_ticket)
    base = int(np.min(low))
    width = int(np.max(high)) - base + 1
    if (int(rank[-1]) + 1) * width >= np.iinfo(np.int64).max // 2:
        raise OverflowError("holds span too many tickets over too long a time to merge")
    offset = rank * width
    offset -= base
    running = end + offset
    np.maximum.accumulate(running, out=running)
    running -= offset
    earlier = np.empty_like(running)
    earlier[0] = 0
    earlier[1:] = running[:-1]
    earlier[firsts] = low.take(firsts)  # nothing earlier: the span's start

    # Each hold adds [max(start, earlier), max(end, earlier)): the part not yet counted.
    np.maximum(end, earlier, out=end)
    np.maximum(start, earlier, out=start)
    part = _position(intervals, end)
    part -= _position(intervals, start)
    return holds.ticket.take(firsts), np.add.reduceat(part, firsts)


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


def check_covered(intervals: Sequence[OpenIntervals], lowest: int, highest: int) -> None:
    """Refuse instants ``lowest..highest`` that some of ``intervals`` does not cover."""
    for each in intervals:
        if lowest < each.covers_from or highest > each.covers_to:
            raise ValueError(
                f"instants {lowest}..{highest} fall outside the calendar's built span "
                f"{each.covers_from}..{each.covers_to}"
            )


def _check_covered(intervals: OpenIntervals, instants: Seconds) -> None:
    if len(instants) == 0:
        return
    check_covered([intervals], int(np.min(instants)), int(np.max(instants)))
