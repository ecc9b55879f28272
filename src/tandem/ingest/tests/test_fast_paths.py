"""The ingest's faster paths give exactly what the straightforward ones gave.

Each ``old_*`` function is the previous implementation, kept here as the oracle: the new one
must return the same frame (values, dtypes, column order) and report the same problems (file,
row, column, reason, in the same order) on good and bad input alike.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tandem.analytics.frames import TICKETS, UTC_INSTANT
from tandem.ingest._common import (
    MISSING,
    ROW,
    Opened,
    check_holds,
    clean_iso,
    clean_strings,
    finish_tickets,
    map_priority,
    mark_missing,
    open_source,
    scan_csv,
    user_priority_table,
)
from tandem.ingest._common.canonical import pkey
from tandem.ingest._common.instants import (
    ISO,
    ISO_8601,
    DateFormat,
    _general_front,
    _month_starts,
    parse_instants,
)
from tandem.ingest.errors import IngestError, Problems
from tandem.ingest.generic import PRIORITIES

# --- Oracles: the previous implementations ------------------------------------------------


def old_clean_strings(df: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(MISSING))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in text
    )


def old_scan_csv(opened: Opened, columns: Mapping[str, str], problems: Problems) -> pl.DataFrame:
    try:
        lf = pl.scan_csv(
            opened.scan_target(),
            infer_schema=False,
            glob=False,
            encoding="utf8-lossy",
            raise_if_empty=False,
        )
        df = (
            lf.select([pl.col(col).alias(canonical) for canonical, col in columns.items()])
            .with_row_index(ROW, offset=2)
            .collect()
        )
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise problems.fail(None, None, f"not a readable CSV file: {first}") from None
    return old_clean_strings(df)


# --- Helpers ------------------------------------------------------------------------------


def outcome(function: Callable[..., pl.DataFrame], *args: Any) -> object:
    """The frame returned, or the problems raised (as tuples)."""
    try:
        return function(*args)
    except IngestError as e:
        return [(p.file, p.row, p.column, p.reason) for p in e.problems]


def same(a: object, b: object) -> bool:
    if isinstance(a, pl.DataFrame) and isinstance(b, pl.DataFrame):
        return a.schema == b.schema and a.equals(b, null_equal=True)
    return a == b


# --- clean_strings / scan_csv -------------------------------------------------------------

CELLS = [
    "x",
    " x ",
    "",
    " ",
    "\t",
    "NA",
    " NA ",
    "N/A",
    "na",
    "null",
    " NULL\t",
    "None",
    "#MULTIVALUE",
    "?",
    " ? ",
    "\u00a0NS\u3000",
    "\u2003 value \u2003",
    "INC0001",
    "2025-03-01T09:00:00Z",
    " 2025-03-01T09:00:00Z ",
    "a long value with spaces inside it",
    "\u00e9t\u00e9",
    None,
]


@pytest.mark.parametrize("offset", range(0, len(CELLS), 3))
def test_clean_strings_matches_the_old_one(offset: int) -> None:
    values = CELLS[offset:] + CELLS[:offset]
    df = pl.DataFrame(
        {
            "a": values,
            "b": [None] * len(values),
            "c": ["plain"] * len(values),
            "n": list(range(len(values))),
        },
        schema={"a": pl.String, "b": pl.String, "c": pl.String, "n": pl.Int64},
    )
    assert same(clean_strings(df), old_clean_strings(df))
    assert same(clean_strings(df.clear()), old_clean_strings(df.clear()))


def test_clean_strings_strips_every_unicode_space_as_before() -> None:
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    df = pl.DataFrame({"a": [f"{c}NA{c}" for c in chars[:70_000]] + chars})
    assert same(clean_strings(df), old_clean_strings(df))


RAGGED = b"id,when,who\n1,a,b,c\n"
CSV_FILES: list[bytes] = [
    b"id,when,who\n1,2025-01-01,x\n2, 2025-01-02 ,NA\n3,,?\n",
    b"\xef\xbb\xbfid,when,who\r\n1,2025-01-01,x\r\n",  # a byte-order mark, CRLF
    b"id,when,who\n1,\xff\xfe,x\n2,ok,y\n",  # invalid UTF-8: read lossily, as before
    b"id,when,who\n",  # header only
    RAGGED,
    b'id,when,who\n"1\n2",a,b\n3," NULL ",c\n',  # a record over two lines
    b"_row,id,when,who\n9,1,a,b\n",  # a column named like the row number
    b"id,when,who\n"
    + b"".join(b"%d, v%d ,%s\n" % (i, i, b"N/A" if i % 7 else b"") for i in range(5000)),
    b"id;when;who\n1;a;b\n",  # not comma-separated: the columns are not found
    b'id,when,who\n1,"unclosed,x\n',
]


@pytest.mark.parametrize("data", CSV_FILES, ids=range(len(CSV_FILES)))
@pytest.mark.parametrize("as_path", [False, True])
def test_scan_csv_matches_the_old_one(data: bytes, as_path: bool, tmp_path: Path) -> None:
    columns = {"ticket_id": "id", "opened_at": "when", "group": "who"}
    if as_path:
        path = tmp_path / "export.csv"
        path.write_bytes(data)

        def opened() -> Opened:
            return open_source(path, None)
    else:

        def opened() -> Opened:
            return open_source(io.BytesIO(data), "upload.csv")

    new = outcome(scan_csv, opened(), columns, Problems("f.csv"))
    old = outcome(old_scan_csv, opened(), columns, Problems("f.csv"))
    if data == RAGGED:  # refused as before, and now the row is named
        assert new == [("f.csv", 2, None, "this row has 4 fields, the header 3")], new
        return
    assert same(new, old), (new, old)
    subset = {"opened_at": "when"}
    new = outcome(scan_csv, opened(), subset, Problems("f.csv"))
    old = outcome(old_scan_csv, opened(), subset, Problems("f.csv"))
    assert same(new, old), (new, old)


# --- map_priority -------------------------------------------------------------------------


def old_map_priority(
    df: pl.DataFrame,
    table: Mapping[str, str | None],
    problems: Problems,
    warnings: list[str],
    label: str,
    hint: str,
) -> pl.DataFrame:
    if "priority_raw" not in df.columns:
        return df.with_columns(
            pl.lit(None, pl.String).alias("priority_raw"), pl.lit(None, pl.String).alias("priority")
        )
    known = pl.Series(list(table.keys()), dtype=pl.String).implode()
    key = pkey(pl.col("priority_raw"))
    mapped = key.replace_strict(dict(table), default=None, return_dtype=pl.String)
    df = df.with_columns(
        mapped.alias("priority"),
        (pl.col("priority_raw").is_not_null() & ~key.is_in(known)).alias("__unknown"),
    )
    bad = df.filter(pl.col("__unknown")).head(problems.room)
    for row, value in bad.select(ROW, "priority_raw").iter_rows():
        problems.add(row, label, f"unknown priority '{value}' ({hint})")
    unmapped = (
        df.filter(pl.col("priority_raw").is_not_null() & pl.col("priority").is_null())
        .filter(~pl.col("__unknown"))
        .group_by("priority_raw")
        .agg(pl.len(), pl.col(ROW).min())
        .sort(ROW)
    )
    for value, n, row in unmapped.iter_rows():
        warnings.append(
            f"{label}: {n} ticket(s) have priority '{value}' (first on row {row}), which is "
            "none of P1-P4: their priority is left empty and no priority target applies"
        )
    return df.drop("__unknown")


RAW_PRIORITIES = [
    "P1",
    "p2",
    "3",
    "1 - Critical",
    "2  -  HIGH",
    "4 - Low",
    "Planning",
    "planning",
    "Urgent",
    "urgent",
    "5",
    None,
    "\u0130stanbul",
    "\u03a3\u039f\u03a3",
]


def priority_outcome(function: Callable[..., pl.DataFrame], df: pl.DataFrame, limit: int) -> object:
    problems, warnings = Problems("f.csv", limit=limit), list[str]()
    table = user_priority_table(PRIORITIES, {"Planning": None, "P0 - now": "P1"})
    frame = function(df, table, problems, warnings, "Priority", "expected P1-P4")
    found = [(p.file, p.row, p.column, p.reason) for p in problems.items]
    return frame, found, problems.truncated, warnings


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_map_priority_matches_the_old_one(seed: int, limit: int) -> None:
    n = [0, 1, 5, 40, 400, 3000][seed]
    raw = pl.Series(RAW_PRIORITIES).sample(n, with_replacement=True, seed=seed)
    if seed == 1:
        raw = pl.Series([None], dtype=pl.String)
    df = pl.DataFrame({"ticket_id": [f"T{i}" for i in range(n)], "priority_raw": raw})
    df = df.with_row_index(ROW, offset=2)
    new = priority_outcome(map_priority, df, limit)
    old = priority_outcome(old_map_priority, df, limit)
    assert same(new[0], old[0]) and new[1:] == old[1:], (new, old)  # type: ignore[index]
    known_only = df.filter(pl.col("priority_raw").is_in(["P1", "p2", "3"]))
    new = priority_outcome(map_priority, known_only, limit)
    old = priority_outcome(old_map_priority, known_only, limit)
    assert same(new[0], old[0]) and new[1:] == old[1:]  # type: ignore[index]
    as_written = df.filter(
        pl.col("priority_raw").eq_missing("P1") | pl.col("priority_raw").is_null()
    )
    new = priority_outcome(map_priority, as_written, limit)  # each raw value its own priority
    old = priority_outcome(old_map_priority, as_written, limit)
    assert same(new[0], old[0]) and new[1:] == old[1:]  # type: ignore[index]
    without = df.drop("priority_raw")
    new = priority_outcome(map_priority, without, limit)
    old = priority_outcome(old_map_priority, without, limit)
    assert same(new[0], old[0]) and new[1:] == old[1:]  # type: ignore[index]


# --- check_holds --------------------------------------------------------------------------


def old_check_holds(
    holds: pl.DataFrame,
    tickets: pl.DataFrame | None,
    problems: Problems,
    labels: Mapping[str, str],
) -> None:
    def lab(c: str) -> str:
        return labels.get(c, c)

    bad = holds.filter(pl.col("end") < pl.col("start")).head(problems.room)
    for row, s, e in bad.select(ROW, "start", "end").iter_rows():
        problems.add(
            row,
            lab("end"),
            f"hold ends at {e:%Y-%m-%d %H:%M:%S} UTC, before it starts ({s:%Y-%m-%d %H:%M:%S} UTC)",
        )
    if tickets is None:
        return
    j = holds.join(
        tickets.select("ticket_id", "opened_at", "resolved_at", pl.lit(True).alias("__known")),
        on="ticket_id",
        how="left",
    )
    for row, tid in (
        j.filter(pl.col("__known").is_null())
        .select(ROW, "ticket_id")
        .head(problems.room)
        .iter_rows()
    ):
        problems.add(
            row, lab("ticket_id"), f"hold for ticket '{tid}', which is not among the tickets"
        )
    before = j.filter(pl.col("start") < pl.col("opened_at")).head(problems.room)
    for row, s, o in before.select(ROW, "start", "opened_at").iter_rows():
        problems.add(
            row,
            lab("start"),
            f"hold starts at {s:%Y-%m-%d %H:%M:%S} UTC, before its ticket opened "
            f"({o:%Y-%m-%d %H:%M:%S} UTC)",
        )
    after = j.filter(
        pl.col("resolved_at").is_not_null()
        & (pl.col("end").is_null() | (pl.col("end") > pl.col("resolved_at")))
    ).head(problems.room)
    for row, e, r in after.select(ROW, "end", "resolved_at").iter_rows():
        when = "is still open" if e is None else f"ends at {e:%Y-%m-%d %H:%M:%S} UTC"
        problems.add(
            row,
            lab("end"),
            f"hold {when}, after its ticket was resolved ({r:%Y-%m-%d %H:%M:%S} UTC)",
        )


def random_tickets_and_holds(seed: int, n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tickets (ids in order unless the seed says otherwise) and holds, a few of them bad:
    ending before they start, for unknown or null tickets, before opening, after resolution."""
    rng = np.random.default_rng(seed)
    base = 1_735_689_600_000_000  # 2025-01-01, microseconds
    hour = 3_600_000_000
    opened = base + rng.integers(0, 1000, n) * hour
    resolved = np.where(rng.random(n) < 0.2, -1, opened + rng.integers(1, 50, n) * hour)
    ids = [f"T{i:05d}" for i in range(n)]
    if seed % 3 == 1:
        ids = [ids[i] for i in rng.permutation(n)]  # not in order: the join
    if seed % 3 == 2 and n > 2:
        ids[-1] = ids[0]  # a duplicate id: the join
    utc = pl.Datetime("us", "UTC")
    tickets = pl.DataFrame(
        {
            "ticket_id": ids,
            "opened_at": pl.Series(opened).cast(utc),
            "resolved_at": pl.Series(resolved).cast(utc),
        }
    ).with_columns(pl.when(pl.col("resolved_at").dt.epoch("us") >= 0).then(pl.col("resolved_at")))
    m = 3 * n
    owner = np.sort(rng.integers(0, n + 5, m)) if seed % 2 else rng.integers(0, n + 5, m)
    names = [f"T{i:05d}" if i < n else f"X{i}" for i in owner]
    if m > 4:
        names[3] = None  # type: ignore[call-overload]
    start = opened[np.minimum(owner, n - 1)] + rng.integers(-2, 40, m) * hour
    end = start + rng.integers(-1, 20, m) * hour
    holds = pl.DataFrame(
        {
            "ticket_id": pl.Series(names, dtype=pl.String),
            "start": pl.Series(start).cast(utc),
            "end": pl.Series(end).cast(utc),
        }
    ).with_columns(pl.when(pl.Series(rng.random(m) > 0.1)).then(pl.col("end")).alias("end"))
    return tickets, holds.with_row_index(ROW, offset=2)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_check_holds_matches_the_old_one(seed: int, limit: int) -> None:
    n = [1, 2, 3, 10, 50, 300][seed % 6]
    tickets, holds = random_tickets_and_holds(seed, n)
    labels = {"end": "End", "ticket_id": "Ticket"}
    for some_tickets in (tickets, None, tickets.clear(), tickets.head(1)):
        for some_holds in (holds, holds.clear(), holds.head(1)):
            found = []
            for function in (check_holds, old_check_holds):
                problems = Problems("holds.csv", limit=limit)
                function(some_holds, some_tickets, problems, labels)
                found.append((problems.items, problems.truncated))
            assert found[0] == found[1]


