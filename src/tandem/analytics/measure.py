"""Measurements: each ticket's elapsed business time against each target that applies.

:func:`measure` takes the canonical ``TICKETS`` and ``HOLDS`` frames (see ``frames.py``) and a
:class:`~tandem.analytics.policy.Policy`, and returns a ``MEASUREMENTS`` frame: one row per
ticket and target whose priority is the ticket's. Response runs from ``opened_at`` to
``responded_at``, resolution from ``opened_at`` to ``resolved_at``, in the target's calendar,
minus holds when the target pauses on hold. ``met`` is ``elapsed <= target``.

Open clocks (no ``responded_at`` / ``resolved_at``) are measured only when ``as_of`` is given,
up to ``as_of``; their row says ``met = true`` while still within the target and ``false``
once over it (a breach that can no longer be undone). ``as_of`` changes nothing else: a
recorded end after ``as_of`` is kept, because the export is the record. An open ticket opened
after ``as_of`` measures 0 seconds.

Rows come in ticket order (the order of ``tickets``), then target order (the policy's).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.calendar import open_intervals_covering
from tandem.analytics.clocks import STILL_ON_HOLD, Holds, elapsed_seconds
from tandem.analytics.frames import MEASUREMENTS, empty
from tandem.analytics.policy import Policy

#: Which ticket column stops each metric's clock.
STOPS = {"response": "responded_at", "resolution": "resolved_at"}

_MISSING = np.iinfo(np.int64).min


def measure(
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    policy: Policy,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """One ``MEASUREMENTS`` row per ticket and applicable target (see the module doc).

    Raises ``ValueError`` for input the engine cannot measure honestly: duplicate ticket ids,
    a missing ``opened_at``, a response or resolution before the opening, naive instants.
    """
    _check_tickets(tickets)
    opened = _seconds(tickets, "opened_at")
    ends = {metric: _seconds(tickets, column) for metric, column in STOPS.items()}
    now = _as_of_seconds(as_of)
    grouped = _holds_by_ticket(tickets, holds)
    priority = tickets["priority"]

    parts = []
    for order, target in enumerate(policy.targets):
        end = ends[target.metric]
        selected = (priority == target.priority).fill_null(False).to_numpy()
        if now is None:
            selected = selected & (end != _MISSING)
        index = np.flatnonzero(selected)
        if len(index) == 0:
            continue
        start = opened[index]
        stop = end[index]
        if now is not None:
            stop = np.where(stop == _MISSING, np.maximum(now, start), stop)
        intervals = open_intervals_covering(
            policy.calendars[target.calendar], int(np.min(start)), int(np.max(stop))
        )
        sub_holds = _restrict(grouped, selected, index) if target.pause_on_hold else None
        elapsed = elapsed_seconds(intervals, start, stop, sub_holds)
        parts.append(
            pl.DataFrame(
                {
                    "row": index,
                    "order": np.full(len(index), order, dtype=np.int32),
                    "metric": pl.repeat(target.metric, len(index), eager=True),
                    "elapsed_seconds": elapsed,
                    "target_seconds": np.full(len(index), target.within_seconds, np.int64),
                    "met": elapsed <= target.within_seconds,
                }
            )
        )
    if not parts:
        return empty(MEASUREMENTS)
    rows = pl.concat(parts).sort("row", "order")
    return pl.DataFrame(
        {
            "ticket_id": tickets["ticket_id"].gather(rows["row"]),
            "metric": rows["metric"],
            "elapsed_seconds": rows["elapsed_seconds"],
            "target_seconds": rows["target_seconds"],
            "met": rows["met"],
        },
        schema=MEASUREMENTS,
    )


def _check_tickets(tickets: pl.DataFrame) -> None:
    for column in ("ticket_id", "priority", "opened_at", *STOPS.values()):
        if column not in tickets.columns:
            raise ValueError(f"tickets: no {column!r} column")
    for column in ("opened_at", *STOPS.values()):
        _check_instants(tickets, column)
    if tickets["ticket_id"].n_unique() != len(tickets):
        duplicated = tickets.filter(pl.col("ticket_id").is_duplicated())["ticket_id"]
        raise ValueError(f"tickets: duplicate ticket ids {_some(duplicated)}")
    if tickets["opened_at"].null_count():
        missing = tickets.filter(pl.col("opened_at").is_null())["ticket_id"]
        raise ValueError(f"tickets: no opened_at for {_some(missing)}")
    for column in STOPS.values():
        early = tickets.filter(pl.col(column) < pl.col("opened_at"))["ticket_id"]
        if len(early):
            raise ValueError(f"tickets: {column} before opened_at for {_some(early)}")


def _some(ids: pl.Series) -> str:
    shown = ", ".join(ids.unique(maintain_order=True).head(5).cast(pl.String).to_list())
    return shown + (" …" if ids.n_unique() > 5 else "")


def _check_instants(frame: pl.DataFrame, column: str) -> None:
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"{column}: expected a time-zone-aware Datetime, got {dtype}")


def _seconds(frame: pl.DataFrame, column: str) -> NDArray[np.int64]:
    """A time-zone-aware instant column as int64 epoch seconds; nulls as ``_MISSING``."""
    _check_instants(frame, column)
    seconds = frame[column].dt.epoch("s").fill_null(_MISSING).to_numpy()
    return np.ascontiguousarray(seconds, dtype=np.int64)


def _as_of_seconds(as_of: datetime | None) -> int | None:
    if as_of is None:
        return None
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must carry a time zone (a naive time is ambiguous)")
    return int(as_of.timestamp())


def _holds_by_ticket(tickets: pl.DataFrame, holds: pl.DataFrame) -> Holds:
    """Holds with ``ticket`` = the ticket's row in ``tickets``; holds of unknown tickets are
    dropped (the reader reports them), a running hold gets :data:`STILL_ON_HOLD`."""
    rows = tickets.select("ticket_id", pl.int_range(pl.len(), dtype=pl.Int64).alias("row"))
    joined = (
        holds.lazy()
        .select("ticket_id", "start", "end")
        .join(rows.lazy(), on="ticket_id", how="inner")
        .collect()
    )
    if joined["start"].null_count():
        raise ValueError("holds: a hold without a start")
    ticket = joined["row"].to_numpy()
    start = _seconds(joined, "start")
    end = _seconds(joined, "end")
    end = np.where(end == _MISSING, STILL_ON_HOLD, end)
    return Holds.group(ticket, start, end)


def _restrict(holds: Holds, selected: NDArray[np.bool_], index: NDArray[np.intp]) -> Holds:
    """The holds of the selected tickets, renumbered to positions in ``index``.

    ``index`` is ascending, so renumbering keeps the holds sorted by ticket and start.
    """
    keep = selected[holds.ticket]
    position = np.full(len(selected), -1, dtype=np.int64)
    position[index] = np.arange(len(index), dtype=np.int64)
    return Holds(position[holds.ticket[keep]], holds.start[keep], holds.end[keep])
