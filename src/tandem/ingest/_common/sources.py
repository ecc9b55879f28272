"""Opening exports: size, bytes or text, CSV headers and column resolution."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import polars as pl

from tandem.ingest._common.base import MISSING, ROW, SNIFF_BYTES, Source
from tandem.ingest.errors import IngestError, Problems
from tandem.ingest.limits import (
    DEFAULT_LIMITS,
    MAX_HEADER_BYTES,
    SPLIT,
    Limits,
    bytes_reason,
    cell_reason,
    columns_reason,
    rows_reason,
)
from tandem.ingest.validation import check_nul

# --- Sources ----------------------------------------------------------------------------


@dataclass
class Opened:
    """A source opened once: a path Polars scans itself, or the bytes of a stream.

    A gzip-compressed file is decompressed (in bounded chunks, up to ``limits.max_bytes``)
    into a temporary file, ``spill``, which ``path`` then names; it is removed when the
    ``Opened`` is dropped."""

    name: str
    path: Path | None
    data: bytes | None
    head: bytes  # the first SNIFF_BYTES, extended to the end of the header row
    limits: Limits = DEFAULT_LIMITS
    spill: Any = None  # the temporary file holding a decompressed gzip file
    checked: bool = False  # a workbook whose parts guard_workbook has checked
    lines: int = 0  # line ends in a decompressed gzip file (0: not counted)
    nul: bool = True  # False once the file is known to hold no NUL byte

    def scan_target(self) -> Path | io.BytesIO:
        if self.path is not None:
            return self.path
        assert self.data is not None
        return io.BytesIO(self.data)


GZIP_MAGIC = b"\x1f\x8b"
#: Bytes decompressed (and read) per step: the most a gzip file holds in memory at once.
_CHUNK = 4 * 1024 * 1024
#: Loops that read a row at a time (csv module, openpyxl) look at the clock (``Limits.deadline``)
#: at every row number ``n`` with ``n & ROWS_PER_CHECK == 0``: every 4,096 rows (a mask: 2**k - 1).
ROWS_PER_CHECK = 4095


def open_source(
    source: Source,
    file_name: str | None,
    limits: Limits | None = None,
    *,
    head_only: bool = False,
) -> Opened:
    """Open ``source`` without reading a path into memory; a stream is read exactly once
    (at most ``limits.max_bytes`` of it). A file larger than that is refused here; a gzip
    file is decompressed, and refused as soon as it expands past it. ``head_only``: only
    the head is needed (format detection): a gzip file is decompressed no further."""
    limits = limits or DEFAULT_LIMITS
    if isinstance(source, str | Path):
        path = Path(source)
        name = file_name or path.name
        if not path.is_file():
            raise IngestError(Problems(name).fail(None, None, "file not found").problems)
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            if head[:2] == GZIP_MAGIC:
                f.seek(0)
                return _gunzip(f, name, limits, head_only=head_only)
            _check_file_size(path.stat().st_size, name, limits)
            head = _header_head(head, f)
        return Opened(name, path, None, head, limits)
    name = Path(file_name or str(getattr(source, "name", "") or "upload")).name
    data = source.read(limits.max_bytes + 1)
    _check_file_size(len(data), name, limits, read=True)
    if data[:2] == GZIP_MAGIC:
        return _gunzip(io.BytesIO(data), name, limits, head_only=head_only)
    return Opened(name, None, data, _header_head(data[:SNIFF_BYTES], io.BytesIO(data)), limits)


def _check_file_size(size: int, name: str, limits: Limits, *, read: bool = False) -> None:
    """``size``: the file's size, or (``read``) what was read of a stream: one byte over."""
    if size > limits.max_bytes:
        if read:
            reason = f"the file is more than {limits.max_bytes:,} bytes (the limit); {SPLIT}"
        else:
            reason = (
                f"the file is {size:,} bytes, over the limit of {limits.max_bytes:,} bytes; {SPLIT}"
            )
        raise Problems(name).fail(None, None, reason)


def _header_head(head: bytes, rest: IO[bytes]) -> bytes:
    """``head`` (the first SNIFF_BYTES), extended up to MAX_HEADER_BYTES until it holds the
    end of the first line, so that a long header row is read whole. ``rest`` is positioned
    just after ``head`` (or at its start, for bytes: it is read from SNIFF_BYTES)."""
    if len(head) < SNIFF_BYTES or b"\n" in head or head[:4] == b"PK\x03\x04":
        return head
    rest.seek(len(head))
    parts = [head]
    size = len(head)
    while size < MAX_HEADER_BYTES:
        more = rest.read(min(SNIFF_BYTES, MAX_HEADER_BYTES - size))
        if not more:
            break
        parts.append(more)
        size += len(more)
        if b"\n" in more:
            break
    return b"".join(parts)


