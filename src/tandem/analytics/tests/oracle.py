"""A slow, obviously correct SLA clock to check the engine against.

It shares no code with the engine. It walks the local dates one by one, builds each open
day's windows with zoneinfo, intersects them with the ticket's span, and subtracts the held
part of each window, with holds merged by hand. Every step is a plain loop over a few
integers, small enough to check by eye.

Window edges follow the calendar's documented rule (the first instant at which the local
clock shows the edge time or later), found here by trying both folds and, for a time in a
spring-forward gap, by stepping through the gap second by second.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from tandem.analytics.calendar import BusinessCalendar


def wall(zone: ZoneInfo, instant: int) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


def edge(zone: ZoneInfo, day: date, seconds: int) -> int:
    """The first instant whose local wall clock shows ``day`` + ``seconds`` or later."""
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    candidates = []
    for fold in (0, 1):
        instant = int(naive.replace(tzinfo=zone, fold=fold).timestamp())
        if wall(zone, instant) == naive:  # this reading exists
            candidates.append(instant)
    if candidates:
        return min(candidates)
    # In a gap: start from an instant before it and walk forward until the clock passes.
    instant = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    while wall(zone, instant) < naive:
        instant += 60
    while wall(zone, instant - 1) >= naive:
        instant -= 1
    return instant


def is_closed(calendar: BusinessCalendar, day: date) -> bool:
    if day in calendar.holidays:
        return True
    if calendar.holiday_country is None:
        return False
    return day in country(calendar.holiday_country, calendar.holiday_subdivision)


@functools.cache
def country(code: str, subdivision: str | None) -> holidays.HolidayBase:
    """The package's holidays (observed dates included); years fill in on first lookup."""
    return holidays.country_holidays(code, subdiv=subdivision, observed=True)


def open_windows(calendar: BusinessCalendar, start: int, end: int) -> list[tuple[int, int]]:
    """Every open window (UTC seconds) of the local dates around ``[start, end)``."""
    zone = ZoneInfo(calendar.timezone)
    day = datetime.fromtimestamp(start, UTC).date() - timedelta(days=2)
    last = datetime.fromtimestamp(end, UTC).date() + timedelta(days=2)
    windows = []
    while day <= last:
        if not is_closed(calendar, day):
            for window in calendar.weekly[day.weekday()]:
                windows.append((edge(zone, day, window.start), edge(zone, day, window.end)))
        day += timedelta(days=1)
    return windows


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def elapsed(
    calendar: BusinessCalendar,
    start: int,
    end: int,
    holds: Sequence[tuple[int, int | None]] = (),
) -> int:
    """Business seconds in ``[start, end)`` minus held business seconds.

    A hold with no end runs to ``end``; holds are clipped to ``[start, end)``.
    """
    if end <= start:
        return 0
    span = (start, end)
    clipped = []
    for hold_start, hold_end in holds:
        a = max(hold_start, start)
        b = min(end if hold_end is None else hold_end, end)
        if b > a:
            clipped.append((a, b))
    merged = merge(clipped)
    total = 0
    for window in open_windows(calendar, start, end):
        total += overlap(window, span)
        for hold in merged:
            total -= overlap(window, hold)
    return total
