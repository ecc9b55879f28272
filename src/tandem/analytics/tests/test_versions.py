"""Versioned policies: each ticket measured under the version in force on its local opening day,
month-level numbers under the version in force that month, and the version list checked."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tandem.analytics.aggregate import BY_PRIORITY, aggregates
from tandem.analytics.attainment import attainment
from tandem.analytics.measure import measure
from tandem.analytics.policy import parse_policy
from tandem.analytics.tests.helpers import HOUR, at, hold_frame, ticket_frame
from tandem.analytics.versions import (
    VERSIONED_AGGREGATES,
    VERSIONED_ATTAINMENT,
    VERSIONED_CREDITS,
    VERSIONED_MEASUREMENTS,
    aggregates_versions,
    attainment_versions,
    credits_versions,
    measure_versions,
)

CHICAGO = "America/Chicago"


def policy(within: str, goal: float, fee: str) -> str:
    return f"""
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"
[credits]
monthly_fee = "{fee}"
currency = "USD"
at_risk_percent = 10
[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "{within}"
pause_on_hold = true
goal = {goal}
credit_allocation_percent = 50
"""


V1 = parse_policy(policy("4h", 0.9, "100000"))
V2 = parse_policy(policy("2h", 0.95, "200000"))
JAN, FEB, MAR, APR = (date(2025, m, 1) for m in (1, 2, 3, 4))
VERSIONS = [(JAN, V1), (FEB, V2)]

# A opens on January 31st (local) and resolves in February after 3 h: v1's 4 h target, met,
# counted in February. B opens in February: v2's 2 h target, missed after 3 h. C opens and
# resolves in January after 5 h: missed under v1. D opened on December 31st: not measured.
TICKETS = ticket_frame(
    [
        ("A", "P1", at("2025-01-31T23:00"), None, at("2025-02-01T02:00")),
        ("B", "P1", at("2025-02-10T09:00"), None, at("2025-02-10T12:00")),
        ("C", "P1", at("2025-01-10T09:00"), None, at("2025-01-10T14:00")),
        ("D", "P1", at("2024-12-31T23:30"), None, at("2025-01-02T09:00")),
    ]
)
HOLDS = hold_frame([("A", at("2025-02-01T00:00"), at("2025-02-01T00:30"))])


def test_one_version_is_plain_measure() -> None:
    after = TICKETS.filter(pl.col("ticket_id") != "D")
    result = measure_versions(after, HOLDS, [(JAN, V1)], timezone=CHICAGO)
    assert result.measurements.schema == pl.Schema(VERSIONED_MEASUREMENTS)
    assert_frame_equal(result.measurements.drop("policy_version"), measure(after, HOLDS, V1))
    assert result.measurements["policy_version"].to_list() == [0, 0, 0]
    assert result.before_first.is_empty()
    assert result.before_first.columns == after.columns


def test_each_ticket_gets_its_versions_target() -> None:
    result = measure_versions(TICKETS, HOLDS, VERSIONS, timezone=CHICAGO)
    rows = {r[0]: r[1:] for r in result.measurements.rows()}
    # A: 3 h less the 30 min hold; v1's 4 h. B: v2's 2 h, missed. C: v1, missed.
    assert rows == {
        "A": ("resolution", 9000, 4 * HOUR, True, 0),
        "C": ("resolution", 5 * HOUR, 4 * HOUR, False, 0),
        "B": ("resolution", 3 * HOUR, 2 * HOUR, False, 1),
    }
    assert result.measurements["ticket_id"].to_list() == ["A", "C", "B"]  # by version
    assert result.before_first["ticket_id"].to_list() == ["D"]


def test_the_local_day_decides_across_offsets() -> None:
    # March 1st starts at 06:00 UTC in Chicago (CST), April 1st at 05:00 UTC (CDT, after the
    # DST change of March 9th).
    versions = [(FEB, V1), (MAR, V2), (APR, V1)]
    tickets = ticket_frame(
        [
            ("MAR-0030", "P1", at("2025-03-01T06:30Z"), None, None),  # 00:30 local: March
            ("FEB-2300", "P1", at("2025-03-01T05:00Z"), None, None),  # 23:00 Feb 28th
            ("MAR-0000", "P1", at("2025-03-01T06:00Z"), None, None),  # midnight itself
            ("FEB-LAST", "P1", at("2025-03-01T05:59:59Z"), None, None),
            ("APR-0000", "P1", at("2025-04-01T05:00Z"), None, None),
            ("MAR-LAST", "P1", at("2025-04-01T04:59:59Z"), None, None),
            ("MAR-UTC6", "P1", at("2025-04-01T05:30Z"), None, None),  # 00:30 CDT: April
        ]
    )
    result = measure_versions(
        tickets,
        hold_frame([]),
        versions,
        datetime.fromisoformat("2025-04-02T00:00Z"),
        timezone=CHICAGO,
    )
    version = dict(result.measurements.select("ticket_id", "policy_version").iter_rows())
    assert version == {
        "MAR-0030": 1,
        "FEB-2300": 0,
        "MAR-0000": 1,
        "FEB-LAST": 0,
        "APR-0000": 2,
        "MAR-LAST": 1,
        "MAR-UTC6": 2,
    }
    # The same instants in UTC days would be split differently.
    utc = measure_versions(
        tickets,
        hold_frame([]),
        versions,
        datetime.fromisoformat("2025-04-02T00:00Z"),
        timezone="UTC",
    )
    assert dict(utc.measurements.select("ticket_id", "policy_version").iter_rows())["FEB-2300"] == 1


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ([(JAN, V1), (date(2025, 2, 15), V2)], r"versions\[1\]: effective_from 2025-02-15 is not"),
        ([(FEB, V1), (JAN, V2)], r"versions\[1\]: effective_from 2025-01-01 is not after"),
        ([(JAN, V1), (JAN, V2)], r"is not after"),
        ([(datetime(2025, 1, 1), V1)], r"is not a date"),
        ([], "at least one"),
    ],
)
def test_bad_version_lists_are_refused(versions: list[tuple[date, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measure_versions(TICKETS, HOLDS, versions, timezone=CHICAGO)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        attainment_versions(pl.DataFrame(), TICKETS, versions, timezone=CHICAGO)  # type: ignore[arg-type]


def test_bad_tickets_and_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        measure_versions(TICKETS, HOLDS, VERSIONS, timezone="Mars/Olympus")
    twice = pl.concat([TICKETS, TICKETS.head(1)])
    with pytest.raises(ValueError, match="duplicate ticket ids A"):
        measure_versions(twice, HOLDS, VERSIONS, timezone=CHICAGO)
    naive = TICKETS.with_columns(pl.col("opened_at").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="time-zone-aware"):
        measure_versions(naive, HOLDS, VERSIONS, timezone=CHICAGO)
    with pytest.raises(ValueError, match="must include month"):
        aggregates_versions(pl.DataFrame(), TICKETS, VERSIONS, timezone=CHICAGO, by=BY_PRIORITY[1:])


def test_months_use_the_goal_of_their_version() -> None:
    measured = measure_versions(TICKETS, HOLDS, VERSIONS, timezone=CHICAGO).measurements
    result = attainment_versions(measured, TICKETS, VERSIONS, timezone=CHICAGO)
    assert result.schema == pl.Schema(VERSIONED_ATTAINMENT)
    # January: C missed (v1 goal 0.9). February: A met under v1's target, B missed: v2's goal.
    assert result.rows() == [
        (JAN, "resolution", "P1", 1, 0, 0.0, 0.9, 0),
        (FEB, "resolution", "P1", 2, 1, 0.5, 0.95, 1),
    ]
    table = aggregates_versions(measured, TICKETS, VERSIONS, timezone=CHICAGO, by=BY_PRIORITY)
    assert table.columns == [*BY_PRIORITY, *list(VERSIONED_AGGREGATES)[5:]]
    assert table.select("month", "count", "met", "goal", "policy_version").rows() == [
        (JAN, 1, 0, 0.9, 0),
        (FEB, 2, 1, 0.95, 1),
    ]


def test_one_version_aggregates_are_plain_aggregates() -> None:
    measured = measure_versions(TICKETS, HOLDS, [(JAN, V1)], timezone=CHICAGO).measurements
    plain = aggregates(measured, TICKETS, V1, timezone=CHICAGO)
    versioned = aggregates_versions(measured, TICKETS, [(JAN, V1)], timezone=CHICAGO)
    assert_frame_equal(versioned.drop("policy_version"), plain)
    assert_frame_equal(
        attainment_versions(measured, TICKETS, [(JAN, V1)], timezone=CHICAGO).drop(
            "policy_version"
        ),
        attainment(measured, TICKETS, V1, timezone=CHICAGO),
    )


def test_credits_use_the_terms_of_their_month() -> None:
    measured = measure_versions(TICKETS, HOLDS, VERSIONS, timezone=CHICAGO).measurements
    lines = credits_versions(measured, TICKETS, VERSIONS, timezone=CHICAGO)
    assert lines.schema == pl.Schema(VERSIONED_CREDITS)
    # January under v1: 100,000 × 10% × 50%. February under v2: 200,000 × 10% × 50%.
    assert lines.select("month", "missed", "goal", "due", "policy_version").rows() == [
        (JAN, True, 0.9, Decimal("5000.00"), 0),
        (FEB, True, 0.95, Decimal("10000.00"), 1),
    ]