def _gunzip(raw: IO[bytes], name: str, limits: Limits, *, head_only: bool) -> Opened:
    """Decompress a gzip file (one or more members) in chunks of at most ``_CHUNK`` bytes.

    A first pass only counts: it stops with a problem past ``limits.max_bytes`` (however
    small the compressed file), or at once when the first bytes are not text (a bomb of
    zeros), and writes nothing. Only a file within the limit is decompressed again, into a
    temporary file that Polars then scans: Polars never sees an unbounded stream."""
    head = bytearray()
    total = lines = 0
    for out in _inflate(raw, name, limits, partial=head_only):
        total += len(out)
        lines += out.count(b"\n")
        if len(head) < MAX_HEADER_BYTES:
            head += out[: MAX_HEADER_BYTES - len(head)]
            if b"\x00" in head[:SNIFF_BYTES]:
                raise Problems(name).fail(None, None, "not a text file (binary data: NUL bytes)")
        if head_only and (
            len(head) >= MAX_HEADER_BYTES or (len(head) >= SNIFF_BYTES and b"\n" in head)
        ):
            break
    data = bytes(head)
    first = _header_head(data[:SNIFF_BYTES], io.BytesIO(data))
    if head_only:
        return Opened(name, None, data, first, limits)
    raw.seek(0)
    # removed when closed or dropped: it lives as long as the Opened that names it
    spill = tempfile.NamedTemporaryFile(prefix="tandem-", suffix=".csv")  # noqa: SIM115
    try:
        for out in _inflate(raw, name, limits, partial=False):
            spill.write(out)
        spill.flush()
    except BaseException:
        spill.close()
        raise
    return Opened(name, Path(spill.name), None, first, limits, spill, lines=lines)


def _inflate(raw: IO[bytes], name: str, limits: Limits, *, partial: bool) -> Iterator[bytes]:
    """The decompressed bytes of ``raw`` in chunks of at most ``_CHUNK``; a problem past
    ``limits.max_bytes``, for a damaged file, or (unless ``partial``) a truncated one."""
    problems = Problems(name)
    inflate = zlib.decompressobj(wbits=31)
    in_member = False
    pending = b""
    total = 0
    while True:
        limits.check_time(name)
        if not pending:
            pending = raw.read(_CHUNK)
            if not pending:
                break
        try:
            out = inflate.decompress(pending, _CHUNK)
        except zlib.error as e:
            raise problems.fail(None, None, f"not a readable gzip file ({e})") from None
        in_member = True
        if inflate.eof:
            pending, in_member = inflate.unused_data, False
            inflate = zlib.decompressobj(wbits=31)
        else:
            pending = inflate.unconsumed_tail
        total += len(out)
        if total > limits.max_bytes:
            what = "decompressed, the file"
            reason = bytes_reason(limits.max_bytes, what) + f"; stopped after {total:,} bytes"
            raise problems.fail(None, None, reason)
        yield out
    if in_member and not partial:
        raise problems.fail(None, None, "the gzip file is truncated (it ends mid-stream)")


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


def read_header(opened: Opened, problems: Problems) -> list[str]:
    """The header row of a CSV file, refused when it is no text (see :func:`check_text`), has
    more columns than ``max_columns``, a name longer than ``max_cell_chars``, or does not end
    within MAX_HEADER_BYTES."""
    limits = opened.limits
    header = csv_header(check_text(opened, problems))
    if len(header) > limits.max_columns:
        more = len(opened.head) >= MAX_HEADER_BYTES and b"\n" not in opened.head
        raise problems.fail(
            1, None, columns_reason(None if more else len(header), limits.max_columns)
        )
    if len(opened.head) >= MAX_HEADER_BYTES and b"\n" not in opened.head:
        reason = f"the header row does not end within its first {MAX_HEADER_BYTES:,} bytes"
        raise problems.fail(1, None, reason)
    for name in header:
        if len(name) > limits.max_cell_chars:
            reason = "a column name: " + cell_reason(len(name), limits.max_cell_chars)
            raise problems.fail(1, None, reason)
    _check_line_lengths(opened, len(header), problems)
    return header


