"""The generic CSV: Tandem's own columns, ISO 8601 timestamps.

Tickets: ``ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group`` and
optionally ``closed_at``, ``kind``, ``category``, ``reassignment_count``, ``reopen_count``
(and ``short_description``, kept only with ``keep_text=True``). Timestamps are ISO 8601
(``2025-03-01T09:00:00Z``, ``2025-03-01 09:00:00-06:00``; fractions of a second are
dropped); values without an offset are read in ``timezone``. An empty ``resolved_at`` is
an open ticket. ``mapping`` maps canonical names to the file's columns when they differ.

Holds: ``ticket_id,start,end`` (empty ``end``: still on hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import polars as pl

from tandem.ingest._common import (
    ISO_8601,
    ROW,
    Imported,
    all_fast,
    check_holds,
    check_not_empty,
    check_timezone,
    clean_iso,
    empty_holds,
    finish_holds,
    finish_tickets,
    map_priority,
    mark_missing,
    open_source,
    parse_counts,
    parse_instants,
    read_header,
    require,
    resolve_columns,
    scan_csv,
    user_priority_table,
)
from tandem.ingest.dates import chosen_format
from tandem.ingest.errors import Problems
from tandem.ingest.limits import Limits

INSTANTS = ("opened_at", "responded_at", "resolved_at", "closed_at")
ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": (),
    "kind": (),
    "priority_raw": ("priority",),
    "opened_at": (),
    "responded_at": (),
    "resolved_at": (),
    "closed_at": (),
    "assignment_group": (),
    "category": (),
    "reassignment_count": (),
    "reopen_count": (),
}
REQUIRED = (("ticket_id", "ticket_id"), ("opened_at", "opened_at"))

#: Accepted priorities (compared in lower case): P1..P4, 1..4, ServiceNow-style labels.
PRIORITIES: dict[str, str | None] = {
    **{f"p{i}": f"P{i}" for i in range(1, 5)},
    **{str(i): f"P{i}" for i in range(1, 5)},
    "1 - critical": "P1",
    "2 - high": "P2",
    "3 - moderate": "P3",
    "4 - low": "P4",
}
KINDS = {"incident": "incident", "request": "request", "other": "other"}


def read_generic(
    source: Path | IO[bytes],
    *,
    timezone: str = "UTC",
    mapping: dict[str, str] | None = None,
    keep_text: bool = False,
    file_name: str | None = None,
    priority_map: Mapping[str, str | None] | None = None,
    limits: Limits | None = None,
    date_format: str | None = None,
) -> Imported:
    """Read a generic tickets CSV (see the module docstring).

    ``date_format``: when the timestamps are not ISO 8601, their format (a name or
    ``strftime`` pattern, see :func:`tandem.ingest.dates.parse_date_format`).

    ``mapping``: canonical name -> the file's column (``{"ticket_id": "Ref"}``; the raw
    priority is ``priority``). ``priority_map``: extra raw priority -> P1..P4 or None.
    A ``kind`` other than incident/request/other is read as ``other``; no column: ``other``.
    """
    opened = open_source(source, file_name, limits)
    problems = Problems(opened.name)
    check_timezone(timezone, problems)
    fmt = chosen_format(date_format, problems) or ISO_8601
    header = read_header(opened, problems)
    user = dict(mapping or {})
    if "priority" in user:
        user["priority_raw"] = user.pop("priority")
    aliases = dict(ALIASES)
    if keep_text:
        aliases["short_description"] = ()
    columns = resolve_columns(header, aliases, user)
    require(columns, [(c, columns.get(c, c)) for c, _ in REQUIRED], header, problems, "generic")
    df = scan_csv(opened, columns, problems, raw=INSTANTS)
    check_not_empty(df, problems)
    df, fast = clean_iso(df, INSTANTS)
    labels = {c: columns[c] for c in columns}
    warnings: list[str] = []
    df = mark_missing(df)
    df = parse_instants(df, INSTANTS, fmt, timezone, problems, warnings, labels, fast=fast)
    opened.limits.check_time(opened.name)  # between stages: parsing can take seconds
    table = user_priority_table(PRIORITIES, priority_map)
    df = map_priority(
        df, table, problems, warnings, labels.get("priority_raw", "priority"), "expected P1-P4"
    )
    df = parse_counts(df, ("reassignment_count", "reopen_count"), problems, labels)
    if "kind" in df.columns:
        kind = pl.col("kind").str.to_lowercase().replace_strict(KINDS, default="other")
        df = df.with_columns(kind.fill_null("other").alias("kind"))
    else:
        df = df.with_columns(pl.lit("other").alias("kind"))
    tickets = finish_tickets(df, problems, labels, keep_text=keep_text)
    return Imported(tickets, empty_holds(), warnings, "generic", df.height)


def read_holds_csv(
    source: Path | IO[bytes],
    *,
    timezone: str = "UTC",
    mapping: dict[str, str] | None = None,
    keep_text: bool = False,
    file_name: str | None = None,
    tickets: pl.DataFrame | None = None,
    limits: Limits | None = None,
    date_format: str | None = None,
) -> Imported:
    """Read a holds CSV ``ticket_id,start,end``; ``Imported.tickets`` is empty.

    With ``tickets`` (the frame read from the tickets file), holds for unknown tickets,
    starting before their ticket opened or ending after it was resolved are problems.
    ``date_format``: the format of the tickets' export, chosen for it (a name or pattern, see
    :mod:`tandem.ingest.dates`): the holds are read with it, unless every one of their
    timestamps is ISO 8601 (a holds file written by another tool than the export).
    """
    del keep_text  # holds carry no free text
    opened = open_source(source, file_name, limits)
    problems = Problems(opened.name)
    check_timezone(timezone, problems)
    fmt = chosen_format(date_format, problems) or ISO_8601
    header = read_header(opened, problems)
    aliases: dict[str, tuple[str, ...]] = {"ticket_id": (), "start": (), "end": ()}
    columns = resolve_columns(header, aliases, mapping)
    require(
        columns,
        [(c, columns.get(c, c)) for c in ("ticket_id", "start", "end")],
        header,
        problems,
        "holds",
    )
    df = scan_csv(opened, columns, problems, raw=("start", "end"))
    check_not_empty(df, problems)
    df, fast = clean_iso(df, ("start", "end"))
    if fmt is not ISO_8601 and all_fast(df, fast):
        fmt = ISO_8601
    labels = dict(columns)
    warnings: list[str] = []
    missing_id = df.filter(pl.col("ticket_id").is_null()).head(problems.room)
    for (row,) in missing_id.select(ROW).iter_rows():
        problems.add(row, labels["ticket_id"], "the ticket id is missing")
    missing_start = df.filter(pl.col("start").is_null()).head(problems.room)
    for (row,) in missing_start.select(ROW).iter_rows():
        problems.add(row, labels["start"], "the hold start is missing")
    df = parse_instants(df, ("start", "end"), fmt, timezone, problems, warnings, labels, fast=fast)
    opened.limits.check_time(opened.name)  # between stages: parsing can take seconds
    problems.raise_if_any()
    check_holds(df, tickets, problems, labels)
    problems.raise_if_any()
    empty_tickets = finish_tickets(
        df.clear()
        .select(ROW)
        .with_columns(
            pl.lit(False).alias("ticket_id__missing"), pl.lit(False).alias("opened_at__missing")
        ),
        problems,
        {},
        keep_text=False,
    )
    return Imported(empty_tickets, finish_holds(df), warnings, "holds", df.height)
