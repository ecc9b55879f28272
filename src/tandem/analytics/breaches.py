"""Breaches and tickets at risk: the lists a service manager works from every morning.

A breach is a measurement that did not meet its target, open or stopped: with an ``as_of``
instant, an open clock already past its target is a breach too, because no later event can
undo it. At-risk clocks are the open ones that have not breached yet but have used up at
least 75% of their target; they are the ones worth chasing today. Comparisons are done in
integers (``elapsed × 100 >= 75 × target``), so a clock at exactly 75% is flagged, whatever
float rounding would say.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from tandem.analytics.frames import MEASUREMENTS
from tandem.analytics.measure import STOPS, measure
from tandem.analytics.policy import Policy

#: The columns of :func:`breaches`: the measurement and by how much it missed.
BREACHES: dict[str, pl.DataType] = {
    **MEASUREMENTS,
    "overrun_seconds": pl.Int64(),  # elapsed - target, > 0
}

#: The columns of :func:`at_risk`.
AT_RISK: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "metric": pl.String(),
    "elapsed_seconds": pl.Int64(),
    "target_seconds": pl.Int64(),
    "remaining_seconds": pl.Int64(),  # target - elapsed, >= 0
    "consumed": pl.Float64(),  # elapsed / target, in [0.75, 1]; for display only
    "flag": pl.String(),  # "90%" (at least 90% consumed) or "75%" (at least 75%)
}


def breaches(measurements: pl.DataFrame) -> pl.DataFrame:
    """The measurements that missed their target, with ``overrun_seconds``; in their order."""
    overrun = pl.col("elapsed_seconds") - pl.col("target_seconds")
    return (
        measurements.filter(~pl.col("met"))
        .select(*MEASUREMENTS, overrun.alias("overrun_seconds"))
        .cast(BREACHES)  # type: ignore[arg-type]
    )


def at_risk(
    tickets: pl.DataFrame, holds: pl.DataFrame, policy: Policy, as_of: datetime
) -> pl.DataFrame:
    """Open clocks (no stop yet) with at least 75% of their target consumed at ``as_of`` and
    not over it; most urgent first (least remaining, then ticket id and metric).

    A clock at exactly its target has 0 seconds left and is still at risk, not breached,
    matching ``met = elapsed <= target`` in :func:`~tandem.analytics.measure.measure`.
    """
    still_open = pl.any_horizontal(pl.col(column).is_null() for column in STOPS.values())
    candidates = tickets.filter(still_open)
    measured = measure(candidates, holds, policy, as_of)
    stops = candidates.select(
        "ticket_id", *(pl.col(column).alias(metric) for metric, column in STOPS.items())
    ).unpivot(index="ticket_id", variable_name="metric", value_name="stopped_at")
    elapsed, target = pl.col("elapsed_seconds"), pl.col("target_seconds")
    rows = (
        measured.join(stops, on=["ticket_id", "metric"], how="inner")
        .filter(
            pl.col("stopped_at").is_null() & (elapsed * 100 >= target * 75) & (elapsed <= target)
        )
        .with_columns(
            (target - elapsed).alias("remaining_seconds"),
            (elapsed / target).alias("consumed"),
            pl.when(elapsed * 10 >= target * 9)
            .then(pl.lit("90%"))
            .otherwise(pl.lit("75%"))
            .alias("flag"),
        )
        .sort("remaining_seconds", "ticket_id", "metric")
    )
    return rows.select(list(AT_RISK)).cast(AT_RISK)  # type: ignore[arg-type]