def _check_line_lengths(opened: Opened, columns: int, problems: Problems) -> None:
    """Refuse a line longer than ``columns`` cells of ``max_cell_chars`` characters can be
    (four bytes each, quoted, with their commas) before Polars reads the file: one endless
    line would hold a reader for minutes. One pass in chunks of ``_CHUNK`` bytes (nothing
    mapped, so nothing counts towards memory), a probe every ``longest`` bytes looking for
    a line end within the next ``longest``: a line of twice ``longest`` cannot escape them.
    The same pass notes whether the file holds a NUL byte at all."""
    longest = max(columns, 1) * (opened.limits.max_cell_chars * 4 + 3)
    if opened.path is not None:
        nul = False
        since = offset = 0
        buffer = bytearray(_CHUNK)  # reused: no fresh pages to fault in for every chunk
        with opened.path.open("rb") as f:
            while size := f.readinto(buffer):
                opened.limits.check_time(opened.name)
                chunk = buffer if size == _CHUNK else buffer[:size]
                nul = nul or b"\x00" in chunk
                since, at = _run_without(chunk, since, longest)
                if at is not None:
                    f.seek(0)
                    _refuse_line(f.read(offset + at), longest, problems)
                offset += len(chunk)
        opened.nul = nul
    elif opened.data is not None:
        opened.nul = b"\x00" in opened.data
        since, at = _run_without(opened.data, 0, longest)
        if at is not None:
            _refuse_line(opened.data[:at], longest, problems)


def _run_without(chunk: bytes | bytearray, since: int, longest: int) -> tuple[int, int | None]:
    """Bytes since the last line end after ``chunk`` (``since``: before it), and where in
    ``chunk`` a run of ``longest`` bytes without one was seen (None: not seen)."""
    first = chunk.find(b"\n")
    if first < 0:
        since += len(chunk)
        return since, (len(chunk) if since >= longest else None)
    if since + first >= longest:
        return 0, first
    for at in range(first, len(chunk) - longest, longest):
        if chunk.find(b"\n", at + 1, at + 1 + longest) < 0:
            return 0, at + 1
    return len(chunk) - chunk.rfind(b"\n") - 1, None


def _refuse_line(before: bytes, longest: int, problems: Problems) -> None:
    """``before``: the file up to where the long line was seen."""
    reason = (
        f"this line is longer than {longest:,} bytes, more than the file's columns can hold "
        "within the cell limit; stopped reading there"
    )
    raise problems.fail(before.count(b"\n") + 1, None, reason)


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
    its fast path cannot read (cleaning a million values costs more than reading them).
    Polars' scan cannot be interrupted: ``limits.deadline`` is looked at before and after."""
    opened.limits.check_time(opened.name)
    try:
        # Fast path: strict UTF-8 (lossy decoding costs about a third of the scan) and the
        # row numbers counted by the reader itself, the values stripped in the same query.
        # Valid UTF-8 reads the same either way; anything this path cannot read (invalid
        # UTF-8, a file column named like ROW, ...) is read again the old way, below, so
        # the result or the problem reported is exactly the old one.
        lazy = _lazy_csv(opened, "utf8", row_index=True)
        df = (
            lazy.select(
                pl.col(ROW),
                *[pl.col(col).alias(canonical) for canonical, col in columns.items()],
                *_last_column(lazy, columns),
            )
            .with_columns(_strip(pl.col(c)) for c in columns if c not in raw)
            .collect()
            .drop(_LAST, strict=False)
        )
    except pl.exceptions.PolarsError:
        df = None
    if df is not None and df.columns == [ROW, *columns] and df.schema[ROW] == pl.get_index_type():
        check_frame_limits(df, opened, problems, columns, raw)
        return _null_missing(df, raw)
    try:
        lazy = _lazy_csv(opened, "utf8-lossy", row_index=False)
        df = (
            lazy.select(
                *[pl.col(col).alias(canonical) for canonical, col in columns.items()],
                *_last_column(lazy, columns),
            )
            .with_row_index(ROW, offset=2)
            .collect()
            .drop(_LAST, strict=False)
        )
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        ragged = _first_ragged_row(opened)
        if ragged is not None:
            row, fields, expected = ragged
            reason = f"this row has {fields:,} fields, the header {expected:,}"
            raise problems.fail(row, None, reason) from None
        raise problems.fail(None, None, f"not a readable CSV file: {first}") from None
    check_frame_limits(df, opened, problems, columns, raw)
    return clean_strings(df, raw)


_LAST = "__last_column"


