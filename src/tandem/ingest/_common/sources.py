"""Opening exports: size, bytes or text, CSV headers and column resolution."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from tandem.ingest._common.base import MISSING, ROW, SNIFF_BYTES, Source
from tandem.ingest.errors import IngestError, Problems

# --- Sources ----------------------------------------------------------------------------


@dataclass
class Opened:
    """A source opened once: a path Polars scans itself, or the bytes of a stream."""

    name: str
    path: Path | None
    data: bytes | None
    head: bytes  # the first SNIFF_BYTES

    def scan_target(self) -> Path | io.BytesIO:
        if self.path is not None:
            return self.path
        assert self.data is not None
        return io.BytesIO(self.data)


def open_source(source: Source, file_name: str | None) -> Opened:
    """Open ``source`` without reading a path into memory; a stream is read exactly once."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = file_name or path.name
        if not path.is_file():
            raise IngestError(Problems(name).fail(None, None, "file not found").problems)
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
        return Opened(name, path, None, head)
    data = source.read()
    name = file_name or str(getattr(source, "name", "") or "upload")
    return Opened(Path(name).name, None, data, data[:SNIFF_BYTES])


def check_size(path: Path, limit_bytes: int, *, file_name: str | None = None) -> None:
    """Refuse a file larger than ``limit_bytes`` before anything reads it.

    Call it before a reader on uploads: the readers themselves stream what they can (Polars
    scans only the columns they need), but a 12 GB export should be refused up front.
    """
    size = Path(path).stat().st_size
    if size > limit_bytes:
        name = file_name or Path(path).name
        reason = (
            f"file is {size:,} bytes, over the limit of {limit_bytes:,} bytes; "
            "split the export (for example by month) and import the parts"
        )
        raise IngestError(Problems(name).fail(None, None, reason).problems)


def is_xlsx(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def check_text(opened: Opened, problems: Problems) -> str:
    """The decoded head of a CSV file; raises on an empty file or binary junk."""
    head = opened.head
    if not head:
        raise problems.fail(None, None, "the file is empty (0 bytes)")
    if is_xlsx(head):
        raise problems.fail(None, None, "this is an XLSX workbook, not a CSV file")
    if b"\x00" in head:
        raise problems.fail(None, None, "not a text file (binary data: NUL bytes)")
    cut = head if len(head) < SNIFF_BYTES else head[:-4]
    try:
        text = cut.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:  # the cut may split a character: retry without the tail
            text = cut[: e.start].decode("utf-8-sig") if e.start > len(cut) - 4 else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            reason = f"not UTF-8 text (byte {e.start}): export the file as UTF-8 CSV"
            raise problems.fail(None, None, reason) from None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text[:4096])
    if printable < 0.95 * min(len(text), 4096):
        raise problems.fail(None, None, "not a text file (binary data)")
    return text


