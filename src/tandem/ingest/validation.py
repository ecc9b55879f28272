"""What storing an import would refuse, refused when the file is read: one set of rules for
the import wizard's preview, ``tandem import-tickets`` and ``tandem sla measure``.

Every reader applies them through the steps all readers share (``parse_instants``,
``parse_counts``, ``finish_tickets``), so ``read_export`` and ``read_holds_csv`` refuse a
value the database would refuse at write time, with its file, row (header = row 1) and
column, before anything is written:

- text longer than its database column (:data:`TEXT_LENGTHS`; the ticket model's
  ``max_length`` values are these constants), and text holding a NUL character (PostgreSQL
  stores none);
- a negative count (the columns are ``PositiveIntegerField``);
- a timestamp with a UTC offset beyond ±14:00 (no place on Earth has one; ``+25:00`` is a
  typo or a broken export tool) or minutes past 59 in its offset;
- a timestamp outside the years :data:`YEARS` (1990-2100 inclusive): service-desk tools
  did not exist before, and a year such as 1900 or 2999 is a default or a typo that would
  otherwise weigh on every SLA clock.

The checks are vectorized: a pass over each column, rows fetched only where a problem is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import polars as pl

from tandem.ingest._common.base import ROW
from tandem.ingest.errors import Problems

#: The longest value each bounded text column of a ticket holds in the database.
TEXT_LENGTHS: dict[str, int] = {
    "ticket_id": 100,
    "priority_raw": 100,
    "assignment_group": 200,
    "category": 200,
}
#: The years a timestamp may fall in (inclusive).
YEARS = (1990, 2100)
#: The largest UTC offset on Earth (Kiribati, +14:00), in minutes.
MAX_OFFSET_MINUTES = 14 * 60

_EARLIEST = datetime(YEARS[0], 1, 1, tzinfo=UTC)
_LATEST = datetime(YEARS[1] + 1, 1, 1, tzinfo=UTC)


def check_text(df: pl.DataFrame, problems: Problems, labels: Mapping[str, str]) -> None:
    """Values longer than :data:`TEXT_LENGTHS` allows."""
    bounded = [c for c in TEXT_LENGTHS if c in df.columns and df.schema[c] == pl.String]
    if not bounded or df.height == 0:
        return
    # bytes first (never fewer than the characters): characters only for a column over
    longest = df.select(pl.col(c).str.len_bytes().max() for c in bounded).row(0)
    for c, size in zip(bounded, longest, strict=True):
        limit = TEXT_LENGTHS[c]
        if size is None or size <= limit:
            continue
        chars = pl.col(c).str.len_chars()
        bad = df.filter(chars > limit).head(problems.room)
        for row, n in bad.select(ROW, chars).iter_rows():
            reason = f"{n:,} characters, over the limit of {limit:,} for {c}"
            problems.add(row, labels.get(c, c), reason)


def check_nul(df: pl.DataFrame, problems: Problems, labels: Mapping[str, str]) -> None:
    """Text holding a NUL character. Readers call it only for a file that has a NUL byte
    somewhere (one ``memchr`` over the file answers that for nearly every file)."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    if not text or df.height == 0:
        return
    nul = df.select(pl.col(c).str.contains("\x00", literal=True).any() for c in text).row(0)
    for c, any_nul in zip(text, nul, strict=True):
        if any_nul:
            bad = df.filter(pl.col(c).str.contains("\x00", literal=True)).head(problems.room)
            for (row,) in bad.select(ROW).iter_rows():
                problems.add(row, labels.get(c, c), "the value holds a NUL character")


def check_not_negative(
    df: pl.DataFrame, counts: Sequence[str], problems: Problems, labels: Mapping[str, str]
) -> None:
    """Counts (whole numbers, already parsed) below zero."""
    if df.height == 0 or not counts:
        return
    found = df.select((pl.col(c) < 0).any() for c in counts).row(0)
    for c, negative in zip(counts, found, strict=True):
        if negative:
            bad = df.filter(pl.col(c) < 0).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                reason = f"'{value}' is negative: a count is never below 0"
                problems.add(row, labels.get(c, c), reason)


def out_of_years(utc: pl.Expr) -> pl.Expr:
    """True where the instant falls outside :data:`YEARS`."""
    return (utc < _EARLIEST) | (utc >= _LATEST)


def years_reason(value: object) -> str:
    return f"'{value}' is outside the years {YEARS[0]}-{YEARS[1]}"


def offset_reason(value: object) -> str:
    return f"'{value}' has a UTC offset beyond ±14:00"
