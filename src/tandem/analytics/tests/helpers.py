"""Small helpers shared by the analytics tests: local times to epoch seconds, one-ticket clocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from tandem.analytics.calendar import BusinessCalendar, open_intervals_covering
from tandem.analytics.clocks import STILL_ON_HOLD, Holds, elapsed_seconds
from tandem.analytics.frames import HOLDS, TICKETS

HOUR = 3600


def at(text: str, timezone: str = "America/Chicago") -> int:
    """Epoch seconds of an ISO local time (``fold=0``) or an ISO time with an offset/``Z``."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return int(moment.timestamp())


def engine(
    calendar: BusinessCalendar,
    tickets: Sequence[tuple[int, int]],
    holds: Sequence[tuple[int, int, int | None]] = (),
) -> list[int]:
    """The engine's elapsed seconds for ``(start, end)`` tickets and ``(ticket, start, end)``
    holds (``end`` None: still on hold)."""
    start = np.array([t[0] for t in tickets], dtype=np.int64)
    end = np.array([t[1] for t in tickets], dtype=np.int64)
    instants = [*start, *end]
    intervals = open_intervals_covering(calendar, int(min(instants)), int(max(instants)))
    grouped = None
    if holds:
        grouped = Holds.group(
            np.array([h[0] for h in holds], dtype=np.int64),
            np.array([h[1] for h in holds], dtype=np.int64),
            np.array([STILL_ON_HOLD if h[2] is None else h[2] for h in holds], dtype=np.int64),
        )
    return [int(x) for x in elapsed_seconds(intervals, start, end, grouped)]


def one(
    calendar: BusinessCalendar,
    start: int,
    end: int,
    holds: Sequence[tuple[int, int | None]] = (),
) -> int:
    return engine(calendar, [(start, end)], [(0, a, b) for a, b in holds])[0]


def instant(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def ticket_frame(
    rows: Sequence[tuple[str, str | None, int | None, int | None, int | None]],
    groups: Sequence[str | None] | None = None,
) -> pl.DataFrame:
    """``(ticket_id, priority, opened, responded, resolved)`` rows in the TICKETS schema,
    with an ``assignment_group`` column when ``groups`` is given."""
    frame = pl.DataFrame(
        {
            "ticket_id": [r[0] for r in rows],
            "priority": [r[1] for r in rows],
            "opened_at": [instant(r[2]) for r in rows],
            "responded_at": [instant(r[3]) for r in rows],
            "resolved_at": [instant(r[4]) for r in rows],
        },
        schema={k: TICKETS[k] for k in ("ticket_id", "priority", "opened_at")}
        | {k: TICKETS[k] for k in ("responded_at", "resolved_at")},
    )
    if groups is None:
        return frame
    return frame.with_columns(pl.Series("assignment_group", groups, TICKETS["assignment_group"]))


def hold_frame(rows: Sequence[tuple[str, int, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticket_id": [r[0] for r in rows],
            "start": [instant(r[1]) for r in rows],
            "end": [instant(r[2]) for r in rows],
        },
        schema=HOLDS,
    )