def csv_header(text: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []


def norm(name: str) -> str:
    """Column names compare without case, spaces, underscores or punctuation."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def resolve_columns(
    header: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    mapping: Mapping[str, str] | None,
) -> dict[str, str]:
    """Canonical name -> the file's column, for the canonical names found in ``header``.

    ``mapping`` (canonical -> file column) wins over the aliases; a canonical name mapped to
    ``""`` is not read at all, even when a column carries its name (the user said so).
    """
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(norm(h), h)
    found: dict[str, str] = {}
    for canonical, names in aliases.items():
        for n in (canonical, *names):
            if norm(n) in by_norm:
                found[canonical] = by_norm[norm(n)]
                break
    for canonical, column in (mapping or {}).items():
        if column == "":
            found.pop(canonical, None)
        elif column in header:
            found[canonical] = column
        elif norm(column) in by_norm:
            found[canonical] = by_norm[norm(column)]
        else:
            found[canonical] = column  # reported as missing by require()
    return found


def require(
    columns: dict[str, str],
    required: Iterable[tuple[str, str]],
    header: Sequence[str],
    problems: Problems,
    expected_format: str,
) -> None:
    """Report each required column (canonical, label) that is not in the file."""
    from tandem.ingest.detect import guess_from_header  # circular at import time

    missing = [
        (canonical, columns.get(canonical, label))
        for canonical, label in required
        if columns.get(canonical) not in header
    ]
    if not missing:
        return
    guess = guess_from_header(header)
    hint = ""
    if guess is not None and guess != expected_format and expected_format != "holds":
        hint = f"; this looks like a {FORMAT_NAMES[guess]} export (format '{guess}')"
    elif not header or len(header) == 1:
        hint = "; is this a comma-separated file?"
    for _, label in missing:
        problems.add(1, label, f"column '{label}' not found{hint}")
    problems.raise_if_any()


FORMAT_NAMES = {
    "generic": "generic CSV",
    "servicenow": "ServiceNow list",
    "servicenow-events": "ServiceNow event-log",
    "jira": "Jira Service Management",
    "glpi": "GLPI",
}


def scan_csv(
    opened: Opened,
    columns: Mapping[str, str],
    problems: Problems,
    *,
    raw: Collection[str] = (),
) -> pl.DataFrame:
    """Read only ``columns`` (canonical -> file column) as strings, renamed to canonical,
    with missing-value cells as nulls and a ``_row`` column (header = row 1).

    The columns named in ``raw`` are left as read (not stripped, missing-value cells kept):
    the caller cleans them, e.g. with ``instants.clean_iso``, which cleans only the values
    its fast path cannot read (cleaning a million values costs more than reading them)."""
    try:
        # Fast path: strict UTF-8 (lossy decoding costs about a third of the scan) and the
        # row numbers counted by the reader itself, the values stripped in the same query.
        # Valid UTF-8 reads the same either way; anything this path cannot read (invalid
        # UTF-8, a file column named like ROW, ...) is read again the old way, below, so
        # the result or the problem reported is exactly the old one.
        df = (
            _lazy_csv(opened, "utf8", row_index=True)
            .select(
                pl.col(ROW), *[pl.col(col).alias(canonical) for canonical, col in columns.items()]
            )
            .with_columns(_strip(pl.col(c)) for c in columns if c not in raw)
            .collect()
        )
    except pl.exceptions.PolarsError:
        df = None
    if df is not None and df.columns == [ROW, *columns] and df.schema[ROW] == pl.get_index_type():
        return _null_missing(df, raw)
    try:
        df = (
            _lazy_csv(opened, "utf8-lossy", row_index=False)
            .select([pl.col(col).alias(canonical) for canonical, col in columns.items()])
            .with_row_index(ROW, offset=2)
            .collect()
        )
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise problems.fail(None, None, f"not a readable CSV file: {first}") from None
    return clean_strings(df, raw)


def _lazy_csv(opened: Opened, encoding: str, *, row_index: bool) -> pl.LazyFrame:
    # the literal stays a literal for mypy's Literal-typed parameter
    enc: Literal["utf8", "utf8-lossy"] = "utf8" if encoding == "utf8" else "utf8-lossy"
    return pl.scan_csv(
        opened.scan_target(),
        infer_schema=False,
        glob=False,
        encoding=enc,
        raise_if_empty=False,
        row_index_name=ROW if row_index else None,
        row_index_offset=2,
    )


def _strip(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars()


def clean_strings(df: pl.DataFrame, raw: Collection[str] = ()) -> pl.DataFrame:
    """Strip every string column (but those in ``raw``) and null its missing-value cells
    (:data:`MISSING`)."""
    text = [c for c, t in df.schema.items() if t == pl.String and c not in raw]
    if not text:
        return df
    return _null_missing(df.with_columns(_strip(pl.col(c)) for c in text), raw)


def clean_values(values: pl.Series) -> pl.Series:
    """``values`` (strings) stripped, with missing-value cells (:data:`MISSING`) as nulls."""
    return (
        values.to_frame("v")
        .select(
            pl.when(_strip(pl.col("v")).is_in(MISSING)).then(None).otherwise(_strip(pl.col("v")))
        )
        .to_series()
        .rename(values.name)
    )


def _null_missing(df: pl.DataFrame, raw: Collection[str] = ()) -> pl.DataFrame:
    """Null the cells of stripped string columns (but those in ``raw``) that are in
    :data:`MISSING`; only the columns that have any are rewritten (a membership test is far
    cheaper than a rewrite)."""
    text = [c for c, t in df.schema.items() if t == pl.String and c not in raw]
    if not text or df.height == 0:
        return df
    found = df.select(pl.col(c).is_in(MISSING).any() for c in text).row(0)
    dirty = [c for c, any_missing in zip(text, found, strict=True) if any_missing]
    if not dirty:
        return df
    return df.with_columns(
        pl.when(pl.col(c).is_in(MISSING)).then(None).otherwise(pl.col(c)).alias(c) for c in dirty
    )


def check_not_empty(df: pl.DataFrame, problems: Problems) -> None:
    if df.height == 0:
        raise problems.fail(None, None, "the file has a header but no data rows")


@dataclass(frozen=True)
class CsvExport:
    """A CSV export opened and checked up to its columns: where every CSV reader starts."""

    opened: Opened
    problems: Problems
    columns: dict[str, str]
    frame: pl.DataFrame


def open_csv_export(
    source: Source,
    *,
    file_name: str | None,
    timezone: str,
    aliases: Mapping[str, tuple[str, ...]],
    mapping: Mapping[str, str] | None,
    required: Iterable[tuple[str, str]],
    expected_format: str,
    text_labels: tuple[str, ...] | None = None,
) -> CsvExport:
    """Open ``source``, check the time zone, resolve the columns (``text_labels``: where the
    short description may be, only when free text is kept), report missing required columns,
    scan only the needed columns and refuse an empty file. Problems are collected, not raised."""
    from tandem.ingest._common.instants import check_timezone

    opened = open_source(source, file_name)
    problems = Problems(opened.name)
    check_timezone(timezone, problems)
    header = csv_header(check_text(opened, problems))
    wanted = dict(aliases)
    if text_labels is not None:
        wanted["short_description"] = text_labels
    columns = resolve_columns(header, wanted, mapping)
    require(columns, required, header, problems, expected_format)
    frame = scan_csv(opened, columns, problems)
    check_not_empty(frame, problems)
    return CsvExport(opened, problems, columns, frame)
