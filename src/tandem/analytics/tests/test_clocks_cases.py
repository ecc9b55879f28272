"""Named cases for the clocks: DST weeks, observed holidays, holds, tickets while closed.

Each expected value is worked out by hand in the comment beside it, and checked against the
oracle too, so a case documents the rule it pins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tandem.analytics.calendar import BusinessCalendar, Window, local_edge, open_intervals
from tandem.analytics.clocks import Holds, business_seconds
from tandem.analytics.tests import oracle
from tandem.analytics.tests.helpers import HOUR, at, one

WEEKDAYS_8_17 = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def chicago(
    weekly: str | Mapping[str, Sequence[str]] = WEEKDAYS_8_17, **kwargs: Any
) -> BusinessCalendar:
    return BusinessCalendar.build("America/Chicago", weekly, **kwargs)


def check(
    calendar: BusinessCalendar,
    start: int,
    end: int,
    expected: int,
    holds: Sequence[tuple[int, int | None]] = (),
) -> None:
    assert one(calendar, start, end, holds) == expected
    assert oracle.elapsed(calendar, start, end, holds) == expected


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York"])
def test_a_24x7_day_lasts_23_hours_at_spring_forward_and_25_at_fall_back(zone: str) -> None:
    always = BusinessCalendar.build(zone, "24x7")
    check(always, at("2025-03-09T00:00", zone), at("2025-03-10T00:00", zone), 23 * HOUR)
    check(always, at("2025-11-02T00:00", zone), at("2025-11-03T00:00", zone), 25 * HOUR)
    check(always, at("2025-03-08T00:00", zone), at("2025-03-09T00:00", zone), 24 * HOUR)


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York"])
def test_business_hours_keep_their_wall_clock_length_across_dst_weeks(zone: str) -> None:
    calendar = BusinessCalendar.build(zone, WEEKDAYS_8_17)
    # Friday 16:00 EST/CST to Monday 09:00 EDT/CDT: one hour each side of the weekend.
    check(calendar, at("2025-03-07T16:00", zone), at("2025-03-10T09:00", zone), 2 * HOUR)
    # The whole spring-forward week and fall-back week: five 9-hour days each.
    check(calendar, at("2025-03-08T00:00", zone), at("2025-03-15T00:00", zone), 45 * HOUR)
    check(calendar, at("2025-11-01T00:00", zone), at("2025-11-08T00:00", zone), 45 * HOUR)


def test_an_edge_inside_the_spring_forward_gap_is_the_instant_of_the_jump() -> None:
    zone = "America/Chicago"
    # 02:30 does not exist on 2025-03-09: the clock jumps from 02:00 CST to 03:00 CDT,
    # which is 08:00 UTC.
    assert local_edge(ZoneInfo(zone), date(2025, 3, 9), 2 * HOUR + 1800) == at("2025-03-09T08:00Z")
    sunday = {"sun": ["02:30-04:00"]}
    # 03:00 CDT to 04:00 CDT: one hour.
    check(chicago(sunday), at("2025-03-09T00:00"), at("2025-03-10T00:00"), HOUR)
    # A window wholly inside the gap is empty (its edges are the same instant).
    check(chicago({"sun": ["02:10-02:50"]}), at("2025-03-09T00:00"), at("2025-03-10T00:00"), 0)


def test_an_edge_inside_the_fall_back_fold_is_its_first_occurrence() -> None:
    # 01:30 happens twice on 2025-11-02: first at 01:30 CDT (06:30 UTC).
    edge = local_edge(ZoneInfo("America/Chicago"), date(2025, 11, 2), HOUR + 1800)
    assert edge == at("2025-11-02T06:30Z")
    # 01:30 CDT to 03:00 CST: 30 min + the repeated hour + 1 h = 2.5 h.
    check(
        chicago({"sun": ["01:30-03:00"]}),
        at("2025-11-02T00:00"),
        at("2025-11-03T00:00"),
        2 * HOUR + 1800,
    )
    # A window ending in the fold closes at the first 01:30; the second pass stays closed.
    check(chicago({"sun": ["00:00-01:30"]}), at("2025-11-02T00:00"), at("2025-11-03T00:00"), 5400)


def test_a_saturday_holiday_is_observed_on_friday() -> None:
    with_us = chicago(holiday_country="US")
    without = chicago()
    # Thursday 2026-07-02 16:00 to Monday 2026-07-06 09:00.
    start, end = at("2026-07-02T16:00"), at("2026-07-06T09:00")
    check(with_us, start, end, 2 * HOUR)  # Friday 07-03 is the observed Independence Day
    check(without, start, end, 11 * HOUR)  # 1 h Thursday, 9 h Friday, 1 h Monday


def test_explicit_holidays_close_the_whole_local_day() -> None:
    calendar = chicago(holidays=[date(2025, 11, 27), date(2025, 12, 25)])
    check(calendar, at("2025-11-26T16:00"), at("2025-11-28T09:00"), 2 * HOUR)


def test_several_windows_a_day() -> None:
    split = {day: ["07:00-12:00", "13:00-19:00"] for day in ("mon", "tue")}
    # Monday 2025-06-02 11:00 to 14:00: 1 h before lunch, 1 h after.
    check(chicago(split), at("2025-06-02T11:00"), at("2025-06-02T14:00"), 2 * HOUR)
    # Adjacent windows count as one.
    adjacent = chicago({"mon": ["08:00-12:00", "12:00-17:00"]})
    check(adjacent, at("2025-06-02T00:00"), at("2025-06-03T00:00"), 9 * HOUR)


def test_holds_spanning_a_weekend_and_overlapping_count_once() -> None:
    # Friday 2025-06-06 09:00 to Tuesday 2025-06-10 17:00: 8 h + 9 h + 9 h = 26 h open.
    start, end = at("2025-06-06T09:00"), at("2025-06-10T17:00")
    holds = [
        (at("2025-06-06T16:00"), at("2025-06-09T10:00")),  # Friday to Monday
        (at("2025-06-07T12:00"), at("2025-06-09T11:00")),  # Saturday to Monday, overlapping
    ]
    # Merged: Friday 16:00 to Monday 11:00 = 1 h Friday + 3 h Monday of business time.
    check(chicago(), start, end, 22 * HOUR, holds)


def test_holds_outside_the_ticket_are_clipped_away() -> None:
    start, end = at("2025-06-09T09:00"), at("2025-06-09T12:00")
    holds = [
        (at("2025-06-06T09:00"), at("2025-06-06T12:00")),  # before the ticket
        (at("2025-06-10T09:00"), at("2025-06-10T12:00")),  # after it
        (at("2025-06-09T11:00"), at("2025-06-09T10:00")),  # ends before it starts
        (at("2025-06-09T11:30"), None),  # still on hold: runs to the end of the span
    ]
    check(chicago(), start, end, 3 * HOUR - 1800, holds)


def test_tickets_opened_and_resolved_while_closed_take_zero_seconds() -> None:
    check(chicago(), at("2025-06-07T10:00"), at("2025-06-08T15:00"), 0)  # a weekend
    check(chicago(), at("2025-06-06T18:00"), at("2025-06-09T07:59"), 0)  # Friday night to Monday
    check(chicago(), at("2025-06-09T17:00"), at("2025-06-10T08:00"), 0)  # edges excluded


def test_zero_length_and_backwards_spans_take_zero_seconds() -> None:
    moment = at("2025-06-09T10:00")
    check(chicago(), moment, moment, 0)
    assert one(chicago(), moment, moment - HOUR) == 0


def test_a_calendar_without_windows_is_always_closed() -> None:
    check(chicago({}), at("2025-06-01T00:00"), at("2025-07-01T00:00"), 0)


def test_windows_must_end_after_they_start() -> None:
    with pytest.raises(ValueError, match="window 17:00-08:00 ends before it starts"):
        Window.parse("17:00-08:00")
    with pytest.raises(ValueError, match="is empty"):
        Window.parse("08:00-08:00")
    assert Window.parse("00:00-24:00") == Window(0, 86_400)
    with pytest.raises(ValueError, match="overlap"):
        chicago({"mon": ["08:00-12:00", "11:00-13:00"]})


def test_holds_group_the_same_way_when_one_sort_key_would_overflow() -> None:
    ticket = np.array([2, 0, 2, 1, 0], dtype=np.int64)
    start = np.array([5, 9, -(2**61), 3, 2**61], dtype=np.int64)
    end = start + 1
    grouped = Holds.group(ticket, start, end)
    assert grouped.ticket.tolist() == [0, 0, 1, 2, 2]
    assert grouped.start.tolist() == [9, 2**61, 3, -(2**61), 5]
    small = Holds.group(ticket, np.array([5, 9, 1, 3, 7]), np.array([6, 10, 2, 4, 8]))
    assert small.start.tolist() == [7, 9, 3, 1, 5]


def test_instants_outside_the_built_years_are_refused() -> None:
    intervals = open_intervals(chicago(), 2025, 2025)
    inside = np.array([at("2025-06-09T09:00")], dtype=np.int64)
    assert business_seconds(intervals, inside, inside + HOUR).tolist() == [HOUR]
    with pytest.raises(ValueError, match="outside the calendar's built span"):
        business_seconds(intervals, inside, inside + 365 * 86_400)
    with pytest.raises(ValueError, match="empty year range"):
        open_intervals(chicago(), 2026, 2025)
