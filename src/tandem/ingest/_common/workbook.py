"""XLSX workbooks: checked against the limits before openpyxl opens them, then read a row at
a time (openpyxl's read-only mode) up to the row limit.

A workbook is a ZIP archive of XML parts, and a few megabytes of it can expand to gigabytes
of XML: millions of rows, a shared-strings table openpyxl loads whole, one cell of a
gigabyte. :func:`guard_workbook` refuses those before openpyxl reads anything: the archive's
directory must be small, the sizes it declares within ``max_bytes``, and then every XML part
is read through once, in bounded chunks and stopping at ``max_bytes`` (the bytes actually
decompressed count, not the sizes declared, which may lie), counting each worksheet's rows
and the longest text between two tags. A part with a DTD is refused (no workbook has one).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

import polars as pl

from tandem.ingest._common.base import ROW
from tandem.ingest._common.sources import (
    ROWS_PER_CHECK,
    Opened,
    check_frame_limits,
    clean_strings,
)
from tandem.ingest.errors import Problems
from tandem.ingest.limits import (
    XLSX_MAX_ROWS,
    Limits,
    bytes_reason,
    columns_reason,
    rows_reason,
)

#: The largest ZIP directory accepted: a workbook lists a few dozen parts (a few KiB).
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
#: XML decompressed per step while checking a part.
_CHUNK = 4 * 1024 * 1024
#: A character of cell text takes at most this many bytes in XML (``&#x10FFFF;``).
_BYTES_PER_CHAR = 10
#: Room for the tag itself (a root element with its namespaces takes a few KiB).
_TAG_BYTES = 64 * 1024
_ROOT_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


def _target(opened: Opened) -> IO[bytes]:
    return opened.path.open("rb") if opened.path is not None else io.BytesIO(opened.data or b"")


def guard_workbook(opened: Opened, problems: Problems) -> None:
    """Refuse a workbook that would take openpyxl past the limits (module docstring)."""
    limits = opened.limits
    with _target(opened) as raw:
        _check_directory(raw, problems)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise problems.fail(None, None, f"not a readable XLSX workbook: {e}") from None
        with archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                listed = ", ".join(sorted(names)[:5]) or "nothing"
                reason = f"a ZIP archive, not an XLSX workbook (it holds {listed})"
                raise problems.fail(None, None, reason)
            parts = [i for i in archive.infolist() if i.filename.endswith((".xml", ".rels"))]
            declared = sum(i.file_size for i in parts)
            if declared > limits.max_bytes:
                what = "the workbook's XML (as its archive declares it)"
                raise problems.fail(None, None, bytes_reason(limits.max_bytes, what))
            total = 0
            for info in parts:
                total += _check_part(archive, info, limits, limits.max_bytes - total, problems)


def _check_directory(raw: IO[bytes], problems: Problems) -> None:
    """Read the ZIP's end-of-directory record (and its ZIP64 form) and refuse a directory
    over MAX_DIRECTORY_BYTES before ``zipfile`` builds an object per entry."""
    raw.seek(0, io.SEEK_END)
    size = raw.tell()
    span = min(size, 22 + 65_535)
    raw.seek(size - span)
    tail = raw.read(span)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise problems.fail(None, None, "not a readable XLSX workbook: no ZIP directory")
    entries, directory = struct.unpack_from("<HI", tail, at + 10)
    if (entries == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20:
        locator = tail[at - 20 : at]
        if locator[:4] == b"PK\x06\x07":
            (record_at,) = struct.unpack_from("<Q", locator, 8)
            raw.seek(record_at)
            record = raw.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                entries, directory = struct.unpack_from("<QQ", record, 32)
    if directory > MAX_DIRECTORY_BYTES:
        reason = (
            f"not a workbook: its ZIP directory is {directory:,} bytes ({entries:,} entries); "
            f"a workbook's is a few KiB"
        )
        raise problems.fail(None, None, reason)
    raw.seek(0)


def _check_part(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: Limits,
    room: int,
    problems: Problems,
) -> int:
    """Read one XML part through in bounded chunks; return its decompressed size. Refuse it
    past ``room`` bytes (what is left of ``max_bytes``), with a DTD, with text between two
    tags longer than ``max_cell_chars`` allows or, for a worksheet, with more rows than
    the limit."""
    sheet = info.filename.startswith("xl/worksheets/") and info.filename.count("/") == 2
    row_limit = limits.xlsx_rows + 1  # the header too
    cell_bytes = limits.max_cell_chars * _BYTES_PER_CHAR + _TAG_BYTES
    tag = b""
    total = rows = since = 0
    tail = b""
    try:
        with archive.open(info) as part:
            while True:
                limits.check_time(problems.file)
                chunk = part.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > room:
                    what = f"the workbook's XML (at {info.filename})"
                    raise problems.fail(
                        None, None, bytes_reason(limits.max_bytes, what) + "; stopped reading"
                    )
                window = tail + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    reason = f"not a workbook: {info.filename} declares a DTD"
                    raise problems.fail(None, None, reason)
                if sheet:
                    tag = tag or _row_tag(window)
                    rows += window.count(tag)
                    if rows > row_limit + 1:  # one may be <rowBreaks
                        reason = rows_reason(limits.xlsx_rows)
                        if limits.xlsx_rows < limits.max_rows:
                            reason += f" (a worksheet holds at most {XLSX_MAX_ROWS:,} rows)"
                        raise problems.fail(None, None, f"{reason}; stopped counting there")
                since, endless = _text_run(chunk, since, cell_bytes)
                if endless:
                    reason = (
                        f"a cell of more than {limits.max_cell_chars:,} characters (the limit) "
                        f"in {info.filename}; stopped reading there"
                    )
                    raise problems.fail(None, None, reason)
                tail = window[-16:]  # shorter than any tag counted: none counted twice
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise problems.fail(None, None, f"not a readable XLSX workbook: {e}") from None
    return total


def _row_tag(head: bytes) -> bytes:
    """How a row element starts in this sheet's XML, with its namespace prefix if any.
    Counting it also counts the one ``<rowBreaks`` a sheet may have: the limit allows it."""
    found = _ROOT_PREFIX.search(head)
    prefix = found.group(1) + b":" if found and found.group(1) else b""
    return b"<" + prefix + b"row"


def _text_run(chunk: bytes, since: int, longest: int) -> tuple[int, bool]:
    """Bytes since the last ``<`` after ``chunk`` (``since``: before it), and whether a run
    of ``longest`` bytes without one was seen: a probe every ``longest`` bytes, so any run
    of twice that is found, with a few look-ups per chunk."""
    first = chunk.find(b"<")
    if first < 0:
        return since + len(chunk), since + len(chunk) >= longest
    if since + first >= longest:
        return 0, True
    for at in range(first, len(chunk) - longest + 1, longest):
        if chunk.find(b"<", at + 1, at + 1 + longest) < 0:
            return 0, True
    return len(chunk) - chunk.rfind(b"<") - 1, False


# --- Reading ---------------------------------------------------------------------------


def _workbook(opened: Opened, problems: Problems) -> Any:
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    if not opened.checked:
        guard_workbook(opened, problems)
        opened.checked = True
    opened.limits.check_time(opened.name)
    target = opened.path if opened.path is not None else io.BytesIO(opened.data or b"")
    try:
        return openpyxl.load_workbook(target, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as e:
        raise problems.fail(None, None, f"not a readable XLSX workbook: {e}") from None


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(ws: Any, limits: Limits, problems: Problems) -> list[str]:
    rows: Iterator[tuple[object, ...]] = ws.iter_rows(
        min_row=1, max_row=1, max_col=limits.max_columns + 1, values_only=True
    )
    cells = list(next(rows, ()))
    while cells and cells[-1] is None:
        cells.pop()
    if len(cells) > limits.max_columns:
        raise problems.fail(1, None, columns_reason(None, limits.max_columns))
    return [_cell_text(v) or "" for v in cells]


def xlsx_header(opened: Opened, problems: Problems) -> list[str]:
    """The first sheet's header row (its trailing empty cells dropped)."""
    wb = _workbook(opened, problems)
    try:
        return _header(wb.worksheets[0], opened.limits, problems)
    finally:
        wb.close()


