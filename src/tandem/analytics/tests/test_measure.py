"""measure() and attainment(): frames in, the MEASUREMENTS frame out, equal to the oracle."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from types import MappingProxyType

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tandem.analytics import matching
from tandem.analytics.attainment import attainment, attainment_of_tickets
from tandem.analytics.calendar import BusinessCalendar
from tandem.analytics.frames import MEASUREMENTS
from tandem.analytics.measure import measure
from tandem.analytics.policy import Policy, Target, parse_policy
from tandem.analytics.tests import oracle
from tandem.analytics.tests.helpers import HOUR, at, hold_frame, ticket_frame
from tandem.analytics.tests.strategies import calendars, tickets

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

POLICY = parse_policy(
    """
[calendars.business]
timezone = "America/Chicago"
[calendars.business.weekly]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]
thu = ["08:00-17:00"]
fri = ["08:00-17:00"]
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"
[[targets]]
priority = "P1"
metric = "response"
calendar = "always"
within = "15m"
pause_on_hold = false
[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "4h"
pause_on_hold = true
goal = 0.9
[[targets]]
priority = "P3"
metric = "resolution"
calendar = "business"
within = "9h"
pause_on_hold = true
"""
)


MONDAY_9 = at("2025-06-09T09:00")


def test_one_row_per_ticket_and_applicable_target_in_ticket_order() -> None:
    tickets = ticket_frame(
        [
            ("INC3", "P3", MONDAY_9, None, MONDAY_9 + 24 * HOUR),  # 8 h Monday + 1 h Tuesday
            ("INC1", "P1", MONDAY_9, MONDAY_9 + 900, MONDAY_9 + 5 * HOUR),
            ("INC2", "P2", MONDAY_9, MONDAY_9 + 60, MONDAY_9 + 60),  # no P2 target
            ("INC4", None, MONDAY_9, MONDAY_9 + 60, MONDAY_9 + 60),  # unknown priority
        ]
    )
    holds = hold_frame(
        [
            ("INC1", MONDAY_9 + HOUR, MONDAY_9 + 2 * HOUR),  # 1 h of INC1's 5 h
            ("INC1", MONDAY_9 + 90 * 60, MONDAY_9 + 2 * HOUR),  # inside the first: once
            ("INC3", MONDAY_9 + 24 * HOUR, None),  # from resolution on: clipped away
            ("INC9", MONDAY_9, MONDAY_9 + HOUR),  # no such ticket: ignored
        ]
    )
    result = measure(tickets, holds, POLICY)
    assert result.schema == pl.Schema(MEASUREMENTS)
    assert result.rows() == [
        ("INC3", "resolution", 9 * HOUR, 9 * HOUR, True),
        ("INC1", "response", 900, 900, True),  # pause_on_hold = false: holds ignored
        ("INC1", "resolution", 4 * HOUR, 4 * HOUR, True),
    ]


def test_open_tickets_are_measured_only_up_to_an_as_of_instant() -> None:
    tickets = ticket_frame(
        [
            ("INC1", "P1", MONDAY_9, None, None),
            ("INC2", "P1", MONDAY_9, MONDAY_9 + 600, None),
            ("INC3", "P1", MONDAY_9 + 10 * HOUR, None, None),  # opened after as_of
        ]
    )
    holds = hold_frame([("INC2", MONDAY_9 + HOUR, None)])  # still on hold
    assert measure(tickets, holds, POLICY).rows() == [("INC2", "response", 600, 900, True)]
    as_of = datetime.fromtimestamp(MONDAY_9 + 5 * HOUR, UTC)
    assert measure(tickets, holds, POLICY, as_of).rows() == [
        ("INC1", "response", 5 * HOUR, 900, False),  # over: a breach already
        ("INC1", "resolution", 5 * HOUR, 4 * HOUR, False),
        ("INC2", "response", 600, 900, True),
        ("INC2", "resolution", HOUR, 4 * HOUR, True),  # within target so far
        ("INC3", "response", 0, 900, True),
        ("INC3", "resolution", 0, 4 * HOUR, True),
    ]


def test_rows_follow_the_policys_target_order_within_a_ticket() -> None:
    swapped = Policy(
        POLICY.calendars,
        (
            Target("P1", "resolution", "always", 4 * HOUR, False),
            Target("P1", "response", "always", 900, False),
            Target("P3", "response", "business", HOUR, False),
            Target("P3", "resolution", "business", 9 * HOUR, False),
        ),
    )
    tickets = ticket_frame(
        [
            ("A", "P1", MONDAY_9, MONDAY_9 + 60, MONDAY_9 + HOUR),
            ("B", "P3", MONDAY_9, MONDAY_9 + 120, None),
            ("C", "P1", MONDAY_9, None, MONDAY_9 + 2 * HOUR),
        ]
    )
    assert measure(tickets, hold_frame([]), swapped).rows() == [
        ("A", "resolution", HOUR, 4 * HOUR, True),
        ("A", "response", 60, 900, True),
        ("B", "response", 120, HOUR, True),
        ("C", "resolution", 2 * HOUR, 4 * HOUR, True),
    ]
    twice = Policy(POLICY.calendars, (*swapped.targets, swapped.targets[0]))
    with pytest.raises(ValueError, match="a second resolution target for P1"):
        measure(tickets, hold_frame([]), twice)


def test_no_tickets_no_rows() -> None:
    assert measure(ticket_frame([]), hold_frame([]), POLICY).schema == pl.Schema(MEASUREMENTS)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A", "P1", 0, None, None), ("A", "P1", 0, None, None)], "duplicate ticket ids A"),
        ([("A", "P1", 100, None, 50)], "resolved_at before opened_at for A"),
        ([("A", "P1", 100, 50, None)], "responded_at before opened_at for A"),
        ([("A", "P1", None, None, None)], "no opened_at for A"),
    ],
)
def test_input_it_cannot_measure_honestly_is_refused(
    rows: list[tuple[str, str, int, int | None, int | None]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        measure(ticket_frame(rows), hold_frame([]), POLICY)


def test_naive_instants_are_refused() -> None:
    tickets = ticket_frame([("A", "P1", MONDAY_9, None, None)])
    with pytest.raises(ValueError, match="as_of must carry a time zone"):
        measure(tickets, hold_frame([]), POLICY, datetime(2025, 6, 9))
    naive = tickets.with_columns(pl.col("opened_at").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="opened_at: expected a time-zone-aware Datetime"):
        measure(naive, hold_frame([]), POLICY)


def test_attainment_per_metric_priority_and_month() -> None:
    june, july = at("2025-06-30T20:00"), at("2025-07-01T09:00")  # 01:00 UTC on July 1st
    tickets = ticket_frame(
        [
            ("A", "P1", june, june + 60, june + HOUR),
            ("B", "P1", june, june + 3600, june + 5 * HOUR),  # both late
            ("C", "P1", july, july + 60, None),  # open: not counted
        ]
    )
    as_of = datetime.fromtimestamp(july + 10 * HOUR, UTC)
    measured = measure(tickets, hold_frame([]), POLICY, as_of)
    overall = attainment(measured, tickets, POLICY)
    assert overall.rows() == [
        ("resolution", "P1", 2, 1, 0.5, 0.9),
        ("response", "P1", 3, 2, 2 / 3, None),
    ]
    monthly = attainment(measured, tickets, POLICY, timezone="America/Chicago")
    assert monthly.rows() == [
        (date(2025, 6, 1), "resolution", "P1", 1, 1, 1.0, 0.9),  # A: 20:00 + 1 h, in June
        (date(2025, 6, 1), "response", "P1", 2, 1, 0.5, None),
        (date(2025, 7, 1), "resolution", "P1", 1, 0, 0.0, 0.9),  # B: 01:00 CDT July 1st
        (date(2025, 7, 1), "response", "P1", 1, 1, 1.0, None),
    ]


#: ``(priority, opened, responded, resolved, holds)``
Row = tuple[str | None, int, int | None, int | None, list[tuple[int, int | None]]]
Scenario = tuple[BusinessCalendar, BusinessCalendar, list[Row], int | None]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    first, second = draw(calendars()), draw(calendars())
    batch = draw(st.lists(tickets(first.timezone), min_size=1, max_size=8))
    rows: list[Row] = []
    for start, end, holds in batch:
        priority = draw(st.sampled_from(["P1", "P2", "P3", None]))
        responded = draw(st.one_of(st.none(), st.integers(start, end)))
        resolved = draw(st.one_of(st.none(), st.just(end)))
        rows.append((priority, start, responded, resolved, holds))
    as_of = draw(st.one_of(st.none(), st.integers(rows[0][1], rows[0][1] + 20 * 86_400)))
    return first, second, rows, as_of


@given(scenarios())
def test_measure_equals_the_oracle(scenario: Scenario) -> None:
    first, second, rows, as_of = scenario
    policy = Policy(
        MappingProxyType({"first": first, "second": second}),
        (
            Target("P1", "response", "first", HOUR, False),
            Target("P1", "resolution", "second", 8 * HOUR, True),
            Target("P2", "resolution", "first", 8 * HOUR, True),
            Target("P3", "response", "second", HOUR, True),
        ),
    )
    ids = [f"T{i}" for i in range(len(rows))]
    tickets = ticket_frame(
        [(i, p, start, resp, res) for i, (p, start, resp, res, _) in zip(ids, rows, strict=True)]
    )
    holds = hold_frame([(i, a, b) for i, row in zip(ids, rows, strict=True) for a, b in row[4]])
    when = None if as_of is None else datetime.fromtimestamp(as_of, UTC)
    expected = []
    for i, (priority, start, responded, resolved, hold_list) in zip(ids, rows, strict=True):
        for target in policy.targets:
            if target.priority != priority:
                continue
            stop = responded if target.metric == "response" else resolved
            if stop is None:
                if as_of is None:
                    continue
                stop = max(as_of, start)
            calendar = policy.calendars[target.calendar]
            elapsed = oracle.elapsed(
                calendar, start, stop, hold_list if target.pause_on_hold else ()
            )
            expected.append(
                (i, target.metric, elapsed, target.within_seconds, elapsed <= target.within_seconds)
            )
    measured = measure(tickets, holds, policy, when)
    assert measured.rows() == expected
    table = attainment(measured, tickets, policy, timezone="America/New_York")
    assert table["attainment"].is_between(0, 1).all()
    assert int(table["met"].sum()) <= int(table["count"].sum()) <= len(measured)
    # The report's way (counted from the clocks, no rows, no join) gives the same frames.
    for zone in (None, "America/New_York", first.timezone, "Australia/Lord_Howe"):
        assert_frame_equal(
            attainment_of_tickets(tickets, holds, policy, timezone=zone, as_of=when),
            attainment(measured, tickets, policy, timezone=zone),
        )


def test_holds_match_by_id_exactly_whatever_the_hashes_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids out of order are matched on 64-bit hashes and then checked as strings; with hashes
    that collide on purpose (the first two characters), the result is still the string
    join's."""

    def crude(ids: pl.Series) -> pl.Series:
        return ids.cast(pl.String).str.slice(0, 2).hash(seed=1)

    tickets = ticket_frame(
        [
            ("B1", "P1", MONDAY_9, MONDAY_9 + 60, MONDAY_9 + 5 * HOUR),
            ("A1", "P1", MONDAY_9, MONDAY_9 + 60, MONDAY_9 + 5 * HOUR),
        ]
    )
    holds = hold_frame(
        [
            ("B1", MONDAY_9 + HOUR, MONDAY_9 + 2 * HOUR),
            ("A1x", MONDAY_9, MONDAY_9 + 4 * HOUR),  # A1's hash, another id: no such ticket
            ("A1", MONDAY_9 + HOUR, MONDAY_9 + 3 * HOUR),
        ]
    )
    expected = measure(tickets, holds, POLICY)
    assert expected["elapsed_seconds"].to_list() == [60, 4 * HOUR, 60, 3 * HOUR]
    monkeypatch.setattr(matching, "_hashes", crude)
    assert measure(tickets, holds, POLICY).equals(expected)  # unique hashes, one false match
    colliding = pl.concat(
        [tickets, ticket_frame([("A1b", "P1", MONDAY_9, MONDAY_9 + 60, MONDAY_9 + HOUR)])]
    )  # out of order still: B1, A1, A1b
    result = measure(colliding, holds, POLICY)  # ticket hashes collide: the exact join
    assert result.head(4).equals(expected)
    with pytest.raises(ValueError, match="duplicate ticket ids B1"):
        measure(pl.concat([colliding, tickets.head(1)]), holds, POLICY)
