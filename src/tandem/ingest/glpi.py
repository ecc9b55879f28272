"""GLPI ticket CSV export.

Columns by field name or English label: ``id``/``ID``, ``date``/``Opening date``,
``solvedate``/``Resolution date``, ``closedate``/``Closing date``, ``priority``,
``type``, ``itilcategories_id``/``Category``, ``Assigned to - Group``; ``name``/``Title``
is free text, kept only with ``keep_text=True``. Dates are local ``YYYY-MM-DD HH:MM:SS``,
read in ``timezone``.

Priority (GLPI's 1-6 scale, as a number or its English label): 6 Major and 5 Very high ->
P1, 4 High -> P2, 3 Medium -> P3, 2 Low and 1 Very low -> P4. Type: 1 Incident ->
``incident``, 2 Request -> ``request``, anything else ``other``. GLPI's export has no
first-response instant (its ``takeintoaccount_delay_stat`` counts calendar time, not wall
time), so ``responded_at`` stays null unless mapped.

Holds: GLPI keeps only the start of the latest waiting period (``begin_waiting_date``)
and the total seconds spent waiting (``waiting_duration``). A ticket with a
``begin_waiting_date`` gets one hold: ``[begin_waiting_date, + waiting_duration)`` when the
duration is positive, else an open hold (it is still waiting). With several waiting
periods the total is placed at the latest one: the total is exact, its placement is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import polars as pl

from tandem.ingest._common import (
    ISO,
    ROW,
    Imported,
    check_holds,
    finish_holds,
    finish_tickets,
    map_priority,
    mark_missing,
    open_csv_export,
    parse_counts,
    parse_instants,
    user_priority_table,
)
from tandem.ingest.dates import chosen_format
from tandem.ingest.limits import Limits

ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("id", "ID"),
    "opened_at": ("date", "Opening date"),
    "resolved_at": ("solvedate", "Resolution date"),
    "closed_at": ("closedate", "Closing date"),
    "priority_raw": ("priority", "Priority"),
    "kind_raw": ("type", "Type"),
    "category": ("itilcategories_id", "Category"),
    "assignment_group": ("Assigned to - Group", "groups_id_assign"),
    "begin_waiting_date": ("begin_waiting_date",),
    "waiting_duration": ("waiting_duration",),
}
REQUIRED = (("ticket_id", "id"), ("opened_at", "date"))
INSTANTS = ("opened_at", "responded_at", "resolved_at", "closed_at", "begin_waiting_date")
PRIORITIES: dict[str, str | None] = {
    "6": "P1",
    "major": "P1",
    "5": "P1",
    "very high": "P1",
    "4": "P2",
    "high": "P2",
    "3": "P3",
    "medium": "P3",
    "2": "P4",
    "low": "P4",
    "1": "P4",
    "very low": "P4",
}
KINDS = {"1": "incident", "incident": "incident", "2": "request", "request": "request"}


def read_glpi(
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
    """Read a GLPI ticket CSV export (see the module docstring)."""
    export = open_csv_export(
        source,
        file_name=file_name,
        timezone=timezone,
        aliases=ALIASES,
        mapping=mapping,
        required=REQUIRED,
        expected_format="glpi",
        text_labels=("name", "Title") if keep_text else None,
        limits=limits,
    )
    problems, columns, df = export.problems, export.columns, export.frame
    labels = dict(columns)
    warnings: list[str] = []
    df = mark_missing(df)
    fmt = chosen_format(date_format, problems) or ISO
    df = parse_instants(df, INSTANTS, fmt, timezone, problems, warnings, labels)
    export.opened.limits.check_time(export.opened.name)  # between stages
    table = user_priority_table(PRIORITIES, priority_map)
    df = map_priority(
        df, table, problems, warnings, labels.get("priority_raw", "priority"),
        "expected 1-6 or Very low ... Major",
    )  # fmt: skip
    df = parse_counts(df, ("waiting_duration",), problems, labels)
    kind = pl.lit("other")
    if "kind_raw" in df.columns:
        kind = pl.col("kind_raw").str.to_lowercase().replace_strict(KINDS, default="other")
    df = df.with_columns(kind.fill_null("other").alias("kind"))
    tickets = finish_tickets(df, problems, labels, keep_text=keep_text)
    holds = pl.DataFrame(schema={ROW: pl.UInt32, "ticket_id": pl.String})
    if "begin_waiting_date" in df.columns:
        duration = pl.col("waiting_duration") if "waiting_duration" in df.columns else pl.lit(None)
        holds = df.filter(pl.col("begin_waiting_date").is_not_null()).select(
            ROW,
            "ticket_id",
            pl.col("begin_waiting_date").alias("start"),
            pl.when(duration > 0)
            .then(pl.col("begin_waiting_date") + pl.duration(seconds=duration))
            .alias("end"),
        )
        hold_labels = {
            "start": labels["begin_waiting_date"],
            "end": labels.get("waiting_duration", labels["begin_waiting_date"]),
            "ticket_id": labels["ticket_id"],
        }
        check_holds(holds, tickets, problems, hold_labels)
        problems.raise_if_any()
        holds = finish_holds(holds)
    else:
        holds = finish_holds(holds.with_columns(start=None, end=None))
    return Imported(tickets, holds, warnings, "glpi", df.height)
