"""The column schemas of the frames the engine reads and writes.

Every instant is a timezone-aware UTC ``Datetime("us", "UTC")`` truncated to whole seconds
(the engine counts exact integer seconds). ``ingest`` produces these frames from service-desk
exports; ``analytics`` consumes them.
"""

from __future__ import annotations

import polars as pl

UTC_INSTANT = pl.Datetime("us", "UTC")

#: One row per ticket.
TICKETS: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),  # the tool's number, e.g. INC0010001; unique per file
    "kind": pl.String(),  # "incident", "request" or "other"
    "priority": pl.String(),  # "P1".."P4"; null when the raw value maps to none
    "priority_raw": pl.String(),  # as exported, e.g. "1 - Critical"
    "opened_at": UTC_INSTANT,
    "responded_at": UTC_INSTANT,  # null: no response yet / not known
    "resolved_at": UTC_INSTANT,  # null: open
    "closed_at": UTC_INSTANT,
    "assignment_group": pl.String(),
    "category": pl.String(),
    "reassignment_count": pl.Int32(),
    "reopen_count": pl.Int32(),
}

#: One row per hold (pause) interval; several per ticket, possibly overlapping.
HOLDS: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "start": UTC_INSTANT,
    "end": UTC_INSTANT,  # null: still on hold (counted up to the as-of instant)
}

#: One row per ticket and service-level target that applies (the measurement).
MEASUREMENTS: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "metric": pl.String(),  # "response" or "resolution"
    "elapsed_seconds": pl.Int64(),  # business seconds in the target's calendar, holds removed
    "target_seconds": pl.Int64(),
    "met": pl.Boolean(),
}

#: Which side of the partnership works each assignment group; one row per group.
SIDES: dict[str, pl.DataType] = {
    "assignment_group": pl.String(),
    "side": pl.String(),  # "client" (the hospital's own team) or "vendor"
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
