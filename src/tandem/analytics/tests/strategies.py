"""Hypothesis strategies: calendars with DST and holidays, tickets and holds near the tricky days.

Instants cluster around DST changes and an observed holiday, and window edges favour the
hours a DST change moves (01:00-03:00), so the rare cases come up often.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from tandem.analytics.calendar import ALL_DAY, BusinessCalendar, Window
from tandem.analytics.tests.helpers import HOUR, at

DAY = 24 * HOUR

ZONES = [
    "America/Chicago",
    "America/New_York",
    "UTC",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Asia/Kolkata",  # a half-hour offset, no DST
]

US_DST = [at("2025-03-09T08:00Z"), at("2025-11-02T07:00Z")]
EU_DST = [at("2025-03-30T01:00Z"), at("2025-10-26T01:00Z")]
#: Instants near which tickets open: each zone's DST changes, an observed holiday, a new year.
ANCHORS = {
    "America/Chicago": US_DST,
    "America/New_York": US_DST,
    "Europe/London": EU_DST,
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 and 02:00 -> 01:30 local.
    "Australia/Lord_Howe": [at("2025-10-04T15:30Z"), at("2025-04-05T15:00Z")],
    "UTC": [],
    "Asia/Kolkata": [],
}
OTHER_ANCHORS = [at("2026-07-03T15:00Z"), at("2025-12-31T18:00Z"), *US_DST, *EU_DST]

#: Minutes past midnight that DST changes move, and the day's edges.
TRICKY_MINUTES = [0, 60, 90, 120, 130, 150, 180, 210, 1440]


@st.composite
def days(draw: st.DrawFn) -> tuple[Window, ...]:
    points = draw(
        st.lists(
            st.one_of(st.sampled_from(TRICKY_MINUTES), st.integers(0, 1440)),
            max_size=6,
            unique=True,
        )
    )
    points.sort()
    return tuple(Window(a * 60, b * 60) for a, b in zip(points[::2], points[1::2], strict=False))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    shape = draw(st.sampled_from(["24x7", "same every day", "per day"]))
    if shape == "24x7":
        weekly: tuple[tuple[Window, ...], ...] = ((ALL_DAY,),) * 7
    elif shape == "same every day":
        weekly = (draw(days()),) * 7
    else:
        weekly = tuple(draw(days()) for _ in range(7))
    explicit = draw(
        st.frozensets(
            st.dates(min_value=date(2025, 2, 25), max_value=date(2026, 7, 20)), max_size=5
        )
    )
    country = draw(st.sampled_from([None, None, ("US", None), ("US", "CA"), ("GB", None)]))
    return BusinessCalendar(
        zone,
        weekly,
        frozenset(explicit),
        country[0] if country else None,
        country[1] if country else None,
    )


Ticket = tuple[int, int, list[tuple[int, int | None]]]


@st.composite
def tickets(draw: st.DrawFn, zone: str = "UTC") -> Ticket:
    """``(start, end, holds)`` with holds as ``(start, end or None)``, possibly outside.

    Mostly near ``zone``'s own DST changes.
    """
    own = draw(st.integers(0, 3)) > 0  # three times in four
    anchors = ANCHORS[zone] if own and ANCHORS[zone] else OTHER_ANCHORS
    start = draw(st.sampled_from(anchors)) + draw(st.integers(-5 * DAY, 5 * DAY))
    length = draw(st.one_of(st.just(0), st.integers(0, 3 * HOUR), st.integers(0, 12 * DAY)))
    holds = draw(
        st.lists(
            st.tuples(
                st.integers(-2 * DAY, length + 2 * DAY),
                st.one_of(st.none(), st.integers(-HOUR, 5 * DAY)),
            ),
            max_size=4,
        )
    )
    return (
        start,
        start + length,
        [(start + a, None if d is None else start + a + d) for a, d in holds],
    )


@st.composite
def scenarios(draw: st.DrawFn, max_tickets: int = 6) -> tuple[BusinessCalendar, list[Ticket]]:
    """A calendar and tickets that open mostly near its zone's DST changes."""
    calendar = draw(calendars())
    batch = draw(st.lists(tickets(calendar.timezone), min_size=1, max_size=max_tickets))
    return calendar, batch
