"""ServiceNow exports: the incident list (CSV or XLSX) and the event-log shape.

**List export** (``read_servicenow``): one row per incident; columns by label or field name
(``Number``/``number``, ``Priority``, ``Opened``/``opened_at``, ``Resolved``, ``Closed``,
``Assignment group``, ``Category``, ``Reassignment count``, ``Reopen count``); priorities as
display values (``1 - Critical`` -> P1 ... ``4 - Low`` -> P4; ``5 - Planning`` -> no priority,
with a warning) or bare codes ``1``..``5``; dates in the instance's display format, detected
per file (see :func:`tandem.ingest._common.instants.detect_date_format`), read in ``timezone``.
ServiceNow has no "responded" field in a list export: ``responded_at`` stays null.

**Event log** (``read_servicenow_events``): several rows per incident, one per update, as in
the UCI "Incident management process enriched event log". For each incident, events are
ordered by ``sys_updated_at``, then ``sys_mod_count``, then their order in the file. Then:

- priority, opened/resolved/closed, group, category and counts come from the **last
  event** (the incident's final values; the raw priority is kept in ``priority_raw``);
- ``responded_at`` is the ``sys_updated_at`` of the first event whose state is no longer
  ``New`` (Active, Awaiting ..., Resolved: the first time someone acted on it; the log has
  no separate first-response field), never earlier than ``opened_at``; null if the
  incident never left New;
- holds are the time spent in ``Awaiting ...`` states: a hold starts at an awaiting event
  that follows a non-awaiting one (or is the first event), continues through further
  awaiting events, and ends at the next non-awaiting event. A hold still open at the last
  event ends at ``resolved_at``, else ``closed_at``, else stays open (null end) — unless
  those are before its start, then it stays open. Holds of zero length are dropped; a hold
  starting before ``opened_at`` (events logged before the opening time) starts at it;
- unknown states (the junk ``-100``) are warnings, and those events are ignored for
  holds and response;
- ``made_sla`` of the last event goes to ``Imported.extras`` (ticket_id, made_sla).

Duplicate numbers are the point of this shape and are not a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import polars as pl

from tandem.ingest._common import (
    ROW,
    DateFormat,
    Imported,
    check_not_empty,
    check_timezone,
    empty_holds,
    finish_holds,
    finish_tickets,
    is_xlsx,
    map_priority,
    mark_missing,
    open_csv_export,
    open_source,
    parse_counts,
    parse_instants,
    read_header,
    require,
    resolve_columns,
    scan_csv,
    user_priority_table,
)
from tandem.ingest._common.workbook import read_xlsx, xlsx_header
from tandem.ingest.dates import chosen_format, detect_or_explain
from tandem.ingest.errors import Problems
from tandem.ingest.limits import Limits

ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("Number",),
    "priority_raw": ("Priority",),
    "opened_at": ("Opened",),
    "resolved_at": ("Resolved",),
    "closed_at": ("Closed",),
    "assignment_group": ("Assignment group",),
    "category": ("Category",),
    "reassignment_count": ("Reassignment count",),
    "reopen_count": ("Reopen count",),
}
EVENT_ALIASES: dict[str, tuple[str, ...]] = {
    **ALIASES,
    "state": ("incident_state", "State"),
    "updated_at": ("sys_updated_at", "Updated"),
    "mod_count": ("sys_mod_count", "Updates"),
    "made_sla": ("Made SLA",),
}
INSTANTS = ("opened_at", "resolved_at", "closed_at")
REQUIRED = (("ticket_id", "Number"), ("opened_at", "Opened"))
EVENT_REQUIRED = (
    ("ticket_id", "number"),
    ("state", "incident_state"),
    ("updated_at", "sys_updated_at"),
    ("opened_at", "opened_at"),
)

#: Display values and codes; planning (5) is none of P1-P4.
PRIORITIES: dict[str, str | None] = {
    "1 - critical": "P1",
    "2 - high": "P2",
    "3 - moderate": "P3",
    "4 - low": "P4",
    "5 - planning": None,
    "1": "P1",
    "2": "P2",
    "3": "P3",
    "4": "P4",
    "5": None,
}
#: The event log's states (lower case); anything else is junk.
STATES = {
    "new",
    "active",
    "in progress",
    "on hold",
    "awaiting user info",
    "awaiting vendor",
    "awaiting problem",
    "awaiting evidence",
    "awaiting change",
    "awaiting caller",
    "resolved",
    "closed",
    "canceled",
    "cancelled",
    "1",
    "2",
    "3",
    "6",
    "7",
    "8",
}
ON_HOLD = ("awaiting", "on hold", "3")


def _date_format(
    df: pl.DataFrame,
    names: tuple[str, ...],
    date_format: str | None,
    problems: Problems,
    labels: Mapping[str, str],
) -> DateFormat:
    chosen = chosen_format(date_format, problems)
    if chosen is not None:
        return chosen
    return detect_or_explain(df, names, labels, problems)


def read_servicenow(
    source: Path | IO[bytes],
    *,
    timezone: str = "UTC",
    mapping: dict[str, str] | None = None,
    keep_text: bool = False,
    file_name: str | None = None,
    date_format: str | None = None,
    priority_map: Mapping[str, str | None] | None = None,
    limits: Limits | None = None,
) -> Imported:
    """Read a ServiceNow incident list export, CSV or XLSX (see the module docstring).

    ``date_format``: the instance's display format when the file does not settle it: a key
    of ``tandem.ingest._common.instants.DATE_FORMATS`` (e.g. ``"dd-MM-yyyy HH:mm:ss"``), a
    name or ``strftime`` pattern of :mod:`tandem.ingest.dates` (``"dd/mm/yyyy"``,
    ``"%d/%m/%Y %H:%M"``).
    ``limits``: see :mod:`tandem.ingest.limits` (default: ``DEFAULT_LIMITS``).
    """
    opened = open_source(source, file_name, limits)
    problems = Problems(opened.name)
    check_timezone(timezone, problems)
    aliases = dict(ALIASES)
    if keep_text:
        aliases["short_description"] = ("Short description",)
    if is_xlsx(opened.head):
        header = xlsx_header(opened, problems)
        columns = resolve_columns(header, aliases, mapping)
        require(columns, REQUIRED, header, problems, "servicenow")
        df = read_xlsx(opened, columns, problems)
    else:
        header = read_header(opened, problems)
        columns = resolve_columns(header, aliases, mapping)
        require(columns, REQUIRED, header, problems, "servicenow")
        df = scan_csv(opened, columns, problems)
    check_not_empty(df, problems)
    labels = dict(columns)
    warnings: list[str] = []
    fmt = _date_format(df, INSTANTS, date_format, problems, labels)
    df = mark_missing(df)
    df = parse_instants(df, INSTANTS, fmt, timezone, problems, warnings, labels)
    opened.limits.check_time(opened.name)  # between stages: parsing can take seconds
    table = user_priority_table(PRIORITIES, priority_map)
    df = map_priority(
        df, table, problems, warnings, labels.get("priority_raw", "Priority"),
        "expected '1 - Critical' ... '5 - Planning'",
    )  # fmt: skip
    df = parse_counts(df, ("reassignment_count", "reopen_count"), problems, labels)
    df = df.with_columns(pl.lit("incident").alias("kind"))
    tickets = finish_tickets(df, problems, labels, keep_text=keep_text)
    return Imported(tickets, empty_holds(), warnings, "servicenow", df.height)


# --- Event log --------------------------------------------------------------------------


def read_servicenow_events(
    source: Path | IO[bytes],
    *,
    timezone: str = "UTC",
    mapping: dict[str, str] | None = None,
    keep_text: bool = False,
    file_name: str | None = None,
    date_format: str | None = None,
    priority_map: Mapping[str, str | None] | None = None,
    limits: Limits | None = None,
) -> Imported:
    """Read a ServiceNow event log (see the module docstring for what wins)."""
    export = open_csv_export(
        source,
        file_name=file_name,
        timezone=timezone,
        aliases=EVENT_ALIASES,
        mapping=mapping,
        required=EVENT_REQUIRED,
        expected_format="servicenow-events",
        text_labels=("Short description",) if keep_text else None,
        limits=limits,
    )
    problems, columns, df = export.problems, export.columns, export.frame
    labels = dict(columns)
    warnings: list[str] = []
    instants = (*INSTANTS, "updated_at")
    fmt = _date_format(df, instants, date_format, problems, labels)
    df = mark_missing(df).with_columns(pl.col("updated_at").is_null().alias("__no_update"))
    df = parse_instants(df, instants, fmt, timezone, problems, warnings, labels)
    export.opened.limits.check_time(export.opened.name)  # between stages
    missing = df.filter(pl.col("__no_update"))
    for (row,) in missing.select(ROW).head(problems.room).iter_rows():
        problems.add(row, labels["updated_at"], "the update time is missing")
    table = user_priority_table(PRIORITIES, priority_map)
    df = map_priority(
        df, table, problems, warnings, labels.get("priority_raw", "priority"),
        "expected '1 - Critical' ... '5 - Planning'",
    )  # fmt: skip
    df = parse_counts(df, ("reassignment_count", "reopen_count", "mod_count"), problems, labels)
    problems.raise_if_any()

    state = pl.col("state").str.to_lowercase()
    df = df.with_columns(
        state.is_in(list(STATES)).fill_null(False).alias("__known"),
        pl.any_horizontal(state.str.starts_with(s) for s in ON_HOLD)
        .fill_null(False)
        .alias("__hold"),
    )
    junk = df.filter(~pl.col("__known")).group_by("state").agg(pl.len(), pl.col(ROW).min())
    for value, n, row in junk.sort(ROW).iter_rows():
        warnings.append(
            f"{labels['state']}: {n} event(s) with unknown state '{value}' (first on row {row}) "
            "are ignored for holds and response"
        )
    order = (
        ["ticket_id", "updated_at"] + (["mod_count"] if "mod_count" in df.columns else []) + [ROW]
    )
    df = df.sort(order)

    last = [
        pl.col(c).last()
        for c in df.columns
        if c not in ("ticket_id", "state", "updated_at", "__known", "__hold", "__no_update", ROW)
    ]
    responded = (
        pl.col("updated_at")
        .filter(pl.col("__known") & (pl.col("state").str.to_lowercase() != "new"))
        .first()
        .alias("responded_at")
    )
    tickets = df.group_by("ticket_id", maintain_order=True).agg(
        *last, responded, pl.col(ROW).first()
    )
    tickets = tickets.with_columns(
        pl.max_horizontal("responded_at", "opened_at").alias("responded_at"),
        pl.lit("incident").alias("kind"),
    )
    extras = None
    if "made_sla" in tickets.columns:
        extras = tickets.select(
            "ticket_id",
            pl.col("made_sla")
            .str.to_lowercase()
            .replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean),
        )
    holds = _holds(df, tickets, warnings)
    result = finish_tickets(tickets, problems, labels, keep_text=keep_text, check_duplicates=False)
    return Imported(result, holds, warnings, "servicenow-events", df.height, extras)


def _holds(events: pl.DataFrame, tickets: pl.DataFrame, warnings: list[str]) -> pl.DataFrame:
    """Hold intervals from the sorted events (see the module docstring)."""
    ev = events.filter(pl.col("__known")).select("ticket_id", "updated_at", "__hold")
    ev = ev.with_columns(
        pl.col("__hold").shift(1).over("ticket_id").fill_null(False).alias("__prev"),
        pl.col("updated_at").shift(-1).over("ticket_id").alias("__next"),
    ).with_columns(
        (pl.col("__hold") & ~pl.col("__prev")).cum_sum().over("ticket_id").alias("__run")
    )
    runs = (
        ev.filter(pl.col("__hold"))
        .group_by("ticket_id", "__run", maintain_order=True)
        .agg(pl.col("updated_at").first().alias("start"), pl.col("__next").last().alias("end"))
        .join(tickets.select("ticket_id", "opened_at", "resolved_at", "closed_at"), on="ticket_id")
    )
    fallback = pl.coalesce("resolved_at", "closed_at")
    runs = runs.with_columns(
        pl.when(pl.col("end").is_not_null())
        .then(pl.col("end"))
        .when(fallback >= pl.col("start"))
        .then(fallback)
        .otherwise(None)
        .alias("end"),
    )
    early = runs.filter(pl.col("start") < pl.col("opened_at")).height
    if early:
        warnings.append(
            f"{early} hold(s) start before their incident's opened_at (events logged before "
            "the opening time): they start at opened_at"
        )
    runs = runs.with_columns(pl.max_horizontal("start", "opened_at").alias("start"))
    runs = runs.filter(pl.col("end").is_null() | (pl.col("end") > pl.col("start")))
    return finish_holds(runs) if runs.height else empty_holds()