def read_xlsx(opened: Opened, columns: Mapping[str, str], problems: Problems) -> pl.DataFrame:
    """The first sheet's ``columns`` as strings, ``_row`` being the row as the spreadsheet
    numbers it (empty rows are skipped, not renumbered). Read-only mode streams the rows;
    reading stops one row past the limit."""
    limits = opened.limits
    wb = _workbook(opened, problems)
    try:
        ws = wb.worksheets[0]
        header = _header(ws, limits, problems)
        index = {c: header.index(col) for c, col in columns.items()}
        width = max(index.values(), default=0) + 1
        last = limits.xlsx_rows + 2  # the header, the limit, and one more
        numbers: list[int] = []
        data: dict[str, list[str | None]] = {c: [] for c in columns}
        rows = ws.iter_rows(min_row=2, max_row=last, max_col=width, values_only=True)
        for number, row in enumerate(rows, start=2):
            if not number & ROWS_PER_CHECK:
                limits.check_time(opened.name)
            if all(v is None for v in row):
                continue
            if number >= last:
                raise problems.fail(None, None, rows_reason(limits.xlsx_rows))
            numbers.append(number)
            for c, i in index.items():
                data[c].append(_cell_text(row[i]) if i < len(row) else None)
    finally:
        wb.close()
    df = pl.DataFrame(data, schema={c: pl.String for c in columns})
    df = df.with_columns(pl.Series(ROW, numbers, dtype=pl.get_index_type())).select(ROW, *columns)
    opened.nul = False  # XML holds no NUL character
    check_frame_limits(df, opened, problems, columns)
    return clean_strings(df)
