"""Jira Service Management CSV export.

Columns: ``Issue key`` (ticket id), ``Priority``, ``Created`` (opened), ``Resolved``,
``Custom field (Request Type)`` (or ``Issue Type``) for the kind, ``Component/s`` as the
category; ``Summary`` is free text, kept only with ``keep_text=True``. Dates look like
``12/Mar/24 3:04 PM`` (the exporting user's locale; ISO dates are read too), in the
exporting user's zone: pass it as ``timezone``. Jira has no assignment group or closed time
in this export (map one with ``mapping`` if the site has such a field); there is no
first-response time either, so ``responded_at`` stays null unless mapped.

Priorities (Jira's defaults and the older names): Highest, Blocker, Critical -> P1;
High, Major -> P2; Medium -> P3; Low, Lowest, Minor, Trivial -> P4. Other names: pass
``priority_map``. Kind: a request type or issue type naming an incident, problem or outage
is an ``incident``, any other is a ``request``; none is ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import polars as pl

from tandem.ingest._common import (
    ISO,
    JIRA,
    Imported,
    empty_holds,
    finish_tickets,
    map_priority,
    mark_missing,
    open_csv_export,
    parse_instants,
    user_priority_table,
)
from tandem.ingest.dates import chosen_format
from tandem.ingest.limits import Limits

ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("Issue key",),
    "priority_raw": ("Priority",),
    "opened_at": ("Created",),
    "resolved_at": ("Resolved",),
    "kind_raw": ("Custom field (Request Type)", "Request Type", "Issue Type"),
    "category": ("Component/s", "Components"),
}
REQUIRED = (("ticket_id", "Issue key"), ("opened_at", "Created"))
INSTANTS = ("opened_at", "responded_at", "resolved_at", "closed_at")
PRIORITIES: dict[str, str | None] = {
    "highest": "P1",
    "blocker": "P1",
    "critical": "P1",
    "high": "P2",
    "major": "P2",
    "medium": "P3",
    "low": "P4",
    "lowest": "P4",
    "minor": "P4",
    "trivial": "P4",
    **{f"p{i}": f"P{i}" for i in range(1, 5)},
}
INCIDENT_WORDS = r"(?i)incident|problem|outage|fault|broken|not working"


def read_jira(
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
    """Read a Jira Service Management CSV export (see the module docstring)."""
    export = open_csv_export(
        source,
        file_name=file_name,
        timezone=timezone,
        aliases=ALIASES,
        mapping=mapping,
        required=REQUIRED,
        expected_format="jira",
        text_labels=("Summary",) if keep_text else None,
        limits=limits,
    )
    problems, columns, df = export.problems, export.columns, export.frame
    labels = dict(columns)
    warnings: list[str] = []
    present = [c for c in INSTANTS if c in df.columns]
    values = pl.concat([df[c] for c in present]).drop_nulls()
    fmt = chosen_format(date_format, problems) or (
        JIRA if values.str.contains(r"/[A-Za-z]{3}/").any() or values.len() == 0 else ISO
    )
    df = mark_missing(df)
    df = parse_instants(df, INSTANTS, fmt, timezone, problems, warnings, labels)
    export.opened.limits.check_time(export.opened.name)  # between stages
    table = user_priority_table(PRIORITIES, priority_map)
    df = map_priority(
        df, table, problems, warnings, labels.get("priority_raw", "Priority"),
        "expected Highest, High, Medium, Low or Lowest; pass priority_map= for others",
    )  # fmt: skip
    if "kind_raw" in df.columns:
        kind = (
            pl.when(pl.col("kind_raw").is_null())
            .then(pl.lit("other"))
            .when(pl.col("kind_raw").str.contains(INCIDENT_WORDS))
            .then(pl.lit("incident"))
            .otherwise(pl.lit("request"))
        )
    else:
        kind = pl.lit("other")
    df = df.with_columns(kind.alias("kind"))
    tickets = finish_tickets(df, problems, labels, keep_text=keep_text)
    return Imported(tickets, empty_holds(), warnings, "jira", df.height)
