"""Priorities, counts and the canonical ticket and hold frames."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import polars as pl

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.analytics.matching import search_sorted
from tandem.ingest._common.base import ROW
from tandem.ingest.errors import Problems
from tandem.ingest.validation import check_not_negative, check_text

# --- Priorities, counts, kinds ----------------------------------------------------------


def pkey(expr: pl.Expr) -> pl.Expr:
    """The lookup key of a raw priority: lower case, single spaces."""
    return expr.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def map_priority(
    df: pl.DataFrame,
    table: Mapping[str, str | None],
    problems: Problems,
    warnings: list[str],
    label: str,
    hint: str,
) -> pl.DataFrame:
    """Set ``priority`` (P1..P4 or null) from ``priority_raw`` through ``table`` (keys as
    :func:`pkey` makes them). Values mapped to None give a warning; unknown ones a problem."""
    if "priority_raw" not in df.columns:
        return df.with_columns(
            pl.lit(None, pl.String).alias("priority_raw"), pl.lit(None, pl.String).alias("priority")
        )
    # A file has a handful of distinct raw priorities: key and map each once, then look
    # every row's raw value up in that small table (one hash pass, no per-row regex).
    known = pl.Series(list(table.keys()), dtype=pl.String).implode()
    key = pkey(pl.col("priority_raw"))
    distinct = (
        df.lazy()
        .filter(pl.col("priority_raw").is_not_null())
        .group_by("priority_raw")
        .agg(pl.len().alias("__n"), pl.col(ROW).min().alias("__first"))
        .with_columns(
            key.replace_strict(dict(table), default=None, return_dtype=pl.String).alias("priority"),
            (~key.is_in(known)).alias("__unknown"),
        )
        .sort("__first")
        .collect()
    )
    by_raw = dict(zip(distinct["priority_raw"], distinct["priority"], strict=True))
    if by_raw and all(raw == priority for raw, priority in by_raw.items()):
        mapped = pl.col("priority_raw")  # already P1..P4 as written: the same column, no copy
    elif by_raw:
        mapped = pl.col("priority_raw").replace_strict(by_raw, default=None, return_dtype=pl.String)
    else:
        mapped = pl.lit(None, pl.String)
    df = df.with_columns(mapped.alias("priority"))
    unknown = distinct.filter(pl.col("__unknown"))["priority_raw"]
    if len(unknown):
        bad = df.filter(pl.col("priority_raw").is_in(unknown.implode())).head(problems.room)
        for row, value in bad.select(ROW, "priority_raw").iter_rows():
            problems.add(row, label, f"unknown priority '{value}' ({hint})")
    unmapped = distinct.filter(pl.col("priority").is_null() & ~pl.col("__unknown"))
    for value, n, row in unmapped.select("priority_raw", "__n", "__first").iter_rows():
        warnings.append(
            f"{label}: {n} ticket(s) have priority '{value}' (first on row {row}), which is "
            "none of P1-P4: their priority is left empty and no priority target applies"
        )
    return df


def user_priority_table(
    table: Mapping[str, str | None], priority_map: Mapping[str, str | None] | None
) -> dict[str, str | None]:
    out = dict(table)
    for raw, p in (priority_map or {}).items():
        out[_pkey_py(raw)] = p
    return out


def _pkey_py(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.lower()).strip()


def parse_counts(
    df: pl.DataFrame, names: Sequence[str], problems: Problems, labels: Mapping[str, str]
) -> pl.DataFrame:
    """Whole numbers, never negative; thousands separators in any place are ignored
    (``"1,024"``)."""
    outs = []
    for c in names:
        if c not in df.columns:
            continue
        value = pl.col(c).str.replace_all(r"[,\s']", "").cast(pl.Int32, strict=False)
        bad = df.filter(pl.col(c).is_not_null() & value.is_null()).head(problems.room)
        for row, raw in bad.select(ROW, c).iter_rows():
            problems.add(row, labels.get(c, c), f"'{raw}' is not a whole number")
        outs.append(value.alias(c))
    df = df.with_columns(outs)
    check_not_negative(df, [c for c in names if c in df.columns], problems, labels)
    return df


# --- The canonical frames ---------------------------------------------------------------


def finish_tickets(
    df: pl.DataFrame,
    problems: Problems,
    labels: Mapping[str, str],
    *,
    keep_text: bool,
    check_duplicates: bool = True,
) -> pl.DataFrame:
    """Check the parsed rows and return them as the canonical TICKETS frame.

    Problems: missing ticket id or opened_at, any other instant before opened_at,
    text the database would refuse (``validation.check_text``), duplicate ticket ids.
    Raises when any problem was found here or before.
    """

    def lab(c: str) -> str:
        return labels.get(c, c)

    for c in TICKETS:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None).cast(TICKETS[c]).alias(c))
    for c, what in (("ticket_id", "ticket id"), ("opened_at", "opened time")):
        missing = df.filter(pl.col(f"{c}__missing"))
        for (row,) in missing.select(ROW).head(problems.room).iter_rows():
            problems.add(row, lab(c), f"the {what} is missing")
    for c in ("responded_at", "resolved_at", "closed_at"):
        early = df.filter(pl.col(c) < pl.col("opened_at")).head(problems.room)
        for row, at, opened in early.select(ROW, c, "opened_at").iter_rows():
            problems.add(
                row,
                lab(c),
                f"{c.removesuffix('_at')} at {at:%Y-%m-%d %H:%M:%S} UTC is before opened at "
                f"{opened:%Y-%m-%d %H:%M:%S} UTC",
            )
    check_text(df, problems, labels)
    if check_duplicates and _may_repeat(df.get_column("ticket_id")):
        dup = (
            df.filter(pl.col("ticket_id").is_not_null())
            .with_columns(pl.col(ROW).min().over("ticket_id").alias("__first"))
            .filter(pl.col(ROW) != pl.col("__first"))
            .head(problems.room)
        )
        for row, tid, first in dup.select(ROW, "ticket_id", "__first").iter_rows():
            problems.add(
                row, lab("ticket_id"), f"duplicate ticket id '{tid}' (first on row {first})"
            )
    problems.raise_if_any()
    cols = [pl.col(c).cast(t) for c, t in TICKETS.items()]
    if keep_text:
        if "short_description" not in df.columns:
            df = df.with_columns(pl.lit(None, pl.String).alias("short_description"))
        cols.append(pl.col("short_description").cast(pl.String))
    return df.select(cols)


def _strictly_increasing(values: pl.Series) -> bool:
    """Each value greater than the one before (nulls make it false): unique, and sorted
    for a binary search. One comparison per row, far cheaper than hashing strings."""
    n = len(values)
    if values.null_count():
        return False
    return n <= 1 or bool((values.slice(1) > values.slice(0, n - 1)).all())


def _may_repeat(ids: pl.Series) -> bool:
    """Whether any non-null ticket id occurs twice (ids in order answer without hashing)."""
    if ids.null_count():
        ids = ids.drop_nulls()
    return not _strictly_increasing(ids) and bool(ids.is_duplicated().any())


REQUIRED = ("ticket_id", "opened_at")


def mark_missing(df: pl.DataFrame) -> pl.DataFrame:
    """Remember which required cells are empty in the file, before parsing turns unreadable
    values into nulls too (those are reported by the parser, not again as missing)."""
    return df.with_columns(
        (pl.col(c).is_null() if c in df.columns else pl.lit(True)).alias(f"{c}__missing")
        for c in REQUIRED
    )


def check_holds(
    holds: pl.DataFrame,
    tickets: pl.DataFrame | None,
    problems: Problems,
    labels: Mapping[str, str],
) -> None:
    """Holds that end before they start, belong to no ticket in the file, start before
    their ticket opened or end after it was resolved are problems. ``holds`` has ``_row``."""

    def lab(c: str) -> str:
        return labels.get(c, c)

    ends_early = pl.col("end") < pl.col("start")
    if holds.select(ends_early.any()).item():
        bad = holds.filter(ends_early).head(problems.room)
        for row, s, e in bad.select(ROW, "start", "end").iter_rows():
            problems.add(
                row,
                lab("end"),
                f"hold ends at {e:%Y-%m-%d %H:%M:%S} UTC, before it starts "
                f"({s:%Y-%m-%d %H:%M:%S} UTC)",
            )
    if tickets is None:
        return
    j = _with_ticket(holds, tickets)
    unknown = pl.col("__known").is_null()
    starts_early = pl.col("start") < pl.col("opened_at")
    ends_late = pl.col("resolved_at").is_not_null() & (
        pl.col("end").is_null() | (pl.col("end") > pl.col("resolved_at"))
    )
    # Integer comparisons over the whole frame; rows and messages only where a problem is.
    any_unknown, any_early, any_late = j.select(
        unknown.any(), starts_early.any(), ends_late.any()
    ).row(0)
    if any_unknown:
        for row, tid in j.filter(unknown).select(ROW, "ticket_id").head(problems.room).iter_rows():
            problems.add(
                row, lab("ticket_id"), f"hold for ticket '{tid}', which is not among the tickets"
            )
    if any_early:
        before = j.filter(starts_early).head(problems.room)
        for row, s, o in before.select(ROW, "start", "opened_at").iter_rows():
            problems.add(
                row,
                lab("start"),
                f"hold starts at {s:%Y-%m-%d %H:%M:%S} UTC, before its ticket opened "
                f"({o:%Y-%m-%d %H:%M:%S} UTC)",
            )
    if any_late:
        after = j.filter(ends_late).head(problems.room)
        for row, e, r in after.select(ROW, "end", "resolved_at").iter_rows():
            when = "is still open" if e is None else f"ends at {e:%Y-%m-%d %H:%M:%S} UTC"
            problems.add(
                row,
                lab("end"),
                f"hold {when}, after its ticket was resolved ({r:%Y-%m-%d %H:%M:%S} UTC)",
            )


def _with_ticket(holds: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
    """``holds`` (in their order) with their ticket's ``opened_at`` and ``resolved_at`` and
    ``__known`` (true, or null for a hold whose ticket is not in ``tickets``).

    Exports usually list tickets by number: when the ticket ids are strictly increasing
    (unique, no nulls), ``matching.search_sorted`` finds each hold's ticket at a fraction of
    the cost of a hash join; otherwise the left join does it."""
    ids = tickets.get_column("ticket_id")
    n = len(ids)
    if n and ids.null_count() == 0 and _strictly_increasing(ids):
        hold_ids = holds.get_column("ticket_id")
        # a ticket's holds usually follow each other: search once per run of equal ids
        first_in_run = (hold_ids != hold_ids.shift(1)).fill_null(True)
        searched = pl.Series(search_sorted(ids, hold_ids.filter(first_in_run)))
        position = searched.gather(first_in_run.cum_sum() - 1).clip(0, n - 1)
        hit = (ids.gather(position) == hold_ids).fill_null(False)
        found = tickets.select(
            pl.col("opened_at").gather(position), pl.col("resolved_at").gather(position)
        )
        return holds.with_columns(
            pl.when(hit).then(found.get_column("opened_at")).alias("opened_at"),
            pl.when(hit).then(found.get_column("resolved_at")).alias("resolved_at"),
            pl.when(hit).then(True).alias("__known"),
        )
    return holds.join(
        tickets.select("ticket_id", "opened_at", "resolved_at", pl.lit(True).alias("__known")),
        on="ticket_id",
        how="left",
        maintain_order="left",
    )


def finish_holds(holds: pl.DataFrame) -> pl.DataFrame:
    return holds.select(pl.col(c).cast(t) for c, t in HOLDS.items())


def empty_holds() -> pl.DataFrame:
    return pl.DataFrame(schema=HOLDS)
