"""Stopped clocks and their months: the same rows whichever way the tickets are found (the
ticket order, a search on sorted ids or a join), and months read on the wall clock."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tandem.analytics.aggregate import aggregates, stopped_clocks
from tandem.analytics.attainment import attainment, attainment_of_tickets
from tandem.analytics.frames import MEASUREMENTS
from tandem.analytics.measure import STOPS, measure
from tandem.analytics.tests.helpers import at, hold_frame, ticket_frame
from tandem.analytics.tests.test_measure import POLICY

CHICAGO = "America/Chicago"
T0 = at("2020-10-31T12:00Z")  # around the first of November 2020, a Sunday with two 01:30s


def reference(measurements: pl.DataFrame, tickets: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """The stopped clocks by the plain route: a two-key join on the unpivoted stops."""
    group = (
        pl.col("assignment_group")
        if "assignment_group" in tickets.columns
        else pl.lit(None, pl.String()).alias("assignment_group")
    )
    stops = tickets.select(
        "ticket_id",
        "priority",
        group,
        *(pl.col(column).alias(metric) for metric, column in STOPS.items()),
    ).unpivot(
        index=["ticket_id", "priority", "assignment_group"],
        variable_name="metric",
        value_name="stopped_at",
    )
    wall = pl.col("stopped_at").dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return (
        measurements.join(stops, on=["ticket_id", "metric"], how="inner", maintain_order="left")
        .filter(pl.col("stopped_at").is_not_null())
        .with_columns(
            wall.dt.month_start().dt.date().alias("month"), pl.lit("unmapped").alias("side")
        )
    )


def test_a_clock_stopping_in_a_repeated_hour_counts_in_its_month() -> None:
    # 01:30 on November 15th: the first of that month had two 01:30s in Chicago.
    tickets = ticket_frame(
        [
            ("A", "P1", T0, None, at("2020-11-15T01:30")),
            ("B", "P1", T0, None, at("2020-11-01T01:30")),
            ("C", "P1", T0, None, at("2020-10-31T23:59")),
        ]
    )
    measured = pl.DataFrame(
        [(t, "resolution", 60, 3600, True) for t in "ABC"], schema=MEASUREMENTS, orient="row"
    )
    table = attainment(measured, tickets, POLICY, timezone=CHICAGO)
    assert table.select("month", "count").rows() == [(date(2020, 10, 1), 1), (date(2020, 11, 1), 2)]
    rows = stopped_clocks(measured, tickets, timezone=CHICAGO)
    assert rows["month"].to_list() == [date(2020, 11, 1), date(2020, 11, 1), date(2020, 10, 1)]


ids = st.sampled_from(["A", "B", "C", "D", "E", "F"])
stop = st.one_of(st.none(), st.integers(-3 * 86_400, 3 * 86_400).map(lambda s: T0 + s))
ticket = st.tuples(ids, st.sampled_from(["P1", "P2", "P3", None]), stop, stop)


@st.composite
def frames(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows = draw(st.lists(ticket, max_size=8))
    order = draw(st.sampled_from(["as drawn", "sorted, unique", "with a null id"]))
    if order == "sorted, unique":
        rows = sorted({r[0]: r for r in rows}.values())
    groups = st.lists(st.sampled_from(["Desk", "NW", None]), min_size=len(rows), max_size=len(rows))
    tickets = ticket_frame([(t, p, T0, a, b) for t, p, a, b in rows], groups=draw(groups))
    if order == "with a null id":
        first = pl.int_range(pl.len()) == 0
        tickets = tickets.with_columns(pl.when(~first).then(pl.col("ticket_id")).alias("ticket_id"))
    if draw(st.booleans()):  # measured in ticket order, as measure() writes them
        least = draw(st.integers(0, 1))  # 1: every ticket measured
        metrics = st.sets(st.sampled_from(list(STOPS)), min_size=least)
        keys = [(t, m) for t, *_ in rows for m in draw(metrics)]
    else:
        keys = draw(st.lists(st.tuples(ids, st.sampled_from([*STOPS, "other"])), max_size=12))
    measured = pl.DataFrame(
        [(t, m, e, 100, e <= 100) for e, (t, m) in enumerate(keys)],
        schema=MEASUREMENTS,
        orient="row",
    )
    return measured, tickets


@settings(max_examples=300, deadline=None)
@given(frames())
def test_the_stopped_clocks_are_the_two_key_joins(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    measured, tickets = data
    expected = reference(measured, tickets, CHICAGO)
    got = stopped_clocks(measured, tickets, timezone=CHICAGO)
    assert_frame_equal(got, expected.select(got.columns))
    table = attainment(measured, tickets, POLICY, timezone=CHICAGO)
    assert table["count"].sum() == expected.height
    assert table["met"].sum() == expected["met"].sum()
    by_month = expected.group_by("month", "metric", "priority").len().sort(pl.all())
    assert table.select("month", "metric", "priority", len="count").rows() == by_month.rows()
    finest = aggregates(measured, tickets, POLICY, timezone=CHICAGO)
    assert finest["count"].sum() == expected.height


@pytest.mark.parametrize("zone", [None, CHICAGO])
@pytest.mark.parametrize(
    "rows",
    [
        [],  # no tickets
        [("A", "P9", T0, T0 + 60, T0 + 90)],  # no priority the policy has targets for
        [("A", None, T0, None, None), ("B", "P1", T0, None, None)],  # nothing stopped
        [("A", "P1", T0, T0 + 60, None), ("B", "P1", T0 + 1, None, T0 + 86_400 * 40)],
    ],
)
def test_attainment_of_tickets_equals_the_rows_way_at_the_edges(
    rows: list[tuple[str, str | None, int, int | None, int | None]], zone: str | None
) -> None:
    tickets = ticket_frame(rows)
    holds = hold_frame([])
    expected = attainment(measure(tickets, holds, POLICY), tickets, POLICY, timezone=zone)
    found = attainment_of_tickets(tickets, holds, POLICY, timezone=zone)
    assert_frame_equal(found, expected)
