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

How it stays fast (``bench/sla.py`` times it at a million tickets and more):

* every calendar the targets use is laid on one time axis (``clocks.laid_end_to_end``), so
  each metric is one pass over all tickets, each ticket shifted to its target's calendar by a
  small table indexed by its priority: no splitting per target, no gathering and scattering;
* holds find their tickets by the ways of ``matching.py`` (one walk along both columns when
  the ids come sorted, one sort of 64-bit id hashes otherwise), checked as strings, so a
  hash collision never matches the wrong ticket;
* a worker thread reads the priorities' codes, then the holds' instants and matches them,
  beside the clocks (Polars and numpy release the GIL); then it takes the first
  :data:`WORKER_SHARE` of the holds off the clocks while this thread builds the output's
  cells (:func:`clocked`'s ``meanwhile``) and takes the rest (the parts are cut between
  tickets, so they never touch the same ticket, and each returns its tickets' held seconds
  only);
* the output is two columns per ticket (the priority's targets in policy order), flattened
  and filtered once;
* a report needs no rows at all: ``attainment.attainment_of_tickets`` counts from
  :func:`clocked`'s per-ticket arrays;
* the process keeps freed large blocks for reuse (``tandem/allocator.py``, set by every
  ``tandem`` process and the benchmark): otherwise page faults cost as much as the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.calendar import OpenIntervals, open_intervals_covering
from tandem.analytics.clocks import (
    STILL_ON_HOLD,
    Holds,
    Seconds,
    by_ticket_and_start,
    held_per_ticket,
    laid_end_to_end,
)
from tandem.analytics.clocks import (
    _position as position_unchecked,
)
from tandem.analytics.frames import MEASUREMENTS, empty
from tandem.analytics.matching import match_holds, some_ids
from tandem.analytics.policy import METRICS, Policy

T = TypeVar("T")

#: Which ticket column stops each metric's clock.
STOPS = {"response": "responded_at", "resolution": "resolved_at"}

#: A missing instant in epoch seconds. No real instant is that early (nor can be: it is
#: the earliest microsecond an int64 holds, in seconds).
MISSING = -(2**63 // 1_000_000)

#: The worker's share of the matched holds to take off the clocks: it is done matching while
#: this thread still builds the output's cells (or a report's months). At a million tickets
#: two thirds measured 3-5 ms better than halves, for measure() and for the report alike.
WORKER_SHARE = 2 / 3


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
    run = clocked(tickets, holds, policy, as_of, meanwhile=_cells)
    if run is None:
        return empty(MEASUREMENTS)
    return run.meanwhile.frame(run.elapsed)


@dataclass(frozen=True)
class Clocked(Generic[T]):
    """Each ticket's clocks before they become rows (what :func:`measure` flattens): per
    metric (``METRICS`` order), ``elapsed`` business seconds per ticket (None: no ticket has
    a target for it), ``ends`` the instant its clock stopped (epoch seconds, floored;
    :data:`MISSING` when it runs), ``plan``, the policy as tables by priority code, and
    what ``meanwhile`` returned."""

    plan: Plan
    elapsed: list[Seconds | None]
    ends: list[Seconds]
    meanwhile: T


#: What runs while the holds are matched: given the ticket ids (in one buffer), the plan,
#: the ends and, without as_of, per metric the tickets whose clocks have no end.
Meanwhile = Callable[[pl.Series, "Plan", list[Seconds], list[NDArray[np.bool_]] | None], T]


def _cells(
    ids: pl.Series, plan: Plan, _ends: list[Seconds], missing: list[NDArray[np.bool_]] | None
) -> _Cells:
    return _Cells.of(ids, plan, missing)


def clocked(
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    policy: Policy,
    as_of: datetime | None = None,
    *,
    meanwhile: Meanwhile[T] = lambda *_: None,  # type: ignore[assignment]
) -> Clocked[T] | None:
    """:func:`measure`'s clocks per ticket, without the rows (None: nothing to measure: no
    ticket, or no ticket with a priority the policy has targets for).

    ``meanwhile`` runs in this thread once the clocks before holds are known, while another
    thread matches the holds to their tickets: work that needs no held seconds (the output's
    cells, a report's months) costs no time there."""
    _check_columns(tickets, holds)
    # Ids are compared and gathered millions of times: one buffer is several times faster
    # than the chunks a Parquet or CSV reader leaves behind (the instants are copied into
    # numpy arrays anyway).
    ids = tickets["ticket_id"].rechunk()
    tickets = tickets.select("ticket_id", "priority", "opened_at", *STOPS.values())
    holds = holds.select("start", "end").with_columns(holds["ticket_id"].rechunk())
    # Matching holds to tickets is mostly Polars work outside the GIL: it runs in a thread
    # beside the clocks, which are mostly numpy work outside the GIL too. Then the worker
    # takes its share of the holds off the clocks while this thread, done with
    # ``meanwhile``, takes the rest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The priorities' codes first (this thread needs them after reading the instants),
        # then the holds.
        planned = pool.submit(Plan.of, policy, tickets["priority"])
        matching = pool.submit(_matched, ids, holds)
        try:
            clocks = _clocks(tickets, policy, as_of, planned.result)
        except ValueError:
            matching.result()  # the holds' problems (and duplicate ids) are reported first
            raise
        if clocks is None:
            matching.result()
            return None
        first = pool.submit(lambda: _held_part(clocks, *matching.result(), first=True))
        during = meanwhile(ids, clocks.plan, clocks.ends, clocks.missing)
        second = _held_part(clocks, *matching.result(), first=False)
        parts = [*first.result(), *second]

    elapsed: list[Seconds | None] = []
    for m, metric in enumerate(clocks.metrics):
        if metric is None:
            elapsed.append(None)
            continue
        seconds = metric.seconds
        for held_metric, which, off in parts:
            if held_metric == m:
                seconds[which] -= off  # the parts' tickets never overlap
        elapsed.append(seconds)
    return Clocked(clocks.plan, elapsed, clocks.ends, during)


def _held_part(
    clocks: _Clocks,
    spans: list[Seconds],
    hold: NDArray[np.int64] | None,
    row: NDArray[np.int64],
    *,
    first: bool,
) -> list[tuple[int, NDArray[np.int64], Seconds]]:
    """``(metric, ticket, held seconds)`` for each metric that pauses, for the tickets whose
    holds lie in the worker's share of the matched holds (``hold``, ``row``: see
    ``match_holds``), or the rest, cut between two tickets. ``spans``: every hold's start
    and end."""
    n = len(row)
    cut = int(n * WORKER_SHARE)
    if 0 < cut < n:
        beyond = row[cut:] != row[cut - 1]
        cut = cut + int(np.argmax(beyond)) if beyond.any() else n
    part = slice(0, cut) if first else slice(cut, n)
    if part.stop == part.start:
        return []
    holds = _holds(spans, None if hold is None else hold[part], row[part], part)
    plan = clocks.plan
    return [
        (m, *_held(clocks.axis, holds, plan, m, clocks.opened, metric.stop, metric.table))
        for m, metric in enumerate(clocks.metrics)
        if metric is not None and plan.pauses[m].any()
    ]


class _Metric(NamedTuple):
    stop: Seconds  # on the axis
    table: Seconds  # per priority code, the shift onto the axis
    seconds: Seconds  # business seconds, holds not yet taken off


@dataclass(frozen=True)
class _Clocks:
    """The clocks before holds, per metric (None for a metric no ticket has a target for).
    ``missing``: per metric, the tickets without a stop (None when ``as_of`` measures them)."""

    plan: Plan
    axis: OpenIntervals
    opened: Seconds
    metrics: list[_Metric | None]
    missing: list[NDArray[np.bool_]] | None
    ends: list[Seconds]  # per metric, the stop as read (MISSING: none)


def _clocks(
    tickets: pl.DataFrame,
    policy: Policy,
    as_of: datetime | None,
    planned: Callable[[], Plan | None],
) -> _Clocks | None:
    if tickets["opened_at"].null_count():
        nothing = tickets.filter(pl.col("opened_at").is_null())["ticket_id"]
        raise ValueError(f"tickets: no opened_at for {some_ids(nothing)}")
    early = tickets.select(  # compared as written (to the microsecond); nulls never early
        (pl.col(column) < pl.col("opened_at")).any() for column in STOPS.values()
    ).row(0)
    for column, some in zip(STOPS.values(), early, strict=True):
        if some:
            which = tickets.filter(pl.col(column) < pl.col("opened_at"))["ticket_id"]
            raise ValueError(f"tickets: {column} before opened_at for {some_ids(which)}")
    now = _as_of_seconds(as_of)
    opened, *stops = _seconds(tickets, "opened_at", *STOPS.values())
    missing = [stop == MISSING for stop in stops]
    plan = planned()
    if plan is None:
        return None
    axis, shifts = _axis(policy, plan, opened, stops, missing, now)
    metrics: list[_Metric | None] = []
    start: Seconds | None = None
    start_shift = shift = np.zeros(0, dtype=np.int64)
    for m, stop in enumerate(stops):
        if not plan.has[m].any():
            metrics.append(None)
            continue
        table = shifts.take(plan.calendar[m])
        if start is None or not np.array_equal(table, start_shift):
            shift = table.take(plan.code)
            start = position_unchecked(axis, opened + shift)
            start_shift = table
        stop = stop + shift  # (Polars' buffer is read-only)
        open_ = np.flatnonzero(missing[m])  # few: by index beats a masked pass over all
        if len(open_):  # open: to as_of (at least the opening), or no row at all
            fill = opened.take(open_)
            if now is not None:
                np.maximum(fill, now, out=fill)
            stop[open_] = fill + shift.take(open_)
        seconds = position_unchecked(axis, stop)
        seconds -= start
        metrics.append(_Metric(stop, table, seconds))
    return _Clocks(plan, axis, opened, metrics, None if now is not None else missing, stops)


@dataclass(frozen=True)
class Plan:
    """The policy as small tables indexed by a ticket's priority code.

    ``code`` is each ticket's index into the targets' priorities, or one past them for any
    other priority (or none). Per metric ``m`` (``METRICS`` order) and priority code:
    ``target[m]`` is the target's index in the policy (-1: none), ``calendar[m]`` its
    calendar's index in the policy's calendars, ``pauses[m]`` whether it pauses on hold,
    ``has[m]`` whether it exists and some ticket has that priority. ``swap[code]``: the
    priority's resolution target comes before its response target in the policy.
    ``within`` and ``metric`` are per target.
    """

    code: NDArray[np.int8]
    target: NDArray[np.int8]
    calendar: NDArray[np.int64]
    pauses: NDArray[np.bool_]
    has: NDArray[np.bool_]
    swap: NDArray[np.bool_]
    within: NDArray[np.int64]
    metric: NDArray[np.int8]

    @classmethod
    def of(cls, policy: Policy, priority: pl.Series) -> Plan | None:
        priorities = list(dict.fromkeys(t.priority for t in policy.targets))
        if not priorities or len(priority) == 0:
            return None
        other = len(priorities)
        # String comparisons in one Polars expression: a few times faster than a cast to Enum.
        expr = pl.lit(other, pl.Int8)
        for i, p in reversed(list(enumerate(priorities))):
            expr = pl.when(pl.col("priority") == p).then(pl.lit(i, pl.Int8)).otherwise(expr)
        code = pl.DataFrame({"priority": priority}).select(expr).to_series().to_numpy()
        shape = (len(METRICS), other + 1)
        target = np.full(shape, -1, dtype=np.int8)
        calendar = np.zeros(shape, dtype=np.int64)
        pauses = np.zeros(shape, dtype=bool)
        names = list(policy.calendars)
        for i, t in enumerate(policy.targets):
            m, c = METRICS.index(t.metric), priorities.index(t.priority)
            if target[m, c] >= 0:  # parse_policy refuses it too
                raise ValueError(f"policy: a second {t.metric} target for {t.priority}")
            target[m, c] = i
            calendar[m, c] = names.index(t.calendar)
            pauses[m, c] = t.pause_on_hold
        has = (target >= 0) & (np.bincount(code, minlength=other + 1) > 0)
        if not has.any():
            return None
        # A metric without a target measures nothing: give it the other metric's calendar,
        # so both metrics can share the clock's start.
        for m in range(len(METRICS)):
            calendar[m] = np.where(target[m] >= 0, calendar[m], calendar[1 - m])
        swap = (target[0] >= 0) & (target[1] >= 0) & (target[1] < target[0])
        return cls(
            code=code,
            target=target,
            calendar=calendar,
            pauses=pauses & has,
            has=has,
            swap=swap,
            within=np.array([t.within_seconds for t in policy.targets], dtype=np.int64),
            metric=np.array([METRICS.index(t.metric) for t in policy.targets], dtype=np.int8),
        )


def _axis(
    policy: Policy,
    plan: Plan,
    opened: Seconds,
    stops: list[Seconds],
    missing: list[NDArray[np.bool_]],
    now: int | None,
) -> tuple[OpenIntervals, NDArray[np.int64]]:
    """The calendars in use on one axis, each covering every instant of every ticket, and
    per calendar (in the policy's order) its shift onto the axis (0 for one not in use)."""
    lowest = int(np.min(opened))
    highest = max(int(np.max(opened)), *(int(np.max(stop)) for stop in stops))
    if now is not None and any(bool(gone.any()) for gone in missing):
        highest = max(highest, now)
    calendars = list(policy.calendars.values())
    used = sorted({int(c) for m in range(len(METRICS)) for c in plan.calendar[m][plan.has[m]]})
    parts = tuple(open_intervals_covering(calendars[c], lowest, highest) for c in used)
    axis, shifts = laid_end_to_end(parts, lowest, highest)
    table = np.zeros(len(calendars), dtype=np.int64)
    table[used] = shifts
    return axis, table


def _held(
    axis: OpenIntervals,
    holds: Holds,
    plan: Plan,
    metric: int,
    opened: Seconds,
    stop: Seconds,
    shift: Seconds,
) -> tuple[NDArray[np.int64], Seconds]:
    """Held open seconds for ``metric`` (where its target pauses) on the axis, as
    ``(ticket, seconds)`` for the tickets with holds: ``stop`` is on the axis already,
    ``shift`` (per priority code) moves a ticket there."""
    ticket, start, end = holds.ticket, holds.start, holds.end
    code = plan.code.take(ticket)  # a gather from a small array: cheaper than from ``shift``
    pausing = plan.pauses[metric].take(code)
    if not pausing.all():
        ticket, start, end, code = ticket[pausing], start[pausing], end[pausing], code[pausing]
    moving = shift.take(code)
    low = opened.take(ticket)
    low += moving
    high = stop.take(ticket)
    moved = Holds(ticket, start + moving, end + moving)
    return held_per_ticket(axis, moved, low, high)


@dataclass(frozen=True)
class _Cells:
    """The MEASUREMENTS rows but their seconds: two cells per ticket (its priority's targets
    in policy order), flattened, the cells without a row (no target; no end and no as_of)
    dropped. Built while the holds are still being matched; :meth:`frame` adds the seconds."""

    cell: NDArray[np.int64] | None  # the kept cells (ticket row * 2 + column); None: all
    column_metric: NDArray[np.int8] | None  # per ticket and column, the metric; None: m = column
    ids: pl.Series
    metric: pl.Series
    within: Seconds

    @classmethod
    def of(cls, ids: pl.Series, plan: Plan, missing: list[NDArray[np.bool_]] | None) -> _Cells:
        n = len(ids)
        code = plan.code.astype(np.intp)
        cells = np.zeros((n, 2), dtype=bool)
        target = np.zeros((n, 2), dtype=np.int8)  # target indices: a policy has few
        swap = plan.swap.take(code) if plan.swap.any() else None
        rows = np.arange(n) if swap is not None else None
        for m in range(len(METRICS)):
            has = plan.has[m].take(code)
            if not has.any():
                continue
            if missing is not None:
                has &= ~missing[m]
            which = plan.target[m].take(code)
            if rows is None or swap is None:
                cells[:, m], target[:, m] = has, which
            else:
                column = np.where(swap, 1 - m, m)
                cells[rows, column], target[rows, column] = has, which
        flat = cells.ravel()
        targets = target.ravel()
        cell: NDArray[np.int64] | None = None
        if not flat.all():
            cell = np.flatnonzero(flat).astype(np.int64, copy=False)  # (intp: no copy)
            targets = targets.take(cell)
        # Indices as uint32 where they fit: Polars gathers by them without a conversion.
        kind = np.dtype(np.uint32) if 2 * n < 2**32 else np.dtype(np.int64)
        everything: NDArray[np.integer] = (
            np.arange(2 * n, dtype=kind) if cell is None else cell.astype(kind)
        )
        if swap is not None:
            metric = plan.metric.astype(np.uint32).take(targets)
        else:
            metric = (everything & 1).astype(np.uint32, copy=False)
        everything >>= 1
        return cls(
            cell=cell,
            column_metric=None if swap is None else np.where(swap, 1, 0).astype(np.int8),
            ids=ids.gather(pl.Series(everything)),  # a Series: faster than an array here
            metric=_METRIC_NAMES.gather(pl.Series(metric)),
            within=plan.within.take(targets),
        )

    def frame(self, elapsed: list[Seconds | None]) -> pl.DataFrame:
        """The MEASUREMENTS frame, with each metric's seconds per ticket (None: no target)."""
        n = len(elapsed[0]) if elapsed[0] is not None else len(elapsed[1])  # type: ignore[arg-type]
        seconds = np.zeros((n, 2), dtype=np.int64)
        for m, values in enumerate(elapsed):
            if values is None:
                continue
            if self.column_metric is None:
                seconds[:, m] = values
            else:
                column = np.where(self.column_metric, 1 - m, m)
                seconds[np.arange(n), column] = values
        flat = seconds.ravel()
        values = flat if self.cell is None else flat.take(self.cell)
        return pl.DataFrame(
            {
                "ticket_id": self.ids,
                "metric": self.metric,
                "elapsed_seconds": values,
                "target_seconds": self.within,
                "met": values <= self.within,
            },
            schema=MEASUREMENTS,
        )


_METRIC_NAMES = pl.Series(METRICS, dtype=pl.String())


def _matched(
    ids: pl.Series, holds: pl.DataFrame
) -> tuple[list[Seconds], NDArray[np.int64] | None, NDArray[np.int64]]:
    """Every hold's start and end in seconds (a running hold's end
    :data:`STILL_ON_HOLD`), and ``match_holds``' answer."""
    spans = _seconds(holds, "start", "end", fill=(MISSING, STILL_ON_HOLD))
    return (spans, *match_holds(ids, holds["ticket_id"]))


def _holds(
    spans: list[Seconds], hold: NDArray[np.int64] | None, row: NDArray[np.int64], part: slice
) -> Holds:
    """The matched holds ``part`` (``hold``: their indices in ``spans``; None: ``part`` of
    them, in order) as :class:`Holds` on ticket rows, each ticket's holds sorted by start."""
    start, end = spans
    if hold is not None:
        start, end = start.take(hold), end.take(hold)
    else:
        start, end = start[part], end[part]
    if bool((start == MISSING).any()):
        raise ValueError("holds: a hold without a start")
    new = row[1:] != row[:-1]
    if not bool(np.all((start[1:] >= start[:-1]) | new)):
        # Sort within tickets: the tickets' order stays, so the key is nearly sorted already.
        rank = np.zeros(len(row), dtype=np.int64)
        np.cumsum(new, out=rank[1:])
        order = by_ticket_and_start(rank, start, grouped=True)
        row, start, end = row.take(order), start.take(order), end.take(order)
    return Holds(row, start, end)


def _check_columns(tickets: pl.DataFrame, holds: pl.DataFrame) -> None:
    for column in ("ticket_id", "priority", "opened_at", *STOPS.values()):
        if column not in tickets.columns:
            raise ValueError(f"tickets: no {column!r} column")
    for column in ("ticket_id", "start", "end"):
        if column not in holds.columns:
            raise ValueError(f"holds: no {column!r} column")
    for column in ("opened_at", *STOPS.values()):
        _check_instants(tickets, column)


def _check_instants(frame: pl.DataFrame, column: str) -> None:
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"{column}: expected a time-zone-aware Datetime, got {dtype}")


def _seconds(
    frame: pl.DataFrame, *columns: str, fill: tuple[int, ...] | None = None
) -> list[Seconds]:
    """Time-zone-aware instant columns as int64 epoch seconds (floored), nulls as ``fill``
    (per column; default ``MISSING``), read-only. One Polars query: the columns are
    converted side by side."""
    for column in columns:
        _check_instants(frame, column)
    seconds = frame.select(
        (pl.col(c).dt.cast_time_unit("us").to_physical() // 1_000_000).fill_null(value)
        for c, value in zip(columns, fill or (MISSING,) * len(columns), strict=True)
    )
    return [s.to_numpy() for s in seconds.get_columns()]


def _as_of_seconds(as_of: datetime | None) -> int | None:
    if as_of is None:
        return None
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must carry a time zone (a naive time is ambiguous)")
    return int(as_of.timestamp())
