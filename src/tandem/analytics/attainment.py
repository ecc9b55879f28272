"""Attainment: the share of tickets that met each target, per metric and priority (and month).

Only stopped clocks count. A ticket still open at the as-of instant has no final verdict
while within its target, so counting it would make a month's number move as tickets close;
open tickets belong in the at-risk list instead. A clock counts in the month, in the
engagement's time zone, in which it stopped (``responded_at`` for response, ``resolved_at``
for resolution), so a closed month's numbers do not change when later tickets resolve.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.clocks import Seconds
from tandem.analytics.matching import search_sorted
from tandem.analytics.measure import MISSING, STOPS, Plan, clocked
from tandem.analytics.months import first_days, local_months
from tandem.analytics.policy import METRICS, Policy

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


def _schema(timezone: str | None) -> dict[str, pl.DataType]:
    """:data:`ATTAINMENT`, without ``month`` when there is no time zone to count months in."""
    return {k: v for k, v in ATTAINMENT.items() if k != "month" or timezone is not None}


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
    found = pl.Series(search_sorted(known, runs))
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
    schema = _schema(timezone)
    return table.select(list(schema)).cast(schema)  # type: ignore[arg-type]


def attainment_of_tickets(
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    policy: Policy,
    *,
    timezone: str | None = None,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """``attainment(measure(tickets, holds, policy, as_of), tickets, policy, timezone=...)``,
    counted from each ticket's clocks without making a row per measurement, joining the rows
    back to their tickets or converting each instant to the zone (``months.py``): the same
    frame (a property test holds them equal), several times faster at a million tickets."""
    schema = _schema(timezone)
    counting = partial(_counted, timezone=timezone)
    clocks = clocked(tickets, holds, policy, as_of, meanwhile=counting)
    if clocks is None:
        return pl.DataFrame(schema=schema)
    plan = clocks.plan
    codes = plan.target.shape[1]  # the priorities with targets, and one for any other
    keys: list[NDArray[np.int64]] = []
    met: list[NDArray[np.bool_]] = []
    for m, rows, key, within in clocks.meanwhile:
        elapsed = clocks.elapsed[m]
        assert elapsed is not None  # measured: some ticket has a target for it
        keys.append(key)
        met.append(elapsed.take(rows) <= within)
    key = np.concatenate(keys)
    if len(key) == 0:
        return pl.DataFrame(schema=schema)
    low = int(np.min(key))
    key -= low
    count = np.bincount(key)
    hits = np.bincount(key[np.concatenate(met)], minlength=len(count))
    cell = np.flatnonzero(count) + low
    m, code = (cell // codes) % len(METRICS), cell % codes
    target = plan.target[m, code]
    goals = [policy.targets[t].goal for t in target]
    table = pl.DataFrame(
        {
            "metric": [METRICS[i] for i in m],
            "priority": [policy.targets[t].priority for t in target],
            "count": count[cell - low],
            "met": hits[cell - low],
            "goal": goals,
        },
        schema_overrides={"goal": pl.Float64()},
    )
    if timezone is not None:
        table = table.with_columns(month=first_days(cell // (len(METRICS) * codes)))
    keys_order = ["month", "metric", "priority"] if timezone is not None else ["metric", "priority"]
    return (
        table.with_columns((pl.col("met") / pl.col("count")).alias("attainment"))
        .sort(keys_order)
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


def _counted(
    _ids: pl.Series,
    plan: Plan,
    ends: list[Seconds],
    _missing: object,
    *,
    timezone: str | None,
) -> list[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]:
    """Per measured metric, the stopped clocks (``rows``), each one's key (month, metric,
    priority code) and target seconds: all but whether it met its target, worked out while
    the holds are matched (see ``measure.clocked``)."""
    codes = plan.target.shape[1]
    counted_rows = []
    for m in range(len(METRICS)):
        if not plan.has[m].any():
            continue
        counted = plan.has[m].take(plan.code)
        counted &= ends[m] != MISSING  # only stopped clocks count
        rows = np.flatnonzero(counted)
        code = plan.code.take(rows).astype(np.int64)
        key = code + m * codes
        if timezone is not None:
            key += local_months(ends[m].take(rows), timezone) * (len(METRICS) * codes)
        within = plan.within.take(plan.target[m].take(code))
        counted_rows.append((m, rows, key, within))
    return counted_rows