def _last_column(lazy: pl.LazyFrame, columns: Mapping[str, str]) -> list[pl.Expr]:
    """The file's last column too, when not read anyway: Polars refuses a row with more
    fields than the header only when the scan reads the last column (a ragged row)."""
    names = lazy.collect_schema().names()
    if not names or names[-1] in columns.values() or names[-1] == ROW:
        return []
    return [pl.col(names[-1]).alias(_LAST)]


def check_frame_limits(
    df: pl.DataFrame,
    opened: Opened,
    problems: Problems,
    labels: Mapping[str, str],
    raw: Collection[str] = (),
) -> None:
    """Refuse a frame just read with more rows than ``max_rows`` (readers read one more
    than that, and no further) or a cell longer than ``max_cell_chars``. Vectorized: the
    byte lengths of each column first (a string's bytes are never fewer than its
    characters), characters only where the bytes are over the limit."""
    limits = opened.limits
    limits.check_time(opened.name)  # after a scan: it may have run past the deadline
    if df.height > limits.max_rows:
        stopped = f"; stopped reading at row {limits.max_rows + 2:,}"
        raise problems.fail(None, None, rows_reason(limits.max_rows) + stopped)
    text = [c for c, t in df.schema.items() if t == pl.String]
    if not text or df.height == 0:
        return
    # Empty lines (every column read empty, the ticket id included, which every reader
    # requires): refused at once, before anything else is made of millions of them.
    empty = pl.all_horizontal(pl.col(c).is_null() for c in df.columns if c != ROW)
    if "ticket_id" in df.columns and df.select(empty.any()).item():
        for (row,) in df.filter(empty).select(ROW).head(problems.room).iter_rows():
            problems.add(row, None, "the row is empty in every column read (an empty line?)")
        problems.raise_if_any()
    if opened.nul:  # (``raw`` columns are timestamps: their parser refuses a NUL)
        check_nul(df.drop(raw, strict=False), problems, labels)
        problems.raise_if_any()
    longest = df.select(pl.col(c).str.len_bytes().max() for c in text).row(0)
    for c, size in zip(text, longest, strict=True):
        if size is None or size <= limits.max_cell_chars:
            continue
        chars = pl.col(c).str.len_chars()
        over = df.filter(chars > limits.max_cell_chars).head(1)
        if over.height:
            row, n = over.select(ROW, chars).row(0)
            raise problems.fail(row, labels.get(c, c), cell_reason(n, limits.max_cell_chars))


def _first_ragged_row(opened: Opened) -> tuple[int, int, int] | None:
    """(row, fields, header fields) of the first record with more fields than the header,
    read with the csv module; only after Polars refused the file, to say where. Stops at
    ``max_rows`` records; None when every record fits (Polars refused for another reason)."""
    limits = opened.limits
    field_limit = csv.field_size_limit()
    csv.field_size_limit(max(field_limit, limits.max_bytes))
    target = opened.scan_target()
    try:
        with (
            target if isinstance(target, io.BytesIO) else target.open("rb") as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text,
        ):
            records = csv.reader(text)
            expected = len(next(records, []))
            for row, record in enumerate(records, start=2):
                if not row & ROWS_PER_CHECK:
                    limits.check_time(opened.name)
                if len(record) > expected:
                    return row, len(record), expected
                if row > limits.max_rows + 1:
                    break
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(field_limit)
    return None


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
        # A file that may hold more rows than the limit (every row takes a byte at least):
        # read one row more than the limit and no further, for check_frame_limits to refuse.
        # Not for smaller files: with ``n_rows`` Polars drops a last row with an unclosed
        # quote instead of refusing the file.
        n_rows=opened.limits.max_rows + 1 if _size(opened) > opened.limits.max_rows else None,
    )


def _size(opened: Opened) -> int:
    if opened.path is not None:
        return opened.path.stat().st_size
    return len(opened.data or b"")


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
    limits: Limits | None = None,
) -> CsvExport:
    """Open ``source``, check the time zone, resolve the columns (``text_labels``: where the
    short description may be, only when free text is kept), report missing required columns,
    scan only the needed columns and refuse an empty file. Problems are collected, not raised."""
    from tandem.ingest._common.instants import check_timezone

    opened = open_source(source, file_name, limits)
    problems = Problems(opened.name)
    check_timezone(timezone, problems)
    header = read_header(opened, problems)
    wanted = dict(aliases)
    if text_labels is not None:
        wanted["short_description"] = text_labels
    columns = resolve_columns(header, wanted, mapping)
    require(columns, required, header, problems, expected_format)
    frame = scan_csv(opened, columns, problems)
    check_not_empty(frame, problems)
    return CsvExport(opened, problems, columns, frame)
