"""Business calendars: when the service-level clock runs.

A calendar is an IANA time zone, weekly windows of local wall-clock time (several per day
allowed) and closed dates (explicit dates and/or a country's public holidays from the
``holidays`` package, observed dates included). The engine never works in local time: it
turns a calendar into a sorted array of open intervals in UTC epoch seconds
(:func:`open_intervals`) once per calendar and year, and counts seconds against that array.

Daylight saving time
--------------------
Window edges are local wall-clock times, so a ``00:00-24:00`` day lasts 23 hours on a
spring-forward day and 25 on a fall-back day. An edge at local time *t* on date *d* is **the
first instant at which the local clock on date d shows t or later**:

* an ambiguous time (inside a fall-back fold, e.g. 01:30 on 2025-11-02 in Chicago) is its
  first occurrence, the one with ``fold=0`` (01:30 CDT = 06:30 UTC);
* a nonexistent time (inside a spring-forward gap, e.g. 02:30 on 2025-03-09 in Chicago) is
  the instant of the jump (03:00 CDT = 08:00 UTC), not ``fold=0``'s 03:30 CDT.

This rule keeps edges in order (a later local time never maps to an earlier instant), so a
window never turns inside out: ``02:10-02:50`` on a spring-forward day is simply empty.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import numpy as np
from numpy.typing import NDArray

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True, order=True)
class Window:
    """An open window of one local day: ``[start, end)`` in seconds after local midnight.

    ``end`` may be ``86400`` (``24:00``, the next local midnight).
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < DAY or not 0 < self.end <= DAY:
            raise ValueError(f"window {self} is outside 00:00-24:00")
        if self.end <= self.start:
            verb = "is empty" if self.end == self.start else "ends before it starts"
            raise ValueError(f"window {self} {verb}")

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read ``"HH:MM-HH:MM"``; ``24:00`` is allowed as an end only."""
        match = _WINDOW.match(text.strip())
        if match is None:
            raise ValueError(f"window {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise ValueError(f"window {text!r} has an impossible time")
        return cls(h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60)

    def __str__(self) -> str:
        def hhmm(seconds: int) -> str:
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

        return f"{hhmm(self.start)}-{hhmm(self.end)}"


ALL_DAY = Window(0, DAY)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the clock runs: a time zone, weekly windows and closed dates.

    ``weekly`` has seven entries, Monday first; each is a tuple of non-overlapping windows in
    ascending order (an empty tuple is a closed day). Every date in ``holidays``, and every
    date the ``holidays`` package lists for ``holiday_country`` (and
    ``holiday_subdivision``), is closed all day. The package lists both the holiday and its
    observed date (2026-07-04, a Saturday, and Friday 2026-07-03 in the US): both are closed.
    """

    timezone: str
    weekly: tuple[tuple[Window, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 days (Monday first), got {len(self.weekly)}")
        for day, windows in zip(WEEKDAYS, self.weekly, strict=True):
            for before, after in zip(windows, windows[1:], strict=False):
                if after.start < before.end:
                    raise ValueError(f"{day}: windows {before} and {after} overlap or are unsorted")
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise ValueError("holiday_subdivision needs holiday_country")
        if self.holiday_country is not None:
            _country_holidays(self.holiday_country, self.holiday_subdivision, 2000)

    @classmethod
    def build(
        cls,
        timezone: str,
        weekly: str | Mapping[str, Sequence[str]],
        holidays: Iterable[date] = (),
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
    ) -> BusinessCalendar:
        """Convenience constructor: ``weekly`` is ``"24x7"`` or ``{"mon": ["08:00-17:00"]}``."""
        if isinstance(weekly, str):
            if weekly != "24x7":
                raise ValueError(f"weekly {weekly!r}: the only shorthand is '24x7'")
            days: tuple[tuple[Window, ...], ...] = ((ALL_DAY,),) * 7
        else:
            unknown = set(weekly) - set(WEEKDAYS)
            if unknown:
                raise ValueError(f"unknown weekdays {sorted(unknown)}")
            days = tuple(
                tuple(sorted(Window.parse(w) for w in weekly.get(day, ()))) for day in WEEKDAYS
            )
        return cls(timezone, days, frozenset(holidays), holiday_country, holiday_subdivision)

    def closed_dates(self, year: int) -> frozenset[date]:
        """Every date of ``year`` that is closed all day."""
        closed = {d for d in self.holidays if d.year == year}
        if self.holiday_country is not None:
            # Neighbouring years too: an observed date can fall in the year before
            # (New Year's Day 2022, a Saturday, was observed on 2021-12-31).
            for y in (year - 1, year, year + 1):
                listed = _country_holidays(self.holiday_country, self.holiday_subdivision, y)
                closed.update(d for d in listed if d.year == year)
        return frozenset(closed)


@functools.lru_cache(maxsize=256)
def _country_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        listed = holidays_package.country_holidays(
            country, subdiv=subdivision, years=year, observed=True
        )
    except NotImplementedError as error:
        raise ValueError(str(error)) from None
    return frozenset(listed)


@dataclass(frozen=True, eq=False)
class OpenIntervals:
    """A calendar's open time in ``[covers_from, covers_to]`` as sorted UTC epoch seconds.

    ``starts[i] <= ends[i] <= starts[i + 1]``. Interval 0 is an empty sentinel at
    ``covers_from``, so every covered instant has an interval starting at or before it.
    ``offsets[i]`` is the open seconds before ``starts[i]`` minus ``starts[i]``: the open
    seconds before a covered instant ``t`` are then ``offsets[k] + min(t, ends[k])`` with ``k``
    the last interval starting at or before ``t`` (two gathers, no branch). The arrays are
    read-only and shared by every caller (the builder caches them).
    """

    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    offsets: NDArray[np.int64]
    covers_from: int
    covers_to: int

    @property
    def total(self) -> int:
        """Open seconds in the whole covered span."""
        return int(self.offsets[-1] + self.ends[-1])


def open_intervals(calendar: BusinessCalendar, first_year: int, last_year: int) -> OpenIntervals:
    """The calendar's open intervals for local dates from ``first_year`` to ``last_year``.

    Cached per calendar and year range (and each year separately, so widening a range only
    builds the new years).
    """
    if last_year < first_year:
        raise ValueError(f"empty year range {first_year}..{last_year}")
    return _open_intervals(calendar, first_year, last_year)


def open_intervals_covering(calendar: BusinessCalendar, first: int, last: int) -> OpenIntervals:
    """Open intervals covering the instants ``first..last`` (UTC epoch seconds).

    A year of margin on each side: a UTC instant's local date can be in the neighbouring year.
    """
    first_year = datetime.fromtimestamp(first, UTC).year - 1
    last_year = datetime.fromtimestamp(last, UTC).year + 1
    return _open_intervals(calendar, max(first_year, 1), min(last_year, 9998))


@functools.lru_cache(maxsize=64)
def _open_intervals(calendar: BusinessCalendar, first_year: int, last_year: int) -> OpenIntervals:
    zone = ZoneInfo(calendar.timezone)
    covers_from = local_edge(zone, date(first_year, 1, 1), 0)
    sentinel = np.array([covers_from], dtype=np.int64)
    years = [_year_intervals(calendar, y) for y in range(first_year, last_year + 1)]
    starts = np.concatenate([sentinel, *(y[0] for y in years)])
    ends = np.concatenate([sentinel, *(y[1] for y in years)])
    before = np.zeros(len(starts), dtype=np.int64)  # open seconds before each start
    np.cumsum((ends - starts)[:-1], out=before[1:])
    offsets = before - starts
    for array in (starts, ends, offsets):
        array.setflags(write=False)
    return OpenIntervals(
        starts,
        ends,
        offsets,
        covers_from=covers_from,
        covers_to=local_edge(zone, date(last_year, 12, 31), DAY),
    )


@functools.lru_cache(maxsize=1024)
def _year_intervals(
    calendar: BusinessCalendar, year: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    zone = ZoneInfo(calendar.timezone)
    closed = calendar.closed_dates(year)
    starts: list[int] = []
    ends: list[int] = []
    day = date(year, 1, 1)
    one_day = timedelta(days=1)
    while day.year == year:
        if day not in closed:
            for window in calendar.weekly[day.weekday()]:
                start = local_edge(zone, day, window.start)
                end = local_edge(zone, day, window.end)
                if end > start:  # a window inside a spring-forward gap is empty
                    starts.append(start)
                    ends.append(end)
        day += one_day
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def local_edge(zone: ZoneInfo, day: date, seconds: int) -> int:
    """UTC epoch seconds of local time ``seconds`` after midnight on ``day`` (see module doc).

    The first instant at which the local clock shows that time or later: ``fold=0`` for an
    ambiguous time, the instant of the jump for a nonexistent one.
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    instant = int(naive.replace(tzinfo=zone, fold=0).timestamp())
    if _wall(zone, instant) == naive:
        return instant
    # Nonexistent: fold=0 read it with the offset before the jump, which lands after the
    # jump; fold=1 lands before it. The wall clock is monotonic between the two (it only
    # jumps forward), so bisect for the first second showing ``naive`` or later.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())  # wall < naive
    high = instant  # wall >= naive
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(zone, middle) >= naive:
            high = middle
        else:
            low = middle
    return high


def _wall(zone: ZoneInfo, instant: int) -> datetime:
    return datetime.fromtimestamp(instant, UTC).astimezone(zone).replace(tzinfo=None)
