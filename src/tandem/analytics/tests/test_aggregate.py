"""Aggregates, tickets behind them, breaches and at-risk clocks: hand-computed cases and the
invariants (roll-ups add up, every row's tickets are its count, attainment in [0, 1])."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.aggregate import (
    AGGREGATES,
    BY_PRIORITY,
    BY_SIDE,
    FINEST,
    aggregates,
    tickets_behind,
)
from tandem.analytics.breaches import AT_RISK, at_risk, breaches
from tandem.analytics.frames import MEASUREMENTS
from tandem.analytics.tests.helpers import HOUR, at, hold_frame, ticket_frame
from tandem.analytics.tests.test_measure import MONDAY_9, POLICY

JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)
SIDES = pl.DataFrame({"assignment_group": ["Desk", "NW-L2"], "side": ["client", "vendor"]})
OPENED = at("2025-06-02T09:00Z")


def measured(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    """``(ticket_id, metric, elapsed, target)`` rows as MEASUREMENTS."""
    return pl.DataFrame(
        [(t, m, e, w, e <= w) for t, m, e, w in rows], schema=MEASUREMENTS, orient="row"
    )


# A..G resolved; H still open. F resolves 03:00 UTC on July 1st (June in Chicago), E at
# 06:00 UTC (01:00 CDT, July).
TICKETS = ticket_frame(
    [
        ("A", "P1", OPENED, OPENED + 60, at("2025-06-10T12:00Z")),
        ("B", "P1", OPENED, None, at("2025-06-11T12:00Z")),
        ("C", "P1", OPENED, None, at("2025-06-12T12:00Z")),
        ("D", "P1", OPENED, None, at("2025-06-13T12:00Z")),
        ("E", "P1", OPENED, None, at("2025-07-01T06:00Z")),
        ("F", "P1", OPENED, None, at("2025-07-01T03:00Z")),
        ("G", "P1", OPENED, None, at("2025-06-14T12:00Z")),
        ("H", "P1", OPENED, None, None),
    ],
    groups=["Desk", "Desk", "Desk", "NW-L2", "NW-L2", None, "Other", "Desk"],
)
MEASURED = measured(
    [
        ("A", "response", 60, 900),
        ("A", "resolution", 100, 4 * HOUR),
        ("B", "resolution", 300, 4 * HOUR),
        ("C", "resolution", 20_000, 4 * HOUR),
        ("D", "resolution", 50, 4 * HOUR),
        ("E", "resolution", 15_000, 4 * HOUR),
        ("F", "resolution", 10, 4 * HOUR),
        ("G", "resolution", 200, 4 * HOUR),
        ("H", "resolution", 99_000, 4 * HOUR),  # open: never counted
    ]
)


def table(by: tuple[str, ...] = FINEST) -> pl.DataFrame:
    return aggregates(MEASURED, TICKETS, POLICY, SIDES, timezone="America/Chicago", by=by)


def test_the_finest_groups_by_hand() -> None:
    result = table()
    assert result.schema == pl.Schema(AGGREGATES)
    assert result.rows() == [
        # Desk: 100, 300, 20000 -> median rank ceil(1.5) = 2, p90 rank ceil(2.7) = 3.
        (JUNE, "resolution", "P1", "Desk", "client", 3, 2, 2 / 3, 0.9, 300, 20_000),
        (JUNE, "resolution", "P1", "NW-L2", "vendor", 1, 1, 1.0, 0.9, 50, 50),
        (JUNE, "resolution", "P1", "Other", "unmapped", 1, 1, 1.0, 0.9, 200, 200),
        (JUNE, "resolution", "P1", None, "unmapped", 1, 1, 1.0, 0.9, 10, 10),
        (JUNE, "response", "P1", "Desk", "client", 1, 1, 1.0, None, 60, 60),
        (JULY, "resolution", "P1", "NW-L2", "vendor", 1, 0, 0.0, 0.9, 15_000, 15_000),
    ]


def test_roll_ups_by_hand() -> None:
    assert table(BY_SIDE).rows() == [
        (JUNE, "resolution", "P1", "client", 3, 2, 2 / 3, 0.9, 300, 20_000),
        # F and G: 10, 200 -> median rank 1 = 10, p90 rank ceil(1.8) = 2 = 200.
        (JUNE, "resolution", "P1", "unmapped", 2, 2, 1.0, 0.9, 10, 200),
        (JUNE, "resolution", "P1", "vendor", 1, 1, 1.0, 0.9, 50, 50),
        (JUNE, "response", "P1", "client", 1, 1, 1.0, None, 60, 60),
        (JULY, "resolution", "P1", "vendor", 1, 0, 0.0, 0.9, 15_000, 15_000),
    ]
    assert table(BY_PRIORITY).rows()[0] == (JUNE, "resolution", "P1", 6, 5, 5 / 6, 0.9, 100, 20_000)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [([7], 7, 7), (list(range(1, 11)), 5, 9), (list(range(1, 12)), 6, 10), ([5, 1], 1, 5)],
)
def test_percentiles_are_nearest_rank(values: list[int], median: int, p90: int) -> None:
    ids = [f"T{i}" for i in range(len(values))]
    tickets = ticket_frame([(i, "P1", OPENED, None, OPENED + 60) for i in ids])
    rows = measured([(i, "resolution", v, 4 * HOUR) for i, v in zip(ids, values, strict=True)])
    result = aggregates(rows, tickets, POLICY, timezone="UTC", by=BY_PRIORITY)
    assert result.select("median_seconds", "p90_seconds").row(0) == (median, p90)


def test_tickets_behind_a_row() -> None:
    def behind(**keys: str | date | bool | None) -> list[str]:
        found = tickets_behind(MEASURED, TICKETS, timezone="America/Chicago", sides=SIDES, **keys)
        return found.to_list()

    june: dict[str, str | date | bool | None]
    june = {"month": JUNE, "metric": "resolution", "priority": "P1"}
    assert behind(**june, side="unmapped") == ["F", "G"]
    assert behind(**june, assignment_group=None) == ["F"]
    assert behind(**june, met=False) == ["C"]
    assert behind(month=JUNE) == ["A", "B", "C", "D", "F", "G"]  # A once, for two metrics
    with pytest.raises(ValueError, match="unknown key 'team'"):
        behind(team="Desk")


def test_bad_side_mappings_and_groupings_are_refused() -> None:
    twice = pl.DataFrame({"assignment_group": ["Desk", "Desk"], "side": ["client", "vendor"]})
    with pytest.raises(ValueError, match="group 'Desk' is mapped more than once"):
        aggregates(MEASURED, TICKETS, POLICY, twice, timezone="UTC")
    wrong = pl.DataFrame({"assignment_group": ["Desk"], "side": ["supplier"]})
    with pytest.raises(ValueError, match="side 'supplier' for group 'Desk'"):
        aggregates(MEASURED, TICKETS, POLICY, wrong, timezone="UTC")
    with pytest.raises(ValueError, match="subset of"):
        aggregates(MEASURED, TICKETS, POLICY, timezone="UTC", by=("month", "side"))


def test_breaches_carry_their_overrun() -> None:
    result = breaches(MEASURED)
    assert result.columns == [*MEASUREMENTS, "overrun_seconds"]
    assert result.select("ticket_id", "overrun_seconds").rows() == [
        ("C", 20_000 - 4 * HOUR),
        ("E", 15_000 - 4 * HOUR),
        ("H", 99_000 - 4 * HOUR),  # open but already over: a breach nothing can undo
    ]


def test_at_risk_flags_open_clocks_at_75_and_90_percent() -> None:
    # POLICY: P1 response 15 min (no pause), resolution 4 h pausing on hold, both 24x7.
    now = MONDAY_9 + 4 * HOUR
    tickets = ticket_frame(
        [
            ("T1", "P1", now - 720, None, None),  # response 80%; resolution 5%
            ("T2", "P1", now - 840, None, None),  # response 93%
            ("T3", "P1", now - 1200, None, None),  # response breached: not at risk
            ("T4", "P1", now - 12_960, now - 12_900, None),  # resolution exactly 90%
            ("T5", "P1", now - 4 * HOUR, now - 4 * HOUR, None),  # 4 h less 1 h held: 75%
            ("T6", "P1", now - 899, now - 1, now),  # stopped: never at risk
            ("T7", "P1", now - 674, None, None),  # response 74.9%
            ("T8", "P3", now - 71 * HOUR, now, None),  # Fri 14-17 + Mon 8-13 of 9 h: 89%
        ]
    )
    holds = hold_frame([("T5", now - 3 * HOUR, now - 2 * HOUR)])
    result = at_risk(tickets, holds, POLICY, datetime.fromtimestamp(now, UTC))
    assert result.schema == pl.Schema(AT_RISK)
    assert result.select(pl.exclude("consumed")).rows() == [
        ("T2", "response", 840, 900, 60, "90%"),
        ("T1", "response", 720, 900, 180, "75%"),
        ("T4", "resolution", 12_960, 4 * HOUR, 1440, "90%"),
        ("T5", "resolution", 3 * HOUR, 4 * HOUR, HOUR, "75%"),  # a tie: by ticket id
        ("T8", "resolution", 8 * HOUR, 9 * HOUR, HOUR, "75%"),
    ]
    assert result["consumed"].to_list()[:3] == [840 / 900, 0.8, 0.9]


GROUPS = ["Desk", "NW-L2", "NW-L3", "Other", None]


@st.composite
def batches(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tickets resolved over three months around DST, and measurements for both metrics."""
    n = draw(st.integers(1, 30))
    rows, groups, measurements = [], [], []
    for i in range(n):
        opened = at("2025-09-15T12:00Z") + draw(st.integers(0, 60 * 86_400))
        responded = draw(st.one_of(st.none(), st.integers(opened, opened + 86_400)))
        resolved = draw(st.one_of(st.none(), st.integers(opened, opened + 20 * 86_400)))
        priority = draw(st.sampled_from(["P1", "P3"]))
        rows.append((f"T{i}", priority, opened, responded, resolved))
        groups.append(draw(st.sampled_from(GROUPS)))
        for metric in ("response", "resolution"):
            if draw(st.booleans()):
                measurements.append((f"T{i}", metric, draw(st.integers(0, 40_000)), 14_400))
    return ticket_frame(rows, groups), measured(measurements)


