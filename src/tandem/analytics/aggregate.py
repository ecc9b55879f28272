"""Aggregates: service levels per month × priority × metric × assignment group × side.

The dashboards, the internal-vs-vendor parity view and the credits all read these numbers, and
each of them ends up in a dispute sooner or later, so every row is exact and traceable:

* ``count`` and ``met`` are integers and ``attainment`` is ``met / count``: a report can print
  the fraction itself ("47 of 50") instead of a rounded percentage;
* coarser tables (:data:`BY_SIDE`, :data:`BY_PRIORITY`) are computed from the same rows as the
  finest one, so their counts are the sums of the finer groups (a property test checks it);
* :func:`tickets_behind` returns the tickets behind any row, with the same keys.

As in ``attainment.py``, only stopped clocks count, in the month (in the engagement's time
zone) in which they stopped. Open clocks belong to :func:`tandem.analytics.breaches.at_risk`.

Percentiles are **nearest-rank**: the p-th percentile of n sorted values is the value at
1-based rank ``ceil(p × n / 100)``, computed in integers. It is always one of the measured
values (an elapsed time some ticket really had, in whole seconds, never an interpolation), so
"the p90 was 3 h 12 min" can be shown with its ticket. The median is the 50th percentile by
the same rule: the lower middle value when n is even.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from tandem.analytics.attainment import stop_month, stopped
from tandem.analytics.frames import SIDES
from tandem.analytics.policy import Policy

#: The finest grouping and the two roll-ups the reports use.
FINEST = ("month", "metric", "priority", "assignment_group", "side")
BY_SIDE = ("month", "metric", "priority", "side")
BY_PRIORITY = ("month", "metric", "priority")

SIDE_NAMES = ("client", "vendor")
#: The side of a group missing from the mapping (or of a ticket without a group).
UNMAPPED = "unmapped"

#: The columns of :func:`aggregates` (the key columns are those asked for, in FINEST order).
AGGREGATES: dict[str, pl.DataType] = {
    "month": pl.Date(),  # the first day of the month the clocks stopped in
    "metric": pl.String(),
    "priority": pl.String(),
    "assignment_group": pl.String(),  # null: tickets without a group
    "side": pl.String(),  # "client", "vendor" or "unmapped"
    "count": pl.UInt32(),
    "met": pl.UInt32(),
    "attainment": pl.Float64(),  # met / count, in [0, 1]
    "goal": pl.Float64(),  # the target's goal; null when it has none
    "median_seconds": pl.Int64(),  # nearest-rank 50th percentile of elapsed_seconds
    "p90_seconds": pl.Int64(),  # nearest-rank 90th percentile
}


def stopped_clocks(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    *,
    timezone: str,
    sides: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The measurements of stopped clocks with the keys the aggregates group by.

    Columns: ``ticket_id``, the :data:`FINEST` keys, ``elapsed_seconds``, ``target_seconds``,
    ``met``; in measurement order. This is the one place rows get their keys, so the
    aggregates and :func:`tickets_behind` cannot disagree.
    """
    group = (
        pl.col("assignment_group")
        if "assignment_group" in tickets.columns
        else pl.lit(None, pl.String()).alias("assignment_group")
    )
    rows = (
        stopped(measurements, tickets.with_columns(group), "priority", "assignment_group")
        .with_columns(stop_month(timezone).alias("month"))
        .join(_sides(sides), on="assignment_group", how="left", maintain_order="left")
        .with_columns(pl.col("side").fill_null(UNMAPPED))
    )
    return rows.select(
        "ticket_id", *FINEST, "elapsed_seconds", "target_seconds", "met"
    ).with_columns(pl.col("priority").cast(pl.String()))


def aggregates(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    policy: Policy,
    sides: pl.DataFrame | None = None,
    *,
    timezone: str,
    by: tuple[str, ...] = FINEST,
) -> pl.DataFrame:
    """Count, met, attainment, goal, median and p90 elapsed per group of ``by`` (a subset of
    :data:`FINEST` with ``metric`` and ``priority``: a goal belongs to a target); sorted by
    the keys. ``sides`` maps groups to sides (``SIDES`` schema); see the module doc."""
    unknown = [key for key in by if key not in FINEST]
    if unknown or "metric" not in by or "priority" not in by:
        raise ValueError(f"by: {by!r} must be a subset of {FINEST} with metric and priority")
    keys = [key for key in FINEST if key in by]
    rows = stopped_clocks(measurements, tickets, timezone=timezone, sides=sides)
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
            _nearest_rank(50).alias("median_seconds"),
            _nearest_rank(90).alias("p90_seconds"),
        )
        .with_columns((pl.col("met") / pl.col("count")).alias("attainment"))
        .join(goals, on=["metric", "priority"], how="left")
        .sort(keys, nulls_last=True)
    )
    schema = {k: v for k, v in AGGREGATES.items() if k in keys or k not in FINEST}
    return table.select(list(schema)).cast(schema)  # type: ignore[arg-type]


def tickets_behind(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    *,
    timezone: str,
    sides: pl.DataFrame | None = None,
    **keys: str | date | bool | None,
) -> pl.Series:
    """The ids of the tickets behind an aggregate row: pass the row's keys (``month=``,
    ``metric=``, ``priority=``, ``assignment_group=``, ``side=``; ``None`` matches a null
    group) and optionally ``met=False`` for the misses. A ticket is listed once, in
    measurement order, even when the keys leave out the metric."""
    rows = stopped_clocks(measurements, tickets, timezone=timezone, sides=sides)
    for key, value in keys.items():
        if key not in (*FINEST, "met"):
            raise ValueError(f"tickets_behind: unknown key {key!r} (use {FINEST} or met)")
        column = pl.col(key)
        rows = rows.filter(column.is_null() if value is None else column == value)
    return rows["ticket_id"].unique(maintain_order=True)


def _nearest_rank(percent: int) -> pl.Expr:
    rank = (pl.len().cast(pl.Int64) * percent + 99) // 100  # ceil(p × n / 100), 1-based
    return pl.col("elapsed_seconds").sort().get(rank - 1)


def _sides(sides: pl.DataFrame | None) -> pl.DataFrame:
    """The group → side mapping, checked: one side per group, a known side name."""
    if sides is None:
        return pl.DataFrame(schema=SIDES)
    for column in SIDES:
        if column not in sides.columns:
            raise ValueError(f"sides: no {column!r} column")
    mapping = sides.select(list(SIDES)).cast(SIDES)  # type: ignore[arg-type]
    wrong = mapping.filter(~pl.col("side").is_in(SIDE_NAMES) | pl.col("side").is_null())
    if len(wrong):
        raise ValueError(
            f"sides: side {wrong['side'][0]!r} for group {wrong['assignment_group'][0]!r} "
            f"(use {' or '.join(SIDE_NAMES)})"
        )
    twice = mapping.filter(pl.col("assignment_group").is_duplicated())["assignment_group"]
    if len(twice):
        raise ValueError(f"sides: group {twice[0]!r} is mapped more than once")
    return mapping.filter(pl.col("assignment_group").is_not_null())