def test_check_holds_finds_every_kind_of_bad_hold() -> None:
    tickets, holds = random_tickets_and_holds(0, 300)
    problems = Problems("holds.csv")
    check_holds(holds, tickets, problems, {})
    reasons = " ".join(p.reason for p in problems.items)
    for words in ("before it starts", "not among", "'None'", "before its ticket opened"):
        assert words in reasons
    assert "after its ticket was resolved" in reasons and "is still open" in reasons


# --- finish_tickets -----------------------------------------------------------------------


def old_finish_tickets(
    df: pl.DataFrame,
    problems: Problems,
    labels: Mapping[str, str],
    *,
    keep_text: bool,
    check_duplicates: bool = True,
) -> pl.DataFrame:
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
    if check_duplicates:
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


def parsed_tickets(seed: int, n: int) -> pl.DataFrame:
    """Rows as the readers hand them to finish_tickets, with the odd problem by seed."""
    tickets, _ = random_tickets_and_holds(seed, n)
    rng = np.random.default_rng(seed)
    ids = tickets["ticket_id"].to_list()
    if seed % 4 == 3 and n > 3:
        ids[1] = None
    if seed % 5 == 4 and n > 3:
        ids[2] = ids[1] = ids[n - 1]
    df = tickets.with_columns(
        pl.Series("ticket_id", ids, dtype=pl.String),
        (pl.col("opened_at") + pl.duration(hours=pl.lit(pl.Series(rng.integers(-3, 30, n))))).alias(
            "responded_at"
        ),
        pl.lit("P3").alias("priority"),
    ).with_row_index(ROW, offset=2)
    return mark_missing(df)


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("limit", [1, 5, 1000])
def test_finish_tickets_matches_the_old_one(seed: int, limit: int) -> None:
    n = [1, 2, 4, 10, 60, 500][seed % 6]
    df = parsed_tickets(seed, n)
    for frame in (df, df.filter(pl.col("responded_at") >= pl.col("opened_at"))):
        for keep_text, check_duplicates in ((False, True), (True, True), (False, False)):
            found = []
            for function in (finish_tickets, old_finish_tickets):
                problems = Problems("tickets.csv", limit=limit)
                run = partial(function, keep_text=keep_text, check_duplicates=check_duplicates)
                result = outcome(run, frame, problems, {"ticket_id": "Number"})
                found.append((result, problems.items, problems.truncated))
            assert same(found[0][0], found[1][0]) and found[0][1:] == found[1][1:]


