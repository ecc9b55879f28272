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
from tandem.analytics.policy import METRICS, Policy, Target

#: Which ticket column stops each metric's clock.
STOPS = {"response": "responded_at", "resolution": "resolved_at"}

_MISSING = np.iinfo(np.int64).min
_SEED = 0x7A4D  # any fixed seed: hashes never leave one call


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
    hashes = _check_tickets(tickets)
    opened = _seconds(tickets, "opened_at")
    ends = {metric: _seconds(tickets, column) for metric, column in STOPS.items()}
    now = _as_of_seconds(as_of)
    grouped = _holds_by_ticket(tickets, holds, hashes)
    priority = tickets["priority"]

    parts = []
    for target in policy.targets:
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
        parts.append((target, index, elapsed_seconds(intervals, start, stop, sub_holds)))
    if not parts:
        return empty(MEASUREMENTS)
    return _in_ticket_order(tickets["ticket_id"], parts)


def _in_ticket_order(
    ids: pl.Series, parts: list[tuple[Target, NDArray[np.intp], NDArray[np.int64]]]
) -> pl.DataFrame:
    """The MEASUREMENTS frame, rows by ticket, then target order, without sorting.

    Each part's rows are ascending and its targets come in policy order, so a row's place is
    the ticket's first output row (a running count of the rows before it) plus how many
    earlier targets it had: a scatter, several times cheaper than sorting millions of rows.
    """
    per_ticket = np.zeros(len(ids), dtype=np.int64)
    for _, index, _ in parts:
        per_ticket[index] += 1
    place = np.cumsum(per_ticket) - per_ticket
    total = int(per_ticket.sum())
    row = np.empty(total, dtype=np.int64)
    metric = np.empty(total, dtype=np.int8)
    elapsed = np.empty(total, dtype=np.int64)
    within = np.empty(total, dtype=np.int64)
    for target, index, seconds in parts:
        at = place[index]
        place[index] += 1  # index has no repeats: a plain fancy-index update is exact
        row[at] = index
        metric[at] = METRICS.index(target.metric)
        elapsed[at] = seconds
        within[at] = target.within_seconds
    return pl.DataFrame(
        {
            "ticket_id": ids.gather(row),
            "metric": pl.Series(METRICS, dtype=pl.String()).gather(metric),
            "elapsed_seconds": elapsed,
            "target_seconds": within,
            "met": elapsed <= within,
        },
        schema=MEASUREMENTS,
    )


def _check_tickets(tickets: pl.DataFrame) -> NDArray[np.uint64] | None:
    """Refuse what cannot be measured; return the ticket ids' hashes when they are unique
    (None after a hash collision between different ids: then the slower exact paths run)."""
    for column in ("ticket_id", "priority", "opened_at", *STOPS.values()):
        if column not in tickets.columns:
            raise ValueError(f"tickets: no {column!r} column")
    for column in ("opened_at", *STOPS.values()):
        _check_instants(tickets, column)
    # Distinct hashes prove distinct ids; only equal hashes need the exact string count.
    hashes = _hashes(tickets["ticket_id"])
    distinct = hashes.n_unique() == len(tickets)
    if not distinct and tickets["ticket_id"].n_unique() != len(tickets):
        duplicated = tickets.filter(pl.col("ticket_id").is_duplicated())["ticket_id"]
        raise ValueError(f"tickets: duplicate ticket ids {_some(duplicated)}")
    if tickets["opened_at"].null_count():
        missing = tickets.filter(pl.col("opened_at").is_null())["ticket_id"]
        raise ValueError(f"tickets: no opened_at for {_some(missing)}")
    for column in STOPS.values():
        early = tickets.filter(pl.col(column) < pl.col("opened_at"))["ticket_id"]
        if len(early):
            raise ValueError(f"tickets: {column} before opened_at for {_some(early)}")
    return hashes.to_numpy() if distinct else None


def _hashes(ids: pl.Series) -> pl.Series:
    return ids.cast(pl.String()).hash(seed=_SEED)


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


def _holds_by_ticket(
    tickets: pl.DataFrame, holds: pl.DataFrame, hashes: NDArray[np.uint64] | None = None
) -> Holds:
    """Holds with ``ticket`` = the ticket's row in ``tickets``; holds of unknown tickets are
    dropped (the reader reports them), a running hold gets :data:`STILL_ON_HOLD`.

    Matching millions of string ids is the slow part of measuring from frames, so when the
    ticket ids' 64-bit hashes are unique (``hashes``, from :func:`_check_tickets`) holds are
    joined on the hash and then checked string by string: a hold whose hash matches a ticket
    but whose id differs belongs to no ticket (the only ticket with that hash is another
    one), so the result is exactly the string join's.
    """
    columns = holds.select("ticket_id", "start", "end")
    if hashes is None:
        rows = tickets.select("ticket_id", pl.int_range(pl.len(), dtype=pl.Int64).alias("row"))
        joined = columns.join(rows, on="ticket_id", how="inner")
    else:
        rows = pl.DataFrame({"hash": hashes, "row": np.arange(len(hashes), dtype=np.int64)})
        # Holds keep their order: exports list them by ticket, which makes the sort cheap.
        joined = columns.with_columns(_hashes(columns["ticket_id"]).alias("hash")).join(
            rows, on="hash", how="inner", maintain_order="left"
        )
        same = joined["ticket_id"].cast(pl.String()) == tickets["ticket_id"].gather(
            joined["row"]
        ).cast(pl.String())
        joined = joined.filter(same.fill_null(False))
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
