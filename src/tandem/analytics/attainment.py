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


def attainment(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    policy: Policy,
    *,
    timezone: str | None = None,
) -> pl.DataFrame:
    """Count, met and attainment per metric × priority, and per month when ``timezone`` is
    given, for the clocks that stopped; sorted by month, metric, priority."""
    stops = tickets.select(
        "ticket_id",
        "priority",
        *(pl.col(column).alias(metric) for metric, column in STOPS.items()),
    ).unpivot(index=["ticket_id", "priority"], variable_name="metric", value_name="stopped_at")
    rows = measurements.join(stops, on=["ticket_id", "metric"], how="inner").filter(
        pl.col("stopped_at").is_not_null()
    )
    keys = ["metric", "priority"]
    if timezone is not None:
        month = pl.col("stopped_at").dt.convert_time_zone(timezone).dt.month_start().dt.date()
        rows = rows.with_columns(month.alias("month"))
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