def test_finish_tickets_reports_duplicates_in_or_out_of_order() -> None:
    for ids in (["A", "B", "B", "C"], ["C", "B", "A", "B"], ["A", None, "A", "B"]):
        df = mark_missing(
            pl.DataFrame(
                {"ticket_id": ids, "opened_at": [datetime(2025, 1, 1, tzinfo=UTC)] * 4},
                schema={"ticket_id": pl.String, "opened_at": pl.Datetime("us", "UTC")},
            ).with_row_index(ROW, offset=2)
        )
        problems = Problems("t.csv")
        with pytest.raises(IngestError):
            finish_tickets(df, problems, {}, keep_text=False)
        assert any("duplicate ticket id" in p.reason for p in problems.items)


# --- parse_instants -------------------------------------------------------------------------

_OLD_ISO_FAST = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"
)


def old_fast_front(values: pl.DataFrame) -> pl.DataFrame:
    """The ISO values read by slicing the strings (the path before the bytes were read)."""
    value = pl.col("raw")

    def part(start: int, length: int) -> pl.Expr:
        return value.str.slice(start, length).cast(pl.Int64, strict=False)

    parts = values.select(
        value.str.contains(_OLD_ISO_FAST).fill_null(False).alias("shape"),
        value.str.len_bytes().alias("length"),
        part(0, 4).alias("year"),
        part(5, 2).alias("month"),
        part(8, 2).alias("day"),
        part(11, 2).alias("hour"),
        part(14, 2).alias("minute"),
        part(17, 2).alias("second"),
    )
    year, month, day = pl.col("year"), pl.col("month"), pl.col("day")
    hour, minute, second = pl.col("hour"), pl.col("minute"), pl.col("second")
    index = (year.clip(0, 9_999) * 12 + month.clip(1, 12) - 1).fill_null(0)
    starts = pl.lit(pl.Series(_month_starts().astype(np.int64)))
    first, following = starts.gather(index), starts.gather(index + 1)
    valid = (
        pl.col("shape")
        & month.is_between(1, 12)
        & day.is_between(1, following - first)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    seconds = (first + day - 1) * 86_400 + hour * 3_600 + minute * 60 + second
    length = pl.col("length")
    if bool((parts["length"] == 25).any()):
        east = part(20, 2) * 60 + part(23, 2)
        signed = pl.when(value.str.slice(19, 1) == "-").then(-east).otherwise(east)
        parts = parts.with_columns(values["raw"])
    else:
        signed = pl.lit(None, pl.Int64)
    offset = pl.when(length == 19).then(None).when(length == 20).then(0).otherwise(signed)
    return parts.select(
        valid.fill_null(False).alias("fast"),
        (seconds * 1_000_000).cast(pl.Datetime("us")).alias("local"),
        offset.cast(pl.Int64).alias("offset"),
    )


def old_parse_column(values: pl.Series, fmt: DateFormat, timezone: str) -> pl.DataFrame:
    raw = values.rename("raw").to_frame()
    if fmt.regex == ISO.regex:
        front = old_fast_front(raw).with_columns(raw["raw"])
        general = front.select((pl.col("raw").is_not_null() & ~pl.col("fast")).arg_true())
        front = front.with_columns(
            pl.col("fast").alias("matched"), pl.col("offset").is_not_null().alias("has_tz")
        ).drop("fast")
    else:
        front = raw.select(
            "raw",
            pl.lit(False).alias("matched"),
            pl.lit(None, pl.Datetime("us")).alias("local"),
            pl.lit(None, pl.Int64).alias("offset"),
            pl.lit(False).alias("has_tz"),
        )
        general = raw.select(pl.col("raw").is_not_null().arg_true())
    rows = general.to_series()
    if len(rows):
        groups = raw[rows].select(pl.col("raw").str.extract_groups(fmt.regex).alias("groups"))
        read = groups.select(**_general_front("groups", fmt))
        front = front.with_columns(
            front[name].scatter(rows, read[name])
            for name in ("matched", "local", "offset", "has_tz")
        )
    local = pl.col("local")
    has_tz = pl.col("has_tz")
    aware = local.dt.replace_time_zone("UTC") - pl.duration(minutes=pl.col("offset"))
    if timezone == "UTC":
        naive = local.dt.replace_time_zone("UTC")
        gap = pl.lit(False)
        ambiguous = pl.lit(False)
    else:
        wall = pl.when(has_tz).then(None).otherwise(local)
        early = wall.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        late = wall.dt.replace_time_zone(timezone, ambiguous="latest", non_existent="null")
        naive = early.dt.convert_time_zone("UTC")
        gap = ~has_tz & local.is_not_null() & early.is_null()
        ambiguous = ~has_tz & (early != late).fill_null(False)
    utc = pl.when(has_tz).then(aware).otherwise(naive).dt.truncate("1s").cast(UTC_INSTANT)
    return front.select(
        utc.alias("utc"),
        (pl.col("raw").is_not_null() & ~pl.col("matched")).alias("nomatch"),
        (pl.col("matched") & local.is_null()).alias("invalid"),
        gap.alias("gap"),
        ambiguous.alias("ambiguous"),
    )


def old_parse_instants(
    df: pl.DataFrame,
    canonical: list[str],
    fmt: DateFormat,
    timezone: str,
    problems: Problems,
    warnings: list[str],
    labels: Mapping[str, str],
) -> pl.DataFrame:
    present = [c for c in canonical if c in df.columns]
    outs = []
    for c in present:
        parsed = old_parse_column(df[c], fmt, timezone)
        outs.append(parsed["utc"].alias(c))
        flags = parsed.select(pl.exclude("utc")).with_columns(df[ROW], df[c])
        label = labels.get(c, c)
        bad = flags.filter(pl.col("nomatch")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"cannot read '{value}' as a timestamp ({fmt.label})")
        bad = flags.filter(pl.col("invalid")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"'{value}' is not a valid date and time")
        bad = flags.filter(pl.col("gap")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(
                row, label, f"'{value}' does not exist in {timezone} (the clocks skip that hour)"
            )
        # The validation rules, row by row: an offset beyond 14:00 (or minutes past 59) on
        # a value of the format's shape, then an instant outside 1990-2100.
        offsets = set()
        for row, value, nomatch in flags.select(ROW, c, "nomatch").iter_rows():
            if value is None or nomatch:
                continue
            tz = re.search(r"[+-]([0-9]{2}):?([0-9]{2})?$", value.strip())
            if tz and (int(tz[1]) * 60 + int(tz[2] or 0) > 14 * 60 or int(tz[2] or 0) > 59):
                offsets.add(row)
                problems.add(row, label, f"'{value}' has a UTC offset beyond ±14:00")
        earliest, latest = datetime(1990, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC)
        outside = parsed.select(
            ((pl.col("utc") < earliest) | (pl.col("utc") >= latest)).fill_null(False)
        ).to_series()
        for row, value, out in zip(df[ROW], df[c], outside, strict=True):
            if out and row not in offsets:
                problems.add(row, label, f"'{value}' is outside the years 1990-2100")
        n_amb = int(flags["ambiguous"].sum())
        if n_amb:
            first = flags.filter(pl.col("ambiguous"))[ROW][0]
            warnings.append(
                f"{label}: {n_amb} time(s) occur twice in {timezone} when clocks fall back "
                f"(first on row {first}); read as the first occurrence"
            )
    return df.with_columns(outs)


#: Well-formed values of each fast length, and every byte of them replaced by an odd one:
#: digits' neighbours in ASCII, separators in the wrong place, spaces, letters, NUL, a
#: non-ASCII digit or letter (more bytes: another length), a sign.
_BASES = ["2024-02-29T23:59:59", "2024-02-29 23:59:59Z", "2024-10-27T01:30:00+05:30"]
_ODD = ["/", ":", "0", "9", "a", " ", "T", "Z", "z", "+", "-", "\x00", "\u00e9", "\u0663", "."]
TRICKY = [
    *_BASES,
    *(base[:i] + odd + base[i + 1 :] for base in _BASES for i in range(len(base)) for odd in _ODD),
    *(f"{y}-{m}-{d}T{h}:00:00{tz}" for y, m, d, h, tz in itertools.product(
        ["0000", "1900", "2000", "2023", "9999"], ["00", "01", "02", "04", "12", "13"],
        ["00", "01", "28", "29", "30", "31", "32"], ["00", "23", "24"],
        ["", "Z", "-00:00", "+14:00", "-99:59", "+ 1:00"],
    )),
    "2025-03-01T09:00:00\u00e9", "2025-03-01T09:00:\u00e9", "2025-03-01T09:00:0\u00e9",
    "", None, "NA", "2025-03-31T02:30:00", "2025-10-26T02:30:00",
]  # fmt: skip


def instants_outcome(
    function: Callable[..., pl.DataFrame], values: list[str | None], zone: str, limit: int
) -> object:
    df = pl.DataFrame(
        {ROW: range(2, len(values) + 2), "at": values, "other": values[::-1]},
        schema={ROW: pl.Int64, "at": pl.String, "other": pl.String},
    )
    problems, warnings = Problems("t.csv", limit=limit), list[str]()
    frame = function(df, ["at", "other", "absent"], ISO_8601, zone, problems, warnings, {})
    found = [(p.file, p.row, p.column, p.reason) for p in problems.items]
    return frame, found, problems.truncated, warnings


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
@pytest.mark.parametrize("limit", [3, 100_000])
def test_parse_instants_matches_the_old_one_on_tricky_bytes(zone: str, limit: int) -> None:
    new = instants_outcome(parse_instants, TRICKY, zone, limit)
    old = instants_outcome(old_parse_instants, TRICKY, zone, limit)
    assert same(new[0], old[0]) and new[1:] == old[1:]  # type: ignore[index]


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago"])
@pytest.mark.parametrize(
    "mix", ["one length", "one length and nulls", "lengths and nulls", "everything"]
)
def test_parse_instants_matches_the_old_one_over_many_blocks(zone: str, mix: str) -> None:
    rng = np.random.default_rng(7)
    seconds = rng.integers(0, 2_000_000_000, 150_000)
    good = pl.Series(seconds * 1_000_000).cast(pl.Datetime("us"))
    values = good.dt.to_string("%Y-%m-%dT%H:%M:%SZ")
    if mix == "one length and nulls":
        values = values.scatter(rng.integers(0, len(values), 5_000), None)
    elif mix != "one length":
        naive = good.dt.to_string("%Y-%m-%d %H:%M:%S")
        offset = good.dt.to_string("%Y-%m-%dT%H:%M:%S-03:00")
        pick = pl.Series(rng.integers(0, 4, len(values)))
        values = (
            pl.select(
                pl.when(pick == 0)
                .then(values)
                .when(pick == 1)
                .then(naive)
                .when(pick == 2)
                .then(offset)
                .otherwise(None)
            )
            .to_series()
            .cast(pl.String)
        )
    listed = values.to_list()
    if mix == "everything":
        for i, tricky in enumerate(TRICKY):
            listed[(i * 97) % len(listed)] = tricky
    new = instants_outcome(parse_instants, listed, zone, 1_000)
    old = instants_outcome(old_parse_instants, listed, zone, 1_000)
    assert same(new[0], old[0]) and new[1:] == old[1:]  # type: ignore[index]


# --- scan_csv(raw=...) + clean_iso --------------------------------------------------------

_PADS = [("", ""), (" ", ""), ("", " "), ("\t", "\t"), ("\u3000", "\u00a0"), ("\u2003", "")]
PADDED = [
    *(f"{left}{value}{right}" for i, value in enumerate(TRICKY[:400:7]) if value is not None
      for left, right in [_PADS[i % len(_PADS)]]),
    *MISSING, " NA ", "\u00a0null", "  ", "?", "", "2025-03-01T09:00:00Z",
]  # fmt: skip


def _csv(values: list[str]) -> bytes:
    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = ["id,start,end"]
    for i, value in enumerate(values):
        lines.append(f"{i},{quoted(value)},{quoted(values[-1 - i])}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("lossy", [False, True])
def test_clean_iso_after_a_raw_scan_matches_the_old_scan_and_parse(zone: str, lossy: bool) -> None:
    data = _csv(PADDED)
    if lossy:  # invalid UTF-8 somewhere: the scan's lossy path
        data = data.replace(b"0,", b"\xff,", 1)
    columns = {"ticket_id": "id", "start": "start", "end": "end"}
    names = ("start", "end")

    def new() -> object:
        opened = open_source(io.BytesIO(data), "h.csv")
        df = scan_csv(opened, columns, Problems("h.csv"), raw=names)
        df, fast = clean_iso(df, names)
        problems, warnings = Problems("h.csv", limit=100_000), list[str]()
        parsed = parse_instants(df, names, ISO_8601, zone, problems, warnings, {}, fast=fast)
        return df, parsed, [(p.row, p.column, p.reason) for p in problems.items], warnings

    def old() -> object:
        opened = open_source(io.BytesIO(data), "h.csv")
        df = old_scan_csv(opened, columns, Problems("h.csv"))
        problems, warnings = Problems("h.csv", limit=100_000), list[str]()
        parsed = old_parse_instants(df, list(names), ISO_8601, zone, problems, warnings, {})
        return df, parsed, [(p.row, p.column, p.reason) for p in problems.items], warnings

    got, expected = new(), old()
    assert same(got[0], expected[0]) and same(got[1], expected[1])  # type: ignore[index]
    assert got[2:] == expected[2:]  # type: ignore[index]
    assert any("cannot read" in reason for _, _, reason in got[2])  # type: ignore[index]


@pytest.mark.parametrize("data", CSV_FILES, ids=range(len(CSV_FILES)))
def test_a_raw_scan_then_clean_iso_matches_the_old_scan(data: bytes) -> None:
    columns = {"ticket_id": "id", "opened_at": "when", "group": "who"}
    new = outcome(scan_csv, open_source(io.BytesIO(data), "f.csv"), columns, Problems("f.csv"))
    raw = outcome(
        partial(scan_csv, raw=("opened_at",)),
        open_source(io.BytesIO(data), "f.csv"),
        columns,
        Problems("f.csv"),
    )
    if isinstance(raw, pl.DataFrame):
        raw = clean_iso(raw, ("opened_at", "absent"))[0]
    assert same(raw, new), (raw, new)
