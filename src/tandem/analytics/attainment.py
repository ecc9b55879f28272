"""Attainment: the share of tickets that met each target, per metric and priority (and month).

Only stopped clocks count. A ticket still open at the as-of instant has no final verdict
while within its target, so counting it would make a month's number move as tickets close;
open tickets belong in the at-risk list instead. A clock counts in the month, in the
engagement's time zone, in which it stopped (``responded_at`` for response, ``resolved_at``
for resolution), so a closed month's numbers do not change when later tickets resolve.
"""

from __future__ import annotations

import polars as pl

from tandem.analytics.measure import STOPS
from tandem.analytics.policy import Policy

#: The columns of :func:`attainment`'s frame (``month`` only when a time zone is given).
ATTAINMENT: dict[str, pl.DataType] = {
    "month": pl.Date(),  # the first day of the month
    "metric": pl.String(),
    "priority": pl.String(),
    "count": pl.UInt32(),
    "met": pl.UInt32(),
    "attainment": pl.Float64(),  # met / count, in [0, 1]
    "goal": pl.Float64(),  # the target's goal; null when the target has none
}


def stopped(measurements: pl.DataFrame, tickets: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """The measurements whose clock stopped, in measurement order, with ``stopped_at`` (the
    ticket's ``responded_at`` or ``resolved_at`` by metric) and the tickets' ``columns``.

    As an inner join on ``ticket_id``: a measurement of a ticket not in ``tickets`` is left
    out, one of a ticket listed twice counts twice."""
    stops = {column: f"__{column}" for column in STOPS.values()}
    right = tickets.select(*columns, *(pl.col(c).alias(alias) for c, alias in stops.items()))
    rows = (
        None
        if set(right.columns) & set(measurements.columns)
        else _ticket_rows(measurements, tickets)
    )
    if rows is None:
        joined = measurements.join(
            right.with_columns(tickets["ticket_id"]),
            on="ticket_id",
            how="inner",
            maintain_order="left",
        )
    else:
        joined = measurements.hstack(right[rows])
    stop = pl.coalesce(
        pl.when(pl.col("metric") == metric).then(pl.col(stops[column]))
        for metric, column in STOPS.items()
    )
    return (
        joined.with_columns(stop.alias("stopped_at"))
        .filter(pl.col("stopped_at").is_not_null())
        .drop(*stops.values())
    )


def _ticket_rows(measurements: pl.DataFrame, tickets: pl.DataFrame) -> pl.Series | None:
    """The row in ``tickets`` of each measurement's ticket, without a join, when the answer
    is plain: ids without nulls, each ticket once (its ids strictly increasing, or every
    ticket measured in ticket order) and every measured ticket among them. ``None``: join."""
    ids, known = measurements["ticket_id"], tickets["ticket_id"]
    if ids.null_count() or known.null_count():
        return None
    first = ids.ne_missing(ids.shift(1))  # the first measurement of each run of one ticket
    runs = ids.filter(first)
    run = first.cast(pl.Int64).cum_sum() - 1
    increasing = bool((known.tail(-1) > known.head(-1)).all())
    if runs.len() == known.len() and bool(runs.eq_missing(known).all()):
        if increasing or known.n_unique() == known.len():
            return run
        return None
    if not increasing:
        return None
    found = known.search_sorted(runs).cast(pl.Int64)
    if not bool((found < known.len()).all()) or not bool(known.gather(found).eq(runs).all()):
        return None  # a measured ticket missing from ``tickets``
    return found.gather(run)


def stop_month(timezone: str) -> pl.Expr:
    """The first day of the month, in ``timezone``, of ``stopped_at``; read on the wall clock
    (naive), so a month whose first midnight does not exist there still has a first day."""
    local = pl.col("stopped_at").dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return local.dt.month_start().dt.date()


def attainment(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    policy: Policy,
    *,
    timezone: str | None = None,
) -> pl.DataFrame:
    """Count, met and attainment per metric × priority, and per month when ``timezone`` is
    given, for the clocks that stopped; sorted by month, metric, priority."""
    rows = stopped(measurements, tickets, "priority")
    keys = ["metric", "priority"]
    if timezone is not None:
        rows = rows.with_columns(stop_month(timezone).alias("month"))
        keys = ["month", *keys]
    goals = pl.DataFrame(
        {
            "metric": [t.metric for t in policy.targets],
            "priority": [t.priority for t in policy.targets],
            "goal": [t.goal for t in policy.targets],
        },
        schema={"metric": pl.String(), "priority": pl.String(), "goal": pl.Float64()},
    )
    table = (
        rows.group_by(keys)
        .agg(
            pl.len().cast(pl.UInt32).alias("count"),
            pl.col("met").sum().cast(pl.UInt32).alias("met"),
        )
        .with_columns((pl.col("met") / pl.col("count")).alias("attainment"))
        .join(goals, on=["metric", "priority"], how="left")
        .sort(keys)
    )
    schema = {k: v for k, v in ATTAINMENT.items() if k != "month" or timezone is not None}
    return table.select(list(schema)).cast(schema)  # type: ignore[arg-type]