@settings(max_examples=80)
@given(batches(), st.sampled_from(["America/Chicago", "UTC", "Asia/Kolkata"]))
def test_roll_ups_add_up_and_every_row_has_its_tickets(
    batch: tuple[pl.DataFrame, pl.DataFrame], timezone: str
) -> None:
    tickets, rows = batch
    finest, by_side, by_priority = (
        aggregates(rows, tickets, POLICY, SIDES, timezone=timezone, by=by)
        for by in (FINEST, BY_SIDE, BY_PRIORITY)
    )
    for fine, coarse in ((finest, by_side), (by_side, by_priority), (finest, by_priority)):
        keys = [k for k in FINEST if k in coarse.columns]
        summed = fine.group_by(keys).agg(pl.col("count").sum(), pl.col("met").sum()).sort(keys)
        assert summed.cast({"count": pl.UInt32, "met": pl.UInt32}).equals(
            coarse.select(*keys, "count", "met")
        )
    for result in (finest, by_side, by_priority):
        assert result["attainment"].is_between(0, 1).all()
        assert (result["median_seconds"] <= result["p90_seconds"]).all()
    for row in finest.head(3).iter_rows(named=True):  # three rows: each costs a join
        where = {k: row[k] for k in FINEST}
        ids = tickets_behind(rows, tickets, timezone=timezone, sides=SIDES, **where)
        assert len(ids) == row["count"]
        missed = tickets_behind(rows, tickets, timezone=timezone, sides=SIDES, **where, met=False)
        assert len(missed) == row["count"] - row["met"]
